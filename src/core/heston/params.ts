/**
 * Heston model parameters and their constraints (QuantLib's "model" part, kept apart from the
 * engines that price with it). `sigma` is the vol of vol; `theta` and `v0` are variances.
 */
export interface HestonParams {
  kappa: number;
  theta: number;
  sigma: number;
  rho: number;
  v0: number;
}

export const PARAM_NAMES = ['kappa', 'theta', 'sigma', 'rho', 'v0'] as const;
export type ParamName = (typeof PARAM_NAMES)[number];

export interface Bounds {
  lo: number;
  hi: number;
}

/** Hard bounds the calibrator and the CLI enforce: wide enough for any market we have seen. */
export const PARAM_BOUNDS: Record<ParamName, Bounds> = {
  kappa: { lo: 1e-4, hi: 50 },
  theta: { lo: 1e-6, hi: 4 },
  sigma: { lo: 1e-4, hi: 5 },
  rho: { lo: -0.999, hi: 0.999 },
  v0: { lo: 1e-6, hi: 4 },
};

/** One coordinate of a prior: log-uniform or uniform on [lo, hi]. */
export interface PriorDim {
  kind: 'uniform' | 'logUniform';
  lo: number;
  hi: number;
}
export type HestonPrior = Record<ParamName, PriorDim>;

/** The seed's sampling box (chapter IX.2.2), the default prior of the synthetic generators. */
export const SEED_PRIOR: HestonPrior = {
  kappa: { kind: 'logUniform', lo: 0.5, hi: 8 },
  theta: { kind: 'logUniform', lo: 0.01, hi: 0.08 },
  sigma: { kind: 'logUniform', lo: 0.1, hi: 1 },
  rho: { kind: 'uniform', lo: -0.95, hi: 0.2 },
  v0: { kind: 'logUniform', lo: 0.01, hi: 0.08 },
};

export function paramsToArray(p: HestonParams): [number, number, number, number, number] {
  return [p.kappa, p.theta, p.sigma, p.rho, p.v0];
}

export function paramsFromArray(a: ArrayLike<number>, offset = 0): HestonParams {
  return { kappa: a[offset]!, theta: a[offset + 1]!, sigma: a[offset + 2]!, rho: a[offset + 3]!, v0: a[offset + 4]! };
}

/** Feller ratio 2·kappa·theta / sigma²; below 1 the variance process can touch zero. */
export function fellerRatio(p: HestonParams): number {
  return (2 * p.kappa * p.theta) / (p.sigma * p.sigma);
}

/** Names every parameter that is not finite or lies outside PARAM_BOUNDS; empty when valid. */
export function paramProblems(p: Partial<HestonParams>, bounds = PARAM_BOUNDS): string[] {
  const problems: string[] = [];
  for (const name of PARAM_NAMES) {
    const v = p[name];
    const b = bounds[name];
    if (typeof v !== 'number' || !Number.isFinite(v)) problems.push(`${name} must be a finite number`);
    else if (v < b.lo || v > b.hi) problems.push(`${name}=${v} is outside [${b.lo}, ${b.hi}]`);
  }
  return problems;
}
