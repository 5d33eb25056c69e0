/**
 * buildFeatureMatrix (contract C4): the raw [n, D] feature matrix of a market, computed once per
 * (market, checkpoints, provider, config) — features depend only on data up to each step, so the
 * environment then only normalises and stacks. The inverse networks run batched over every surface
 * on the active tfjs backend. With `deps.cache` (any Store: IndexedDB in the browser, a FileStore
 * in Node, a MemoryStore in a process) a matrix already built under the same key is returned as is.
 *
 * The registry (FEATURE_MODULES) says which modules exist and when the market has their data;
 * `modules` in the config chooses which are on ('auto': every module whose data the market has —
 * btc always (it needs the surfaces), shitcoin only with shit_* keys, sentiment always (neutral
 * unless a provider is given), generic always).
 */
import { defaultsOf, resolveConfig, type ConfigSpec } from '../config.ts';
import { InputError } from '../errors.ts';
import type { JobContext } from '../jobs.ts';
import { sha256, toHex } from '../io/bundle.ts';
import type { InverseCheckpoint } from '../inverse/checkpoint.ts';
import { writeMarketNpz, type MarketData } from '../market/marketData.ts';
import type { Store } from '../store/store.ts';
import { BtcHestonFeatureModule } from './btcHeston.ts';
import { FeatureEngine, type FeatureMatrix, type MarketFeatureModule } from './featureEngine.ts';
import { GenericMarketFeatureModule } from './generic.ts';
import { NeutralSentimentProvider, SentimentFeatureModule, type SentimentProvider } from './sentiment.ts';
import { ShitcoinFeatureModule, type ShitcoinVariant } from './shitcoin.ts';

export type { FeatureMatrix } from './featureEngine.ts';

export interface FeatureConfig {
  /** 'auto' (every module whose data the market has) or a comma-separated list. */
  modules: string;
  realisedVolWindows: number[];
  returnWindows: number[];
  genericWindow: number;
  momentWindows: number[];
  matrixWindows: number[];
  pseudoWindow: number;
  volumeWindow: number;
  shitcoinVariant: ShitcoinVariant;
}

export const MODULE_NAMES = ['btc', 'generic', 'sentiment', 'shitcoin'] as const;
export type ModuleName = (typeof MODULE_NAMES)[number];

export const FEATURE_CONFIG_SPEC: ConfigSpec<FeatureConfig> = {
  modules: { default: 'auto', doc: 'modules on, comma-separated (btc, generic, sentiment, shitcoin); auto: every module whose data the market has' },
  realisedVolWindows: { default: [12, 48, 168], integer: true, min: 2, doc: 'btc: realised-vol windows of spot', unit: 'steps' },
  returnWindows: { default: [1, 4, 24, 168], integer: true, min: 1, doc: 'generic: log-return windows', unit: 'steps' },
  genericWindow: { default: 24, integer: true, min: 2, doc: 'generic: realised vol, range and volume z-score window', unit: 'steps' },
  momentWindows: { default: [24, 96, 336], integer: true, min: 2, doc: 'shitcoin: return-moment windows (mean, vol, skew, kurtosis)', unit: 'steps' },
  matrixWindows: { default: [3, 10, 30, 100, 300], integer: true, min: 2, doc: 'shitcoin, variant moments: windows of the original design’s [M, 4] moments matrix (M = the network’s nk)', unit: 'steps' },
  pseudoWindow: { default: 480, integer: true, min: 20, doc: 'shitcoin, variant pseudoSurface: returns in each horizon’s empirical distribution', unit: 'steps' },
  volumeWindow: { default: 24, integer: true, min: 2, doc: 'shitcoin: volume z-score window', unit: 'steps' },
  shitcoinVariant: { default: 'pseudoSurface', choices: ['pseudoSurface', 'moments'], doc: 'shitcoin Heston features from priced empirical distributions (pseudoSurface) or the original design’s raw moments matrix (moments)' },
};

export const DEFAULT_FEATURE_CONFIG: FeatureConfig = defaultsOf(FEATURE_CONFIG_SPEC);

export interface FeatureDeps {
  /** The BTC inverse network (on the market's grid): the btc module needs it. */
  inverse?: InverseCheckpoint & { hash?: string };
  /** The network on the pseudo-surface grid: the shitcoin module needs it. */
  shitcoinInverse?: InverseCheckpoint & { hash?: string };
  /** Sentiment provider (default: neutral). */
  sentiment?: SentimentProvider;
  /** Where built matrices are kept (key: featureCacheKey). */
  cache?: Store;
}

interface ModuleEntry {
  /** Whether the market has the data the module reads. */
  hasData(m: MarketData): boolean;
  make(m: MarketData, c: FeatureConfig, deps: FeatureDeps): MarketFeatureModule;
}

