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

export function ivAt(s: Surface, i: number, j: number): number {
  return s.iv[i * s.tGrid.length + j]!;
}

export function isMasked(s: Surface, i: number, j: number): boolean {
  return s.mask !== undefined && s.mask[i * s.tGrid.length + j] === 1;
}
