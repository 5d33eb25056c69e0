/**
 * ShitcoinFeatureModule (seed II.5): features of an asset without options (shit_prices,
 * shit_volumes, shit_funding).
 *
 *   kappa theta sigma rho v0, d_*   Heston parameters from an inverse network, and their change since
 *                                   the previous step, in one of two variants (`shitcoinVariant`):
 *     'pseudoSurface' (default)     the empirical distribution of h-step returns priced and inverted to
 *                                   IVs on the network's (k, T) grid (pseudoSurface.ts), then the network
 *                                   trained on true-Heston surfaces on THAT grid
 *                                   (public/checkpoints/shitcoin-pseudo-heston.hlckpt) — it reads what it
 *                                   was trained on;
 *     'moments'                     the seed's literal recipe: the raw [M, 4] matrix (mean, variance,
 *                                   skew, excess kurtosis of one-step returns over M windows) fed to the
 *                                   same network as if it were a surface (M = the network's nk, 4 = its
 *                                   nt). Kept so the two can be compared: the network z-scores those
 *                                   numbers with IV statistics and takes negative entries (a negative
 *                                   mean or skew) as masked, so its "parameters" are a fixed nonlinear
 *                                   hash of the moments, not a volatility model.
 *   ret_mean_<w> vol_<w> skew_<w> kurt_<w>   moments of one-step log returns over each window (vol annualised)
 *   log_volume, volume_z                     ln(1 + volume) and how far it is above its mean over `volumeWindow`
 *   funding                                   the funding rate paid on the step
 *
 * Every per-step input comes from a window ending at the step; the network runs once over all steps.
 * A step whose pseudo-surface cannot be built (every strike masked: a flat window) carries the last
 * parameters forward (deltas 0).
 */
import { InputError } from '../errors.ts';
import type { JobContext } from '../jobs.ts';
import type { InverseCheckpoint } from '../inverse/checkpoint.ts';
import { PARAM_NAMES } from '../heston/params.ts';
import type { MarketData } from '../market/marketData.ts';
import type { MarketFeatureModule } from './featureEngine.ts';
import { inverseParamsBatch, yieldToCancel } from './inverseBatch.ts';
import { empiricalSurface, horizonsInBars } from './pseudoSurface.ts';
import { logLevelVsMean, returnMoments, windowAt } from './rolling.ts';

export type ShitcoinVariant = 'pseudoSurface' | 'moments';

export interface ShitcoinOptions {
  variant: ShitcoinVariant;
  /** Windows (steps) of the return moments. */
  momentWindows: number[];
  /** Windows (steps) of the seed's moments matrix (variant 'moments'; as many as the network's nk). */
  matrixWindows: number[];
  /** Returns in the empirical distribution of each horizon (variant 'pseudoSurface'). */
  pseudoWindow: number;
  /** Window (steps) of the volume z-score. */
  volumeWindow: number;
  /** The network on the pseudo-surface grid. */
  inverse: InverseCheckpoint;
}

export interface ShitcoinContext {
  prices: Float64Array;
  volumes: Float64Array;
  funding: number;
  dtYears: number;
  /** κ, θ, σ, ρ, v0 at t and t − 1 (null while the window has not filled). */
  params: Float64Array | null;
  previous: Float64Array | null;
}

const PARAMS = [...PARAM_NAMES];

export class ShitcoinFeatureModule implements MarketFeatureModule<ShitcoinContext> {
  readonly name = 'shitcoin';
  readonly featureNames: readonly string[];
  readonly lookback: number;
  readonly notes: string[] = [];
  /** [n × 5], NaN rows before the window fills. */
  private params: Float64Array;
  private readonly prices: Float64Array;
  private readonly volumes: Float64Array;
  private readonly funding: Float64Array;
  private readonly horizons: number[] = [];

