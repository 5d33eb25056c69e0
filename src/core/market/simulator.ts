/**
 * The seed's market simulator (chapter VI, `simulate_market`), kept as the seed describes it — a
 * "maquette" to run the pipeline end to end with no exchange — and producing the one MarketData
 * shape (marketData.ts).
 *
 *   btc, shit   GBM per step:  S_{t+1} = S_t·exp[(μ − σ²/2)·dt + σ·√dt·Z]   (dt in STEPS, as the
 *               seed's `dt = 1.0`; μ and σ are per step: the seed's vol_btc 0.02 is 2 % per bar)
 *   btc_fut     S·(1 + futNoise·Z)                      (seed: btc_spot·(1 + 0.001·noise))
 *   funding     N(fundingMean, fundingStd) on every `fundingEvery`-th step, 0 elsewhere
 *               (the seed draws one every step; MarketData holds the rate PAID on a step, and
 *               perpetuals pay every 8 h: 8 hourly bars)
 *   btc_oi      log-normal: exp(N(ln oiLevel, oiLogStd))
 *   shit_volumes log-normal: exp(N(ln volumeLevel, volumeLogStd)); btc_volumes likewise
 *   surface     the seed's "décor": iv[t, i, j] = baseIv + 0.2·|k_i| + 0.1·ln(1 + T_j), the same at
 *               every step — "aucun lien avec la dynamique simulée de S" (the Heston market,
 *               hestonMarket.ts, is the one whose surface follows the simulated variance).
 *
 * Defaults are the seed's SimMarketConfig (n_steps 10 000, dt 1, mu 0, vol_btc 0.02, vol_shit 0.05,
 * seed 123); where the seed gives no number (price levels, funding, OI, volume scales) the default is
 * documented on its field. The grid defaults to the bundled inverse checkpoint's (the seed grid).
 * Every draw comes from Rng.stream(seed, SIM_STREAM.x), one stream per series, so adding a series
 * never changes the others.
 */
import { defaultsOf, resolveConfig, type ConfigSpec } from '../config.ts';
import { Rng } from '../math/rng.ts';
import { SEED_GRID, YEAR_MS } from '../surface/types.ts';
import { checkMarketData, type MarketData } from './marketData.ts';

/** Stream ids: each series draws from its own Rng.stream(seed, id). */
export const SIM_STREAM = { btc: 1, shit: 2, fut: 3, btcFunding: 4, oi: 5, shitVolumes: 6, shitFunding: 7, btcVolumes: 8, variance: 9, regime: 10 } as const;

export interface SimMarketConfig {
  /** Rows of the market (seed n_steps). */
  nSteps: number;
  /** Step length in the units μ and σ are given in (seed dt = 1.0: per step). */
  dt: number;
  /** BTC drift per unit of dt (seed mu_btc). */
  muBtc: number;
  /** Shitcoin drift per unit of dt (seed mu_shit). */
  muShit: number;
  /** BTC vol per √dt (seed vol_btc: 2 % per step). */
  volBtc: number;
  /** Shitcoin vol per √dt (seed vol_shit). */
  volShit: number;
  /** Seed of every stream (seed default 123). */
  seed: number;
  /** Bar interval in years, for timestamps and dtYears (default hourly, 1/8760). */
  dtYears: number;
  /** Close time of row 0, ms UTC (default 2024-01-01T01:00Z). */
  startMs: number;
  /** Initial BTC spot (default 40 000). */
  btcS0: number;
  /** Initial shitcoin price (default 0.1). */
  shitS0: number;
  /** Futures noise: F = S·(1 + futNoise·Z) (seed 0.001). */
  futNoise: number;
  /** Funding is paid on every N-th step (default 8: 8-hourly on hourly bars). */
  fundingEvery: number;
  /** Mean and std of a funding payment (default 1e-4 and 1e-4: 1 bp ± 1 bp per 8 h). */
  fundingMean: number;
  fundingStd: number;
  /** Open interest level and log-std (default 1e5 BTC, 0.1). */
  oiLevel: number;
  oiLogStd: number;
  /** Volume level and log-std per step (default 1e6, 0.5), for shit_volumes and btc_volumes. */
  volumeLevel: number;
  volumeLogStd: number;
  /** Level of the décor surface (default null: volBtc, as the seed's base_iv = vol_btc). */
  baseIv: number | null;
  /** Surface grid (default: the bundled checkpoint's, k = ln(K/F) and T in years). */
  kGrid: number[];
  tGrid: number[];
}

