/**
 * What the RL commands read: a market .npz, JSON config files, and the inverse networks the active
 * feature modules need (--inverse CKPT or the bundled seed-grid network for btc, the bundled
 * pseudo-surface network for shitcoin; loaded only when the module is on). Features are built on
 * the wasm backend, the fastest tfjs backend that runs here in Node.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../src/core/errors.ts';
import type { JobContext } from '../src/core/jobs.ts';
import { initBackend } from '../src/core/backend/backends.ts';
import { resolveConfig } from '../src/core/config.ts';
import { decodeCheckpoint } from '../src/core/inverse/checkpoint.ts';
import { readMarketNpz, type MarketData } from '../src/core/market/marketData.ts';
import { FEATURE_CONFIG_SPEC, activeModules, buildFeatureMatrix, type FeatureConfig, type FeatureDeps, type FeatureMatrix } from '../src/core/features/featureMatrix.ts';

export const BUNDLED_CHECKPOINTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', 'checkpoints');

export function readBytes(file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new InputError(`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, file);
  }
}

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

/** The networks the active modules need (see the header). */
export async function loadFeatureDeps(market: MarketData, fc: FeatureConfig, inverseFile: string | undefined): Promise<FeatureDeps> {
  const active = activeModules(market, fc);
  const deps: FeatureDeps = {};
  const load = (file: string) => decodeCheckpoint(readBytes(file), basename(file));
  if (active.includes('btc')) deps.inverse = await load(inverseFile ?? join(BUNDLED_CHECKPOINTS, 'seed-grid-heston.hlckpt'));
  else if (inverseFile) throw new InputError('is given but the btc module is off', '--inverse');
  if (active.includes('shitcoin')) deps.shitcoinInverse = await load(join(BUNDLED_CHECKPOINTS, 'shitcoin-pseudo-heston.hlckpt'));
  return deps;
}

/** --market FILE [--features FEATURES.json] [--modules a,b] [--inverse CKPT] → market and its feature matrix. */
export async function marketAndFeatures(
  v: { market?: string; features?: string; modules?: string; inverse?: string },
  ctx: JobContext,
): Promise<{ market: MarketData; features: FeatureMatrix; featureConfig: FeatureConfig }> {
  if (!v.market) throw new InputError('missing required option --market');
  const fileCfg = v.features ? readJsonFile(v.features) : {};
  const where = v.features ? basename(v.features) : 'features';
  const featureConfig = resolveConfig(FEATURE_CONFIG_SPEC, { ...(fileCfg as object), ...(v.modules !== undefined ? { modules: v.modules } : {}) }, v.modules !== undefined ? `${where} (--modules)` : where);
  const market = readMarketNpz(readBytes(v.market), basename(v.market));
  await useWasm();
  const deps = await loadFeatureDeps(market, featureConfig, v.inverse);
  const features = await buildFeatureMatrix(market, featureConfig, deps, ctx);
  return { market, features, featureConfig };
}