  constructor(
    private readonly market: MarketData,
    private readonly opts: ShitcoinOptions,
  ) {
    if (!market.shitPrices) throw new InputError('the market has no shit_prices: the shitcoin module needs them', `${market.name}: shit_prices`);
    if (!opts.inverse) throw new InputError('the shitcoin module needs an inverse-Heston checkpoint on the pseudo-surface grid', 'features.shitcoin');
    this.prices = market.shitPrices;
    this.volumes = market.shitVolumes ?? new Float64Array(market.timesMs.length);
    this.funding = market.shitFunding ?? new Float64Array(market.timesMs.length);
    const g = opts.inverse.grid;
    const ints = (xs: number[], field: string) => {
      if (xs.length === 0 || xs.some((w) => !Number.isInteger(w) || w < 2)) throw new InputError(`must be integers ≥ 2, got [${xs.join(', ')}]`, `features.${field}`);
    };
    ints(opts.momentWindows, 'momentWindows');
    let need: number;
    if (opts.variant === 'pseudoSurface') {
      const h = horizonsInBars(g.tGrid, market.dtYears);
      if (typeof h === 'string') throw new InputError(`${h} (the checkpoint "${opts.inverse.name}" was trained for another bar interval)`, 'features.shitcoinInverse');
      this.horizons = h;
      if (!Number.isInteger(opts.pseudoWindow) || opts.pseudoWindow < 20) throw new InputError(`must be an integer ≥ 20, got ${opts.pseudoWindow}`, 'features.pseudoWindow');
      need = opts.pseudoWindow + Math.max(...h);
    } else if (opts.variant === 'moments') {
      ints(opts.matrixWindows, 'matrixWindows');
      if (opts.matrixWindows.length !== g.kGrid.length || g.tGrid.length !== 4) throw new InputError(`the seed's moments matrix is [${opts.matrixWindows.length}, 4] but the network takes [${g.kGrid.length}, ${g.tGrid.length}]: give as many matrixWindows as its nk, and a network with nt = 4`, 'features.matrixWindows');
      need = Math.max(...opts.matrixWindows) + 1;
    } else throw new InputError(`must be "pseudoSurface" or "moments", got "${String(opts.variant)}"`, 'features.shitcoinVariant');
    this.lookback = Math.max(need, Math.max(...opts.momentWindows) + 1, opts.volumeWindow);
    const w = opts.momentWindows;
    this.featureNames = [...PARAMS, ...PARAMS.map((p) => `d_${p}`), ...w.flatMap((x) => [`ret_mean_${x}`, `vol_${x}`, `skew_${x}`, `kurt_${x}`]), 'log_volume', 'volume_z', 'funding'];
    this.params = new Float64Array(market.timesMs.length * 5).fill(NaN);
  }

  async prepare(ctx: JobContext): Promise<void> {
    const m = this.market;
    const n = m.timesMs.length;
    const g = this.opts.inverse.grid;
    const cells = g.kGrid.length * g.tGrid.length;
    const iv = new Float64Array(n * cells);
    const mask = new Uint8Array(n * cells);
    const rows: number[] = [];
    for (let t = 0; t < n; t++) {
      // ~0.25 ms per pseudo-surface: 128 steps between yields keeps a cancel under ~50 ms.
      if (t % 128 === 127) await yieldToCancel(ctx);
      if (this.opts.variant === 'pseudoSurface') {
        const win = windowAt(this.prices, t, this.opts.pseudoWindow + Math.max(...this.horizons));
        if (!empiricalSurface(win, this.horizons, g.kGrid, this.opts.pseudoWindow, m.dtYears, iv, mask, t * cells)) continue;
        if (mask.subarray(t * cells, (t + 1) * cells).every((x) => x === 1)) continue;
      } else {
        const mw = this.opts.matrixWindows;
        if (t < Math.max(...mw)) continue;
        mw.forEach((w, r) => {
          const mo = returnMoments(windowAt(this.prices, t, w + 1), w);
          iv.set([mo.mean, mo.std * mo.std, mo.skew, mo.kurt], t * cells + r * 4);
        });
      }
      rows.push(t);
    }
    const out = await inverseParamsBatch(this.opts.inverse, iv, mask, rows, g, `${m.name}: shitcoin ${this.opts.variant}`, ctx);
    if (out.outOfDistribution > 0) this.notes.push(`${out.outOfDistribution} of ${rows.length} ${this.opts.variant === 'moments' ? 'moment matrices' : 'pseudo-surfaces'} lie outside the network’s training data (> 4 training std at some grid point)`);
    // A step whose input could not be built (a flat window masks every strike) carries the last
    // parameters forward, as the btc module carries its last surface: once defined, never NaN again.
    let next = 0;
    let last = -1;
    for (let t = 0; t < n; t++) {
      if (next < rows.length && rows[next] === t) last = next++;
      if (last >= 0) this.params.set(out.params.subarray(last * 5, last * 5 + 5), t * 5);
    }
  }

  contextAt(t: number): ShitcoinContext {
    const row = (s: number) => (s >= 0 && Number.isFinite(this.params[s * 5]!) ? this.params.subarray(s * 5, s * 5 + 5) : null);
    return {
      prices: windowAt(this.prices, t, this.lookback),
      volumes: windowAt(this.volumes, t, this.opts.volumeWindow),
      funding: this.funding[t]!,
      dtYears: this.market.dtYears,
      params: row(t),
      previous: row(t - 1),
    };
  }

  computeFeatures(c: ShitcoinContext): Record<string, number> {
    const f: Record<string, number> = {};
    PARAMS.forEach((p, i) => {
      f[p] = c.params ? c.params[i]! : NaN;
      f[`d_${p}`] = c.params && c.previous ? c.params[i]! - c.previous[i]! : NaN;
    });
    for (const w of this.opts.momentWindows) {
      const mo = returnMoments(c.prices, w);
      f[`ret_mean_${w}`] = mo.mean;
      f[`vol_${w}`] = mo.std / Math.sqrt(c.dtYears);
      f[`skew_${w}`] = mo.skew;
      f[`kurt_${w}`] = mo.kurt;
    }
    const v = c.volumes[c.volumes.length - 1]!;
    f.log_volume = Math.log1p(v);
    f.volume_z = logLevelVsMean(c.volumes.map((x) => 1 + x), this.opts.volumeWindow);
    f.funding = c.funding;
    return f;
  }
}
