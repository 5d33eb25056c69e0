/**
 * `rl simulate` and `rl features`: markets and their feature matrices headless (issue 10, item 7).
 * Other rl commands (`rl env`, …) add themselves to RL_COMMANDS below or live in their own module.
 */
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../src/core/errors.ts';
import type { JobContext } from '../../src/core/jobs.ts';
import { configFlags, configFromFlags, configHelp, resolveConfig } from '../../src/core/config.ts';
import { writeNpz } from '../../src/core/io/npz.ts';
import type { NdArray } from '../../src/core/io/npy.ts';
import { readMarketNpz, writeMarketNpz, type MarketData } from '../../src/core/market/marketData.ts';
import { SIM_MARKET_CONFIG_SPEC, simulateMarket } from '../../src/core/market/simulator.ts';
import { HESTON_REGIME_PRESET, parseHestonMarketConfig, simulateHestonMarket } from '../../src/core/market/hestonMarket.ts';
import { buildFeatureMatrix, FEATURE_CONFIG_SPEC, type FeatureDeps, type FeatureMatrix } from '../../src/core/features/featureMatrix.ts';
import { firstUndefined } from '../../src/core/features/featureEngine.ts';
import { CsvSentimentProvider, FearGreedProvider, type SentimentProvider } from '../../src/core/features/sentiment.ts';
import { Normalizer, DEFAULT_WINDOW } from '../../src/core/features/stateBuilder.ts';
import { intOption, parse, readBytes, readJsonInput, requireOption, writeAtomic, type CommandDef } from '../io.ts';
// rlInputs reads BUNDLED_* from this module only inside functions, so the import cycle is harmless.
import { loadFeatureDeps, useWasm } from '../rlInputs.ts';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '../..');
/** The bundled networks (public/checkpoints/): BTC on the seed grid, shitcoin on the pseudo-surface grid. */
export const BUNDLED_INVERSE = join(REPO, 'public/checkpoints/seed-grid-heston.hlckpt');
export const BUNDLED_SHITCOIN_INVERSE = join(REPO, 'public/checkpoints/shitcoin-pseudo-heston.hlckpt');

/** A 1-d numpy unicode array ('<U n'), as np.array(['a', 'bc']) writes it. */
export function stringArray(texts: readonly string[]): NdArray {
  const cps = texts.map((t) => Array.from(t, (c) => c.codePointAt(0)!));
  const itemSize = Math.max(1, ...cps.map((c) => c.length));
  const data = new Uint32Array(texts.length * itemSize);
  cps.forEach((c, i) => data.set(c, i * itemSize));
  return { dtype: 'unicode', shape: [texts.length], data, itemSize };
}

/**
 * The normalised vectors the agent would see at each step: the seed's Normalizer (update, then
 * normalise; population std, floor 1e-8, clip ±5) run from `warmup` on; zeros before it.
 */
export function normalisedStates(fm: FeatureMatrix): Float32Array {
  const states = new Float32Array(fm.n * fm.d);
  const norm = new Normalizer(fm.d);
  for (let t = fm.warmup; t < fm.n; t++) {
    const z = norm.normalize(fm.values.subarray(t * fm.d, (t + 1) * fm.d), true);
    states.set(z, t * fm.d);
  }
  return states;
}

