/**
 * GenericMarketFeatureModule (seed II.8): plain price features of the traded asset (BTC spot), for
 * any market whatever else it has.
 *
 *   ret_<w>       ln(S_t / S_{t−w}) for each return window
 *   rv_<w>        annualised realised vol over the last w steps (zero-mean)
 *   range_<w>     (max − min) / S_t of the closes over the last w steps (the data has closes only;
 *                 with OHLC bars this would be the high–low range)
 *   log_volume, volume_z   only when the market has btc_volumes: ln(1 + volume) and ln(1 + v_t) minus
 *                 its mean over the last w steps
 */
import { InputError } from '../errors.ts';
import type { MarketData } from '../market/marketData.ts';
import type { MarketFeatureModule } from './featureEngine.ts';
import { logLevelVsMean, logReturn, realisedVol, windowAt, windowRange } from './rolling.ts';

export interface GenericOptions {
  /** Return windows in steps. */
  returnWindows: number[];
  /** Window (steps) of the realised vol, range and volume z-score. */
  window: number;
}

export interface GenericContext {
  prices: Float64Array;
  /** null when the market has no volumes. */
  volumes: Float64Array | null;
  dtYears: number;
}

export class GenericMarketFeatureModule implements MarketFeatureModule<GenericContext> {
  readonly name = 'generic';
  readonly featureNames: readonly string[];
  readonly lookback: number;
  private readonly onePlusVolume: Float64Array | null;

  constructor(
    private readonly market: MarketData,
    private readonly opts: GenericOptions,
  ) {
    const ws = [...opts.returnWindows, opts.window];
    if (ws.some((w) => !Number.isInteger(w) || w < 1) || opts.window < 2) throw new InputError(`windows must be integers ≥ 1 (the vol window ≥ 2), got returnWindows [${opts.returnWindows.join(', ')}], window ${opts.window}`, 'features.generic');
    this.lookback = Math.max(...opts.returnWindows, opts.window) + 1;
    this.onePlusVolume = market.btcVolumes ? Float64Array.from(market.btcVolumes, (v) => 1 + v) : null;
    const w = opts.window;
    this.featureNames = [...opts.returnWindows.map((x) => `ret_${x}`), `rv_${w}`, `range_${w}`, ...(this.onePlusVolume ? ['log_volume', 'volume_z'] : [])];
  }

  contextAt(t: number): GenericContext {
    return {
      prices: windowAt(this.market.btcPrices, t, this.lookback),
      volumes: this.onePlusVolume ? windowAt(this.onePlusVolume, t, this.opts.window) : null,
      dtYears: this.market.dtYears,
    };
  }

  computeFeatures(c: GenericContext): Record<string, number> {
    const f: Record<string, number> = {};
    for (const w of this.opts.returnWindows) f[`ret_${w}`] = logReturn(c.prices, w);
    const w = this.opts.window;
    f[`rv_${w}`] = realisedVol(c.prices, w, c.dtYears);
    f[`range_${w}`] = windowRange(c.prices, w);
    if (c.volumes) {
      f.log_volume = Math.log(c.volumes[c.volumes.length - 1]!);
      f.volume_z = logLevelVsMean(c.volumes, w);
    }
    return f;
  }
}