/** The module registry. */
export const FEATURE_MODULES: Record<ModuleName, ModuleEntry> = {
  btc: {
    hasData: (m) => m.hasSurface.some((h) => h === 1),
    make: (m, c, d) => {
      if (!d.inverse) throw new InputError('the btc module needs the BTC inverse network (deps.inverse; the CLI loads the bundled one)', 'features.btc');
      return new BtcHestonFeatureModule(m, { inverse: d.inverse, realisedVolWindows: c.realisedVolWindows });
    },
  },
  generic: {
    hasData: () => true,
    make: (m, c) => new GenericMarketFeatureModule(m, { returnWindows: c.returnWindows, window: c.genericWindow }),
  },
  sentiment: {
    hasData: () => true,
    make: (m, _c, d) => new SentimentFeatureModule(m, d.sentiment ?? new NeutralSentimentProvider()),
  },
  shitcoin: {
    hasData: (m) => m.shitPrices !== undefined,
    make: (m, c, d) => {
      if (!d.shitcoinInverse) throw new InputError('the shitcoin module needs the pseudo-surface inverse network (deps.shitcoinInverse; the CLI loads the bundled one)', 'features.shitcoin');
      return new ShitcoinFeatureModule(m, { inverse: d.shitcoinInverse, variant: c.shitcoinVariant, momentWindows: c.momentWindows, matrixWindows: c.matrixWindows, pseudoWindow: c.pseudoWindow, volumeWindow: c.volumeWindow });
    },
  },
};

/** The modules a config turns on for a market (names checked; a module without its data is an error). */
export function activeModules(m: MarketData, c: FeatureConfig): ModuleName[] {
  if (c.modules.trim() === 'auto') return MODULE_NAMES.filter((n) => FEATURE_MODULES[n].hasData(m));
  const names = c.modules.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new InputError('no module named (give e.g. btc,generic)', 'features.modules');
  for (const n of names) {
    if (!(MODULE_NAMES as readonly string[]).includes(n)) throw new InputError(`unknown module "${n}" (known: ${MODULE_NAMES.join(', ')})`, 'features.modules');
    if (!FEATURE_MODULES[n as ModuleName].hasData(m)) throw new InputError(`the market "${m.name}" has no data for module ${n}${n === 'shitcoin' ? ' (no shit_prices)' : n === 'btc' ? ' (no step has a surface)' : ''}`, 'features.modules');
  }
  if (new Set(names).size !== names.length) throw new InputError(`a module is named twice in "${c.modules}"`, 'features.modules');
  return [...names].sort() as ModuleName[];
}

/** The cache key: market content hash + checkpoint hashes + provider + config. */
export async function featureCacheKey(m: MarketData, c: FeatureConfig, deps: FeatureDeps, active: readonly ModuleName[]): Promise<string> {
  const hex = async (b: Uint8Array) => toHex(await sha256(b)).slice(0, 32);
  const ck = async (x?: InverseCheckpoint & { hash?: string }) => (x ? (x.hash ?? (await hex(new TextEncoder().encode(JSON.stringify({ n: x.name, c: x.created, g: x.grid }))))).slice(0, 16) : '-');
  const parts = {
    market: await hex(writeMarketNpz(m)),
    btc: active.includes('btc') ? await ck(deps.inverse) : '-',
    shitcoin: active.includes('shitcoin') ? await ck(deps.shitcoinInverse) : '-',
    sentiment: active.includes('sentiment') ? (deps.sentiment?.name ?? 'neutral') : '-',
    config: await hex(new TextEncoder().encode(JSON.stringify({ ...c, modules: active }))),
  };
  return `features/${parts.market}/${parts.btc}-${parts.shitcoin}-${parts.sentiment}-${parts.config.slice(0, 16)}`;
}

/** Modules and engine for a market and config (for callers that step the engine themselves). */
export function createFeatureEngine(m: MarketData, config: Partial<FeatureConfig> = {}, deps: FeatureDeps = {}): { engine: FeatureEngine; modules: MarketFeatureModule[]; config: FeatureConfig; active: ModuleName[] } {
  const c = resolveConfig(FEATURE_CONFIG_SPEC, config, 'features');
  const active = activeModules(m, c);
  const modules = active.map((n) => FEATURE_MODULES[n].make(m, c, deps));
  return { engine: new FeatureEngine(modules), modules, config: c, active };
}

/** C4: the raw feature matrix of a market (cached under featureCacheKey when deps.cache is given). */
export async function buildFeatureMatrix(market: MarketData, config: Partial<FeatureConfig> = {}, deps: FeatureDeps = {}, ctx: JobContext = {}): Promise<FeatureMatrix> {
  const { engine, modules, config: c, active } = createFeatureEngine(market, config, deps);
  const key = deps.cache ? await featureCacheKey(market, c, deps, active) : undefined;
  if (deps.cache && key) {
    const hit = await deps.cache.get<FeatureMatrix>(key);
    if (hit) return hit;
  }
  const fm = await engine.buildMatrix(modules, market.timesMs.length, ctx);
  if (deps.cache && key) await deps.cache.set(key, fm);
  return fm;
}