const simulate: CommandDef = {
  name: 'rl simulate',
  summary: 'simulate a market (the seed’s GBM + décor surface, or a Heston market) as a market .npz',
  usage: `npm run --silent cli -- rl simulate --kind gbm|heston --steps N --seed S [--config FILE.json] [--preset regimes] --out MARKET.npz
  --steps N gives N rows (hourly bars by default); --seed S drives every stream (same seed, same bytes).
  --config: a JSON object of the simulator's config (camelCase keys as below; unknown keys are refused);
  --steps and --seed override it. Heston configs also take "regimes": [{"kappa","theta","sigma","rho"}, …].
  --preset regimes (heston): two regimes (calm θ 0.02 / stressed θ 0.08, ~500 h each) and μ_t = −0.3 + 6·v_t.
  The grid defaults to the bundled inverse checkpoint's (k = ln(K/F) −0.4…0.4, T 0.05…2 years).
  Writes the seed's keys (times_ms, btc_prices, …, btc_iv_surface [n, nk, nt], btc_iv_mask, k_grid, t_grid,
  has_surface, shit_*, dt_years; heston: btc_variance, heston_params [5] or [n, 5], regime).

  gbm config (SimMarketConfig, src/core/market/simulator.ts):
${configHelp(SIM_MARKET_CONFIG_SPEC)}`,
  async run(argv) {
    const { values: v } = parse(argv, { kind: { type: 'string' }, steps: { type: 'string' }, seed: { type: 'string' }, config: { type: 'string' }, preset: { type: 'string' }, out: { type: 'string' } });
    const kind = requireOption(v.kind, '--kind');
    if (kind !== 'gbm' && kind !== 'heston') throw new InputError(`--kind must be gbm or heston, got "${kind}"`);
    const out = requireOption(v.out, '--out');
    if (!out.toLowerCase().endsWith('.npz')) throw new InputError('--out must end in .npz', out);
    const json = v.config ? readJsonInput(v.config) : {};
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new InputError('must be a JSON object', v.config);
    const over: Record<string, number> = {};
    if (v.steps !== undefined) {
      over.nSteps = intOption(v.steps, '--steps');
      // Named here: the config check below would blame --config for a flag's value.
      if (over.nSteps < 2) throw new InputError(`--steps must be ≥ 2 (every step but the last trades at its price and settles at the next), got ${over.nSteps}`);
    }
    if (v.seed !== undefined) over.seed = intOption(v.seed, '--seed');
    if (v.preset !== undefined && (kind !== 'heston' || v.preset !== 'regimes')) throw new InputError(`--preset ${v.preset}: the only preset is "regimes", for --kind heston`);
    const where = v.config ?? '--config';
    const t0 = performance.now();
    let m: MarketData;
    if (kind === 'gbm') m = simulateMarket(resolveConfig(SIM_MARKET_CONFIG_SPEC, { ...(json as object), ...over }, where));
    else m = await simulateHestonMarket(parseHestonMarketConfig({ ...(v.preset ? HESTON_REGIME_PRESET : {}), ...(json as object), ...over }, where));
    const bytes = writeMarketNpz(m);
    await writeAtomic(out, bytes);
    const n = m.timesMs.length;
    const r = Array.from({ length: n - 1 }, (_, i) => Math.log(m.btcPrices[i + 1]! / m.btcPrices[i]!));
    const realised = Math.sqrt(r.reduce((a, x) => a + x * x, 0) / r.length / m.dtYears);
    return {
      out,
      kind,
      name: m.name,
      n,
      nk: m.kGrid.length,
      nt: m.tGrid.length,
      dt_years: m.dtYears,
      surfaces: m.hasSurface.reduce((a, b) => a + b, 0),
      shitcoin: m.shitPrices !== undefined,
      btc_first: m.btcPrices[0],
      btc_last: m.btcPrices[n - 1],
      realised_vol: realised,
      ...(m.truth ? { mean_variance: m.truth.btcVariance.reduce((a, b) => a + b, 0) / n, regimes: m.truth.regime ? new Set(m.truth.regime).size : 1 } : {}),
      bytes: bytes.length,
      seconds: +((performance.now() - t0) / 1000).toFixed(3),
    };
  },
};

function sentimentProvider(spec: string | undefined, csvFile: string | undefined, url: string | undefined): SentimentProvider | undefined {
  const csv = csvFile ? new CsvSentimentProvider(new TextDecoder().decode(readBytes(csvFile)), basename(csvFile)) : undefined;
  switch (spec ?? (csv ? 'csv' : 'neutral')) {
    case 'neutral':
      return undefined;
    case 'csv':
      if (!csv) throw new InputError('--sentiment csv needs --sentiment-csv FILE (columns timestamp, sentiment_score, msg_rate, fear_greed)');
      return csv;
    case 'fear-greed':
      return new FearGreedProvider({ ...(url ? { baseUrl: url } : {}), ...(csv ? { fallback: csv } : {}) });
    default:
      throw new InputError(`--sentiment must be neutral, csv or fear-greed, got "${spec}"`);
  }
}

