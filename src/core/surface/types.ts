/**
 * The Surface contract (shared/DESIGN.md). Conventions, stated once at the boundary:
 *  - kGrid is log-moneyness against the FORWARD, k = ln(K/F). Under Heston with deterministic
 *    rates the implied vol as a function of ln(K/F) does not depend on r or q, so surfaces from
 *    different rate environments (and crypto forwards far from spot) compare directly. Files and
 *    feeds that quote ln(K/S) or strikes are converted once, on the way in.
 *  - tGrid is in years (ACT/365 from the timestamp).
 *  - iv is row-major [nk × nt] (strike-major: iv[i * nt + j] is kGrid[i], tGrid[j]), decimals.
 *  - mask[i * nt + j] = 1 marks a point that carries no information (numpy.ma convention:
 *    true = masked); its iv value is ignored by every consumer.
 */
export interface Surface {
  kGrid: number[];
  tGrid: number[];
  iv: Float64Array;
  mask?: Uint8Array;
  spot: number;
  /** Forward per maturity (same length as tGrid), where known. */
  forward?: number[];
  /** Milliseconds since the Unix epoch, UTC. */
  timestamp: number;
  /** Where it came from: "synthetic:heston", "deribit:BTC", "file:foo.npz" … */
  source: string;
  /** Display name in the library. */
  name?: string;
}

/** One year of the tGrid convention (ACT/365): T = (expiry − timestamp) / YEAR_MS. */
export const YEAR_MS = 365 * 86_400_000;

/**
 * The seed's grid (chapter IX.2.1, K_POINTS and T_POINTS): k = ln(K/F), T in years. The default
 * for synthetic data sets, Deribit snapshots and quote files alike, so they line up with the
 * networks trained on it.
 */
export const SEED_GRID: { kGrid: number[]; tGrid: number[] } = {
  kGrid: [-0.4, -0.2, 0, 0.2, 0.4],
  tGrid: [0.05, 0.1, 0.25, 0.5, 1, 2],
};

export function ivAt(s: Surface, i: number, j: number): number {
  return s.iv[i * s.tGrid.length + j]!;
}

export function isMasked(s: Surface, i: number, j: number): boolean {
  return s.mask !== undefined && s.mask[i * s.tGrid.length + j] === 1;
}
