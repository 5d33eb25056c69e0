/**
 * The two corners of a prior box that stress a Heston pricer most, used by the float32-vs-Float64
 * parity check: low mean reversion, low variances, the highest vol of vol and the most negative
 * correlation (a steep, skewed smile with deep-OTM prices near the float32 floor), and its mirror
 * (fast reversion, high variances, low vol of vol, the highest ρ: a flat, high-vol surface).
 */
import type { HestonParams, HestonPrior } from './params.ts';

export function stressCorners(prior: HestonPrior): [HestonParams, HestonParams] {
  return [
    { kappa: prior.kappa.lo, theta: prior.theta.lo, sigma: prior.sigma.hi, rho: prior.rho.lo, v0: prior.v0.lo },
    { kappa: prior.kappa.hi, theta: prior.theta.hi, sigma: prior.sigma.lo, rho: prior.rho.hi, v0: prior.v0.hi },
  ];
}