const features: CommandDef = {
  name: 'rl features',
  summary: 'build a market’s feature matrix (FeatureEngine) with the bundled inverse networks',
  usage: `npm run --silent cli -- rl features --market MARKET.npz [--inverse CKPT] [--shitcoin-inverse CKPT] [--modules a,b,…]
      [--window 16] [--sentiment neutral|csv|fear-greed] [--sentiment-csv FILE] [--sentiment-url URL] [--config FEATURES.json]
      --out FEATURES.npz
  --inverse: the BTC inverse network (default: the bundled public/checkpoints/seed-grid-heston.hlckpt);
  --shitcoin-inverse: the pseudo-surface network (default: public/checkpoints/shitcoin-pseudo-heston.hlckpt).
  Networks run on the wasm backend (bench/rl-features.bench.ts compares wasm and cpu).
  --modules: btc, generic, sentiment, shitcoin (default: every module whose data the market has).
  --sentiment: neutral (zeros, the default), csv (--sentiment-csv), fear-greed (alternative.me over HTTP,
  --sentiment-url for a mirror; a refused call falls back to --sentiment-csv when given).
  --window: the StateBuffer window the agent will stack (reported as state_size = window × D).
  Writes feature_names [D] (strings), features [n, D] (float64, NaN before warmup), states [n, D] (float32:
  the Normalizer's output from warmup on, update then normalise; zeros before), warmup, window.
  Prints names, d, n, warmup, seconds, modules and notes.

  feature config (FeatureConfig, src/core/features/featureMatrix.ts; flags override --config):
${configHelp(FEATURE_CONFIG_SPEC)}`,
  async run(argv, ctx: JobContext) {
    const { values: v } = parse(argv, {
      market: { type: 'string' },
      inverse: { type: 'string' },
      'shitcoin-inverse': { type: 'string' },
      window: { type: 'string' },
      sentiment: { type: 'string' },
      'sentiment-csv': { type: 'string' },
      'sentiment-url': { type: 'string' },
      config: { type: 'string' },
      out: { type: 'string' },
      ...configFlags(FEATURE_CONFIG_SPEC),
    });
    const marketFile = requireOption(v.market, '--market');
    const out = requireOption(v.out, '--out');
    if (!out.toLowerCase().endsWith('.npz')) throw new InputError('--out must end in .npz', out);
    const window = intOption(v.window, '--window', DEFAULT_WINDOW);
    if (window < 1) throw new InputError(`--window must be ≥ 1, got ${window}`);
    const fileConfig = v.config ? readJsonInput(v.config) : {};
    const config = resolveConfig(FEATURE_CONFIG_SPEC, { ...(fileConfig as object), ...configFromFlags(FEATURE_CONFIG_SPEC, v) }, v.config ?? '--');
    const market = readMarketNpz(readBytes(marketFile), basename(marketFile));
    await useWasm();
    const deps: FeatureDeps = await loadFeatureDeps(market, config, v.inverse, v['shitcoin-inverse']);
    const sentiment = sentimentProvider(v.sentiment, v['sentiment-csv'], v['sentiment-url']);
    if (sentiment) deps.sentiment = sentiment;
    const t0 = performance.now();
    const fm = await buildFeatureMatrix(market, config, deps, ctx);
    const seconds = (performance.now() - t0) / 1000;
    if (fm.warmup >= fm.n) {
      throw new InputError(`no step has every feature defined (${fm.n} steps; ${firstUndefined(fm, fm.n - 1)} is still undefined at the last one): simulate more steps or use shorter windows`, basename(marketFile));
    }
    const states = normalisedStates(fm);
    await writeAtomic(
      out,
      writeNpz({
        feature_names: stringArray(fm.names),
        features: { dtype: 'float64', shape: [fm.n, fm.d], data: fm.values },
        states: { dtype: 'float32', shape: [fm.n, fm.d], data: states },
        warmup: { dtype: 'int32', shape: [], data: Int32Array.of(fm.warmup) },
        window: { dtype: 'int32', shape: [], data: Int32Array.of(window) },
      }),
    );
    return { out, names: fm.names, d: fm.d, n: fm.n, warmup: fm.warmup, window, state_size: window * fm.d, modules: fm.modules, backend: 'wasm', seconds: +seconds.toFixed(3), notes: fm.notes };
  },
};

/** Every rl command of this module (registered in cli/commands/index.ts). */
export const RL_COMMANDS: CommandDef[] = [simulate, features];
