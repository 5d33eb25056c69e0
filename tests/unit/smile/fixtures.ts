/**
 * Small synthetic quote sets for the smile tests (src/core/smile/synthetic.ts): one expiry, three
 * strikes, calls and puts (6 contracts), a continuous session sampled every minute for a day:
 * 8640 quotes, ~6000 training windows of 8 — enough for each model to learn the AR(1) deviation
 * in a few seconds on wasm, small enough that each test file stays well under 60 s.
 */
import { initBackend } from '../../../src/core/backend/backends.ts';
import { syntheticQuotes } from '../../../src/core/smile/synthetic.ts';
import { CRYPTO_SESSION } from '../../../src/core/smile/session.ts';
import type { SmileTrainConfig } from '../../../src/core/smile/trainer.ts';

export async function useWasm(): Promise<void> {
  const a = await initBackend('wasm');
  if (!a.ok) throw new Error(`wasm backend unavailable: ${a.error}`);
}

export const SESSION = CRYPTO_SESSION;

/** φ = 0.5: the best forecast has skill 0.134 over persistence; φ = 1: a random walk (none). */
export function quoteSet(phi: number, seed = 3, days = 1) {
  return syntheticQuotes({ session: CRYPTO_SESSION, days, samplingMinutes: 1, expiryDays: [20], strikeOffsets: [-0.05, 0, 0.05], phi, seed });
}

/** Small, fast models (hidden 16, windows of 8, batches of 128) with what each needs to learn the set. */
export const SMALL: Record<SmileTrainConfig['model'], Partial<SmileTrainConfig>> = {
  gru: { model: 'gru', seqLength: 8, batchSize: 128, hidden: 16, epochs: 6, lr: 3e-3 },
  lstm: { model: 'lstm', seqLength: 8, batchSize: 128, hidden: 16, epochs: 8, lr: 1e-2 },
  mlp: { model: 'mlp', seqLength: 8, batchSize: 128, hidden: 64, epochs: 30, lr: 3e-3 },
  transformer: { model: 'transformer', seqLength: 8, batchSize: 128, hidden: 16, heads: 2, layers: 1, ffDim: 32, epochs: 6, lr: 3e-3 },
};
