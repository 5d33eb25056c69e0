/**
 * Inverse-network training speed in Node: samples per second of the full training step (forward,
 * SmoothL1 + masked MSE, backward, AdamW) at the seed's settings — 5 × 6 grid, batch 256, the
 * default topology — on the wasm and cpu backends, plus inference throughput. The seed's PyTorch
 * model trains a 20k-sample epoch in 0.57 s on this machine class (≈ 35k samples/s): ratios are
 * against that figure (it cannot be re-measured here: no PyTorch). The data are seed-proxy
 * surfaces (the step's cost does not depend on the values). Steady state: the first epoch (JIT,
 * wasm compile, patch matrices) is excluded. Samples/s swing ±15 % between runs on this shared
 * machine: compare code versions with interleaved runs, not against a figure from another day.
 * Run: npx tsx bench/inverse.bench.ts — prints one JSON object (~1 minute).
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendName } from '../src/core/backend/backends.ts';
import { generateDataset } from '../src/core/surface/synthetic.ts';
import { trainInverse } from '../src/core/inverse/trainer.ts';
import { InverseHestonModel, defaultTopology } from '../src/core/inverse/model.ts';
import { predictEncoded } from '../src/core/inverse/predict.ts';

const SEED_PYTORCH_SAMPLES_PER_SEC = 20000 / 0.57;
const round = (x: number, d = 0) => +x.toFixed(d);

async function measure(backend: BackendName, n: number, epochs: number) {
  const a = await initBackend(backend);
  if (!a.ok) return { error: a.error };
  const ds = await generateDataset({ kind: 'proxy', n, seed: 1 });
  const r = await trainInverse({ seed: 1, epochs, batchSize: 256, valFraction: 0, checkpointEvery: 0 }, { synthetic: ds });
  const steady = r.history.slice(1);
  const secs = steady.reduce((s, h) => s + h.seconds, 0);
  const samples = steady.length * (n - 1);
  const model = InverseHestonModel.fresh(defaultTopology(5, 6), 1);
  const x = new Float32Array(4096 * 60).map((_, i) => Math.sin(i));
  await predictEncoded(model, x, 4096);
  const t0 = performance.now();
  await predictEncoded(model, x, 4096);
  const inferSecs = (performance.now() - t0) / 1000;
  model.dispose();
  return { samplesPerSec: samples / secs, inferPerSec: 4096 / inferSecs, epochs: steady.length, samples: n };
}

/**
 * tfjs kernels launched per training step (wasm): tf.profile over runs of 1 and 3 steps, halved
 * difference — per-kernel dispatch is what dominates a step at these tensor sizes.
 */
async function kernelsPerStep(): Promise<number> {
  await initBackend('wasm');
  const count = async (n: number) => {
    const ds = await generateDataset({ kind: 'proxy', n, seed: 2 });
    const p = await tf.profile(() => trainInverse({ seed: 1, epochs: 1, batchSize: 256, valFraction: 0, checkpointEvery: 0 }, { synthetic: ds }).then(() => undefined));
    return p.kernels.length;
  };
  return ((await count(768)) - (await count(256))) / 2;
}

const wasm = await measure('wasm', 5121, 4);
const kernels = await kernelsPerStep();
const cpu = await measure('cpu', 1025, 2);
const out = {
  benchmark: 'inverse',
  grid: '5x6',
  batch: 256,
  parameters: InverseHestonModel.fresh(defaultTopology(5, 6), 1).parameterCount(),
  node_wasm_train_samples_per_sec: 'samplesPerSec' in wasm ? round(wasm.samplesPerSec!) : wasm.error,
  node_wasm_epoch_20k_seconds: 'samplesPerSec' in wasm ? round(20000 / wasm.samplesPerSec!, 2) : null,
  node_wasm_kernels_per_step: kernels,
  node_wasm_infer_surfaces_per_sec: 'inferPerSec' in wasm ? round(wasm.inferPerSec!) : null,
  node_cpu_train_samples_per_sec: 'samplesPerSec' in cpu ? round(cpu.samplesPerSec!) : cpu.error,
  node_cpu_infer_surfaces_per_sec: 'inferPerSec' in cpu ? round(cpu.inferPerSec!) : null,
  seed_pytorch_train_samples_per_sec: round(SEED_PYTORCH_SAMPLES_PER_SEC),
  ratio_wasm_vs_seed_pytorch: 'samplesPerSec' in wasm ? round(wasm.samplesPerSec! / SEED_PYTORCH_SAMPLES_PER_SEC, 3) : null,
  tfjs_backend_last: tf.getBackend(),
};
process.stdout.write(JSON.stringify(out) + '\n');
