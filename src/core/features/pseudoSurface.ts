/**
 * A pseudo-surface for an asset without options (seed II.5, done so the network sees what it was
 * trained on). The seed put rolling return moments in a [M, 4] "pseudo-matrix" and fed it to an
 * inverse network trained on IV surfaces — the network then reads numbers of another kind at
 * every input. Here the empirical distribution of the asset's h-step log returns (the last W
 * overlapping ones) is priced as a market pricing exactly that distribution would quote:
 *
 *   X = e^{R − c},  c = ln mean(e^R)          (risk-neutral: the forward is today's price, E[X] = 1)
 *   OTM price at k = ln(K/F):  call mean(max(X − e^k, 0)) for k ≥ 0, put mean(max(e^k − X, 0)) for k < 0
 *   IV: the Black–Scholes vol of that price at T = h·dtYears (normalisedImpliedStdDev, as the Heston
 *       surfaces are inverted), on the same (k, T) grid as the network's synthetic training set.
 *
 * A point with fewer than MIN_TAIL_SAMPLES returns beyond its strike is masked: its price would be
 * one or two observations, not a distribution. A flat window (no dispersion) is fully masked.
 */
import { normalisedImpliedStdDev } from '../heston/blackScholes.ts';
import type { HestonPrior } from '../heston/params.ts';

/** Returns needed beyond a strike for its price to count (fewer: the point is masked). */
export const MIN_TAIL_SAMPLES = 5;

/**
 * The bundled shitcoin network's grid (public/checkpoints/shitcoin-pseudo-heston.hlckpt, made by
 * scripts/make_shitcoin_checkpoint.ts): k = ln(K/F) and horizons of 4, 12, 24, 48 hourly bars.
 */
export const SHITCOIN_PSEUDO_GRID: { kGrid: number[]; tGrid: number[] } = {
  kGrid: [-0.06, -0.03, 0, 0.03, 0.06],
  tGrid: [4, 12, 24, 48].map((h) => h / 8760),
};

/** The prior that network was trained on (a shitcoin's, not the seed's BTC box). */
export const SHITCOIN_PRIOR: HestonPrior = {
  kappa: { kind: 'logUniform', lo: 0.5, hi: 10 },
  theta: { kind: 'logUniform', lo: 0.1, hi: 4 },
  sigma: { kind: 'logUniform', lo: 0.3, hi: 5 },
  rho: { kind: 'uniform', lo: -0.8, hi: 0.8 },
  v0: { kind: 'logUniform', lo: 0.1, hi: 4 },
};

/**
 * Horizons in bars for a checkpoint's tGrid at the market's bar interval; an error message when a
 * maturity is not a whole number of bars (to 1e-6), since a horizon must be a count of returns.
 */
export function horizonsInBars(tGrid: readonly number[], dtYears: number): number[] | string {
  const h = tGrid.map((T) => T / dtYears);
  const bad = h.findIndex((x) => Math.abs(x - Math.round(x)) > 1e-6 * Math.max(1, x) || Math.round(x) < 1);
  if (bad >= 0) return `maturity ${tGrid[bad]} years is ${h[bad]!.toPrecision(6)} bars of ${dtYears} years: the pseudo-surface needs whole horizons`;
  return h.map(Math.round);
}

/**
 * The pseudo-surface of a price window ENDING at the current step (it must hold at least
 * window + max(horizons) prices), written row-major [nk × nt] into iv/mask at `off`.
 * Returns false (and writes nothing) when the window is too short.
 */
export function empiricalSurface(
  prices: Float64Array,
  horizons: readonly number[],
  kGrid: readonly number[],
  window: number,
  dtYears: number,
  iv: Float64Array,
  mask: Uint8Array,
  off: number,
): boolean {
  const n = prices.length;
  const hMax = Math.max(...horizons);
  if (n < window + hMax) return false;
  const nt = horizons.length;
  const x = new Float64Array(window);
  for (let j = 0; j < nt; j++) {
    const h = horizons[j]!;
    // The last `window` h-step returns, ending at the last price.
    let mean = 0;
    for (let i = 0; i < window; i++) {
      const end = n - 1 - i;
      x[i] = prices[end]! / prices[end - h]!;
      mean += x[i]!;
    }
    mean /= window;
    for (let i = 0; i < window; i++) x[i]! /= mean;
    const sqrtT = Math.sqrt(h * dtYears);
    for (let a = 0; a < kGrid.length; a++) {
      const k = kGrid[a]!;
      const K = Math.exp(k);
      let price = 0;
      let tail = 0;
      for (let i = 0; i < window; i++) {
        const v = k >= 0 ? x[i]! - K : K - x[i]!;
        if (v > 0) {
          price += v;
          tail++;
        }
      }
      price /= window;
      const idx = off + a * nt + j;
      const r = tail >= MIN_TAIL_SAMPLES ? normalisedImpliedStdDev(price / Math.sqrt(K), -Math.abs(k)) : { iv: NaN };
      if (Number.isFinite(r.iv) && r.iv > 0) {
        iv[idx] = r.iv / sqrtT;
        mask[idx] = 0;
      } else {
        iv[idx] = NaN;
        mask[idx] = 1;
      }
    }
  }
  return true;
}