/** Funding, open interest, volumes and the grid: the same fields and defaults in both simulators. */
export type MarketSeriesConfig = Pick<SimMarketConfig, 'fundingEvery' | 'fundingMean' | 'fundingStd' | 'oiLevel' | 'oiLogStd' | 'volumeLevel' | 'volumeLogStd' | 'kGrid' | 'tGrid'>;
export const MARKET_SERIES_SPEC: ConfigSpec<MarketSeriesConfig> = {
  fundingEvery: { default: 8, integer: true, min: 1, doc: 'funding is paid on every N-th step (8-hourly on hourly bars)', unit: 'steps' },
  fundingMean: { default: 1e-4, doc: 'mean funding payment (1 bp per 8 h)' },
  fundingStd: { default: 1e-4, min: 0, doc: 'std of a funding payment' },
  oiLevel: { default: 1e5, min: 1e-12, doc: 'open-interest level' },
  oiLogStd: { default: 0.1, min: 0, doc: 'open-interest log-std' },
  volumeLevel: { default: 1e6, min: 1e-12, doc: 'volume level per step (the Heston market’s BTC volume scales it by √(v/θ))' },
  volumeLogStd: { default: 0.5, min: 0, doc: 'volume log-std' },
  kGrid: { default: [...SEED_GRID.kGrid], doc: 'surface log-moneyness grid ln(K/F) (the bundled checkpoint’s)' },
  tGrid: { default: [...SEED_GRID.tGrid], min: 1e-9, doc: 'surface maturities (the bundled checkpoint’s)', unit: 'years' },
};

export const SIM_MARKET_CONFIG_SPEC: ConfigSpec<SimMarketConfig> = {
  ...MARKET_SERIES_SPEC,
  nSteps: { default: 10_000, integer: true, min: 2, doc: 'rows of the market (original design’s n_steps)', unit: 'steps' },
  dt: { default: 1, min: 1e-12, doc: 'step length in the units μ and σ are given in (original design’s dt = 1: per step)' },
  muBtc: { default: 0, doc: 'BTC drift per unit of dt (original design’s mu_btc)' },
  muShit: { default: 0, doc: 'shitcoin drift per unit of dt (original design’s mu_shit)' },
  volBtc: { default: 0.02, min: 0, doc: 'BTC vol per √dt (original design’s vol_btc: 2 % per step)' },
  volShit: { default: 0.05, min: 0, doc: 'shitcoin vol per √dt (original design’s vol_shit)' },
  seed: { default: 123, integer: true, doc: 'seed of every stream (original design’s default 123)' },
  dtYears: { default: 1 / 8760, min: 1e-9, doc: 'bar interval for timestamps and dtYears (hourly)', unit: 'years' },
  startMs: { default: Date.UTC(2024, 0, 1, 1), doc: 'close time of row 0 (2024-01-01T01:00Z)', unit: 'ms UTC' },
  btcS0: { default: 40_000, min: 1e-12, doc: 'initial BTC spot' },
  shitS0: { default: 0.1, min: 1e-12, doc: 'initial shitcoin price' },
  futNoise: { default: 0.001, min: 0, doc: 'futures noise: F = S·(1 + futNoise·Z) (original design’s 0.001)' },
  baseIv: { default: null, nullable: true, min: 0, doc: 'level of the décor surface (none: volBtc, as the original design’s base_iv = vol_btc)' },
};

export const DEFAULT_SIM_MARKET_CONFIG: SimMarketConfig = defaultsOf(SIM_MARKET_CONFIG_SPEC);

/** Close times of n bars of dtYears each, the first at startMs. */
export function barTimes(n: number, startMs: number, dtYears: number): Float64Array {
  const step = dtYears * YEAR_MS;
  return Float64Array.from({ length: n }, (_, i) => startMs + Math.round(i * step));
}

