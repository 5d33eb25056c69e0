/**
 * The model registry (TensorFlow Playground's habit: choices are name → builder, so adding a model
 * is one line and the CLI, the page and the benchmark list them from here).
 */
import type { SmileModelConfig, SmileModelKind, SmileNet } from './common.ts';
import { buildGru, buildLstm } from './recurrent.ts';
import { buildMlp } from './mlp.ts';
import { buildTransformer, type TransformerParts } from './transformer.ts';

export interface ModelEntry {
  label: string;
  /** One line for help texts and the page. */
  doc: string;
  build(cfg: SmileModelConfig, seed: number, parts?: TransformerParts): SmileNet;
}

export const MODEL_REGISTRY: Record<SmileModelKind, ModelEntry> = {
  gru: { label: 'GRU', doc: 'fused GRU cell (one matMul per step for all gates), linear head on the last state', build: buildGru },
  lstm: { label: 'LSTM', doc: 'fused LSTM cell (one matMul per step for all gates), linear head on the last state', build: buildLstm },
  mlp: { label: 'MLP', doc: 'the flattened window → hidden (ReLU) → 1', build: buildMlp },
  transformer: { label: 'Transformer', doc: 'embedding + positions, post-norm encoder layers with multi-head self-attention, head on the last position', build: buildTransformer },
};

export function buildModel(cfg: SmileModelConfig, seed: number, parts?: TransformerParts): SmileNet {
  return MODEL_REGISTRY[cfg.kind].build(cfg, seed, parts);
}

export { SMILE_MODEL_KINDS, type SmileModelKind, type SmileModelConfig, type SmileNet } from './common.ts';
