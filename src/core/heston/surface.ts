/**
 * The Heston implied-volatility surface on a log-forward-moneyness grid (the Surface contract's
 * k = ln(K/F)): what the synthetic-data generators and the inverse network's physics checks call.
 * Prices come from the Float64 Lewis engine (one characteristic-function pass per maturity for
 * all strikes), implied vols from the OTM normalised price. Points whose OTM price is below
 * maskBelow·S0 carry no usable information (rounding in any pricer is of that order relative to
 * them) and are masked, as are points that cannot be inverted.
 */
import { normalisedImpliedStdDev } from './blackScholes.ts';
import type { HestonParams } from './params.ts';
import { LewisControlVariateEngine, perMaturity, type HestonEngine, type SliceOutput } from './pricer.ts';

export interface IvSurfaceOptions {
  /** Spot S0 (default 1). */
  spot?: number;
  /** Zero rate(s) to each maturity (default 0). The IV on a ln(K/F) grid does not depend on them. */
  r?: number | ArrayLike<number>;
  q?: number | ArrayLike<number>;
  /** Mask points whose OTM option is worth less than maskBelow·S0 (default 1e-7). */
  maskBelow?: number;
  engine?: HestonEngine;
}

const sharedEngine = new LewisControlVariateEngine();

/**
 * IV [nk × nt] row-major (iv[i * nt + j] at kGrid[i], tGrid[j]) and mask (1 = masked, iv NaN).
 */
export function hestonIvSurface(
  params: HestonParams,
  kGrid: ArrayLike<number>,
  tGrid: ArrayLike<number>,
  opts: IvSurfaceOptions = {},
): { iv: Float64Array; mask: Uint8Array } {
  const spot = opts.spot ?? 1;
  const maskBelow = opts.maskBelow ?? 1e-7;
  const engine = opts.engine ?? sharedEngine;
  const nk = kGrid.length;
  const nt = tGrid.length;
  const rr = perMaturity(opts.r ?? 0, nt, 'r');
  const qq = perMaturity(opts.q ?? 0, nt, 'q');
  const iv = new Float64Array(nk * nt);
  const mask = new Uint8Array(nk * nt);
  const strikes = new Float64Array(nk);
  const out: SliceOutput = { calls: new Float64Array(nk), puts: new Float64Array(nk) };
  for (let j = 0; j < nt; j++) {
    const T = tGrid[j]!;
    const F = spot * Math.exp((rr[j]! - qq[j]!) * T);
    const D = Math.exp(-rr[j]! * T);
    for (let i = 0; i < nk; i++) strikes[i] = F * Math.exp(kGrid[i]!);
    engine.priceSlice(params, T, F, D, strikes, out);
    const sqrtT = Math.sqrt(T);
    for (let i = 0; i < nk; i++) {
      const k = kGrid[i]!;
      const otm = k >= 0 ? out.calls[i]! : out.puts[i]!;
      const idx = i * nt + j;
      if (!(otm >= maskBelow * spot)) {
        iv[idx] = NaN;
        mask[idx] = 1;
        continue;
      }
      const beta = otm / (D * Math.sqrt(F * strikes[i]!));
      const r = normalisedImpliedStdDev(beta, -Math.abs(k));
      if (Number.isNaN(r.iv)) {
        iv[idx] = NaN;
        mask[idx] = 1;
      } else iv[idx] = r.iv / sqrtT;
    }
  }
  return { iv, mask };
}
