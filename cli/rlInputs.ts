/**
 * What the RL commands read (rl env here, rl train / backtest in rlAgent.ts): files, JSON configs,
 * and the market with its feature matrix — `--market`, the feature flags of `rl features`
 * (FeatureConfig: --modules, windows …), `--features FEATURES.json`, `--inverse CKPT` /
 * `--shitcoin-inverse CKPT` (default: the bundled networks, paths from `rl features`). Features are
 * built on the wasm backend, the fastest tfjs backend that runs in Node.
 */
import { basename } from 'node:path';
import { InputError } from '../src/core/errors.ts';
import type { JobContext } from '../src/core/jobs.ts';
import { initBackend } from '../src/core/backend/backends.ts';
import { configFlags, configFromFlags, resolveConfig } from '../src/core/config.ts';
import { decodeCheckpoint } from '../src/core/inverse/checkpoint.ts';
import { readMarketNpz, type MarketData } from '../src/core/market/marketData.ts';
import { FEATURE_CONFIG_SPEC, activeModules, buildFeatureMatrix, type FeatureConfig, type FeatureDeps, type FeatureMatrix } from '../src/core/features/featureMatrix.ts';
import { BUNDLED_INVERSE, BUNDLED_SHITCOIN_INVERSE } from './commands/rl.ts';
import { readBytes } from './io.ts';

export function readJsonFile(file: string): unknown {
  const text = new TextDecoder().decode(readBytes(file));
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(`not valid JSON: ${(e as Error).message}`, file);
  }
}

export async function useWasm(): Promise<void> {
  const a = await initBackend('wasm');
  if (!a.ok) throw new InputError(`the wasm backend is unavailable here: ${a.error}`);
}

/** The networks the active modules need (btc: inverseFile or the bundled one; shitcoin: the bundled pseudo-surface one), loaded only when on. */
export async function loadFeatureDeps(market: MarketData, fc: FeatureConfig, inverseFile: string | undefined, shitcoinFile?: string): Promise<FeatureDeps> {
  const active = activeModules(market, fc);
  const deps: FeatureDeps = {};
  const load = (file: string) => decodeCheckpoint(readBytes(file), basename(file));
  if (active.includes('btc')) deps.inverse = await load(inverseFile ?? BUNDLED_INVERSE);
  else if (inverseFile) throw new InputError('is given but the btc module is off', '--inverse');
  if (active.includes('shitcoin')) deps.shitcoinInverse = await load(shitcoinFile ?? BUNDLED_SHITCOIN_INVERSE);
  else if (shitcoinFile) throw new InputError('is given but the shitcoin module is off', '--shitcoin-inverse');
  return deps;
}

/** parseArgs options for marketAndFeatures. */
export const MARKET_FEATURE_OPTIONS = {
  market: { type: 'string' },
  inverse: { type: 'string' },
  'shitcoin-inverse': { type: 'string' },
  features: { type: 'string' },
  ...configFlags(FEATURE_CONFIG_SPEC),
} as const;

export const MARKET_FEATURE_HELP = `  --market FILE            a market .npz (rl simulate, data align, or numpy with the seed's keys)
  --inverse CKPT           BTC inverse network (default: the bundled seed-grid network)
  --shitcoin-inverse CKPT  pseudo-surface network (default: the bundled one)
  --features FILE          FeatureConfig JSON; the feature flags of rl features (--modules a,b …) override it`;

/** The market and its feature matrix, from MARKET_FEATURE_OPTIONS values. */
export async function marketAndFeatures(v: Record<string, unknown>, ctx: JobContext): Promise<{ market: MarketData; features: FeatureMatrix; featureConfig: FeatureConfig }> {
  if (typeof v.market !== 'string' || v.market === '') throw new InputError('missing required option --market');
  const file = typeof v.features === 'string' ? v.features : undefined;
  const featureConfig = resolveConfig(FEATURE_CONFIG_SPEC, { ...((file ? readJsonFile(file) : {}) as object), ...configFromFlags(FEATURE_CONFIG_SPEC, v) }, file ? basename(file) : 'features');
  const market = readMarketNpz(readBytes(v.market), basename(v.market));
  await useWasm();
  const deps = await loadFeatureDeps(market, featureConfig, v.inverse as string | undefined, v['shitcoin-inverse'] as string | undefined);
  const features = await buildFeatureMatrix(market, featureConfig, deps, ctx);
  return { market, features, featureConfig };
}