/** GBM path of n rows from s0: ln S_{t+1} − ln S_t = (μ − σ²/2)dt + σ√dt·Z. */
export function gbmPath(n: number, s0: number, mu: number, vol: number, dt: number, rng: Rng): Float64Array {
  const out = new Float64Array(n);
  let s = s0;
  const drift = (mu - 0.5 * vol * vol) * dt;
  const diff = vol * Math.sqrt(dt);
  for (let i = 0; i < n; i++) {
    out[i] = s;
    s *= Math.exp(drift + diff * rng.normal());
  }
  return out;
}

/** exp(N(ln level, logStd)) per row. */
export function logNormalSeries(n: number, level: number, logStd: number, rng: Rng): Float64Array {
  const mu = Math.log(level);
  return Float64Array.from({ length: n }, () => Math.exp(mu + logStd * rng.normal()));
}

/** Funding paid on rows every, 2·every, … (row index ≡ every − 1 mod every), 0 elsewhere. */
export function fundingSeries(n: number, every: number, mean: number, std: number, rng: Rng): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) if ((i + 1) % every === 0) out[i] = mean + std * rng.normal();
  return out;
}

/** S·(1 + noise·Z) per row. */
export function noisyFutures(spot: Float64Array, noise: number, rng: Rng): Float64Array {
  return Float64Array.from(spot, (s) => s * (1 + noise * rng.normal()));
}

/** The seed's décor surface: baseIv + 0.2·|k| + 0.1·ln(1 + T), row-major [nk × nt]. */
export function decorSurface(baseIv: number, kGrid: readonly number[], tGrid: readonly number[]): Float64Array {
  const nt = tGrid.length;
  return Float64Array.from({ length: kGrid.length * nt }, (_, c) => baseIv + 0.2 * Math.abs(kGrid[Math.floor(c / nt)]!) + 0.1 * Math.log(1 + tGrid[c % nt]!));
}

/** The seed's simulate_market: MarketData with GBM prices and the décor surface. */
export function simulateMarket(config: Partial<SimMarketConfig> = {}, seed?: number): MarketData {
  const c: SimMarketConfig = resolveConfig(SIM_MARKET_CONFIG_SPEC, { ...config, ...(seed !== undefined ? { seed } : {}) }, 'SimMarketConfig');
  const n = c.nSteps;
  const s = (id: number) => Rng.stream(c.seed, id);
  const btcPrices = gbmPath(n, c.btcS0, c.muBtc, c.volBtc, c.dt, s(SIM_STREAM.btc));
  const cells = c.kGrid.length * c.tGrid.length;
  const one = decorSurface(c.baseIv ?? c.volBtc, c.kGrid, c.tGrid);
  const iv = new Float64Array(n * cells);
  for (let t = 0; t < n; t++) iv.set(one, t * cells);
  const m: MarketData = {
    name: `sim-gbm-seed${c.seed}`,
    timesMs: barTimes(n, c.startMs, c.dtYears),
    dtYears: c.dtYears,
    btcPrices,
    btcFutPrices: noisyFutures(btcPrices, c.futNoise, s(SIM_STREAM.fut)),
    btcFunding: fundingSeries(n, c.fundingEvery, c.fundingMean, c.fundingStd, s(SIM_STREAM.btcFunding)),
    btcOi: logNormalSeries(n, c.oiLevel, c.oiLogStd, s(SIM_STREAM.oi)),
    kGrid: Float64Array.from(c.kGrid),
    tGrid: Float64Array.from(c.tGrid),
    btcIvSurface: iv,
    btcIvMask: new Uint8Array(n * cells),
    hasSurface: new Uint8Array(n).fill(1),
    btcVolumes: logNormalSeries(n, c.volumeLevel, c.volumeLogStd, s(SIM_STREAM.btcVolumes)),
    shitPrices: gbmPath(n, c.shitS0, c.muShit, c.volShit, c.dt, s(SIM_STREAM.shit)),
    shitVolumes: logNormalSeries(n, c.volumeLevel, c.volumeLogStd, s(SIM_STREAM.shitVolumes)),
    shitFunding: fundingSeries(n, c.fundingEvery, c.fundingMean, c.fundingStd, s(SIM_STREAM.shitFunding)),
  };
  checkMarketData(m, m.name);
  return m;
}
