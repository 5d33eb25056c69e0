/**
 * Smile forecasters: training and inference samples/s per model in Node on the wasm backend, at
 * the shapes of the reference PyTorch bench (shared/bench/seed_smile.json): windows [64, 20, 7]
 * of the seed's seven features, GRU / LSTM 7→64 + linear, MLP 140→128→1, Transformer d 64, 4
 * heads, 2 post-norm layers, feed-forward 128; Adam lr 1e-3 on the MSE. Training: 10 warm-up
 * steps, then steps until ≥ 4 s and ≥ 20 steps (forward + backward + Adam, the trainer's own
 * trainStep). Inference: batches of 1024, and one batch of 42 windows (a full option chain).
 * Also at batch 512 (the per-kernel overhead of tfjs is paid per step, so samples/s grows with the
 * batch), and tfjs's stock tf.layers.gru at batch 64 for the fused-cell comparison.
 * The ratio is to the torch 1-thread figure (GRU 19.1k, LSTM 16.5k, MLP 288k, Transformer 4.0k).
 * Run: npx tsx bench/smile.bench.ts — prints one JSON object (~1–2 minutes on 2 loaded cores).
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend/backends.ts';
import { buildModel, SMILE_MODEL_KINDS, type SmileModelKind, type SmileNet } from '../src/core/smile/models/registry.ts';
import { predictScaled } from '../src/core/smile/evaluate.ts';
import { trainStep, defaultHidden } from '../src/core/smile/trainer.ts';

const T = 20;
const F = 7;
const TORCH: Record<SmileModelKind, number> = { gru: 19050, lstm: 16477, mlp: 287863, transformer: 3985 };
const round = (x: number, d = 0) => +x.toFixed(d);

function torchReference(): Record<string, number> {
  try {
    const j = JSON.parse(readFileSync(new URL('../../shared/bench/seed_smile.json', import.meta.url), 'utf8')) as { models: Record<string, { train_samples_per_s_1thread: number }> };
    return Object.fromEntries(Object.entries(j.models).map(([k, v]) => [k, v.train_samples_per_s_1thread]));
  } catch {
    return TORCH; // the figures quoted in the header, when the shared folder is not beside the repo
  }
}

async function timeTraining(net: SmileNet | tf.LayersModel, B: number): Promise<{ samplesPerSec: number; msPerStep: number; steps: number }> {
  const x = tf.randomNormal([B, T, F], 0, 1, 'float32', 1) as tf.Tensor3D;
  const y = tf.randomNormal([B], 0, 1, 'float32', 2) as tf.Tensor1D;
  const opt = tf.train.adam(1e-3);
  const step =
    'variables' in net
      ? () => trainStep(net, opt, [...net.variables.values()], x, y)
      : () => opt.minimize(() => tf.mean(tf.squaredDifference(tf.reshape((net as tf.LayersModel).apply(x) as tf.Tensor, [-1]), y)) as tf.Scalar, true)!;
  for (let i = 0; i < 10; i++) {
    const l = step();
    await l.data();
    l.dispose();
  }
  const t0 = performance.now();
  let steps = 0;
  while (performance.now() - t0 < 4000 || steps < 20) {
    const l = step();
    if (++steps % 10 === 0) await l.data(); // sync now and then, as the trainer does every batch
    l.dispose();
  }
  const probe = step();
  await probe.data();
  probe.dispose();
  steps++;
  const s = (performance.now() - t0) / 1000;
  opt.dispose();
  x.dispose();
  y.dispose();
  return { samplesPerSec: (steps * B) / s, msPerStep: (s * 1000) / steps, steps };
}

async function main() {
  const a = await initBackend('wasm');
  if (!a.ok) throw new Error(`wasm unavailable: ${a.error}`);
  const torch = torchReference();
  const load0 = loadavg();
  const models: Record<string, unknown> = {};
  for (const kind of SMILE_MODEL_KINDS) {
    const net = buildModel({ kind, seqLength: T, nInputs: F, hidden: defaultHidden(kind), layers: 2, heads: 4, ffDim: 128 }, 1);
    const params = [...net.variables.values()].reduce((s, v) => s + v.size, 0);
    const t64 = await timeTraining(net, 64);
    const t512 = await timeTraining(net, 512);
    const xs = (await tf.randomNormal([1024 * 4, T, F], 0, 1, 'float32', 3).data()) as Float32Array;
    await predictScaled(net, { n: 1024, x: xs, seqLength: T, nInputs: F });
    const ti = performance.now();
    await predictScaled(net, { n: 4096, x: xs, seqLength: T, nInputs: F });
    const inferPerSec = 4096 / ((performance.now() - ti) / 1000);
    const chain: number[] = [];
    for (let i = 0; i < 15; i++) {
      const tc = performance.now();
      await predictScaled(net, { n: 42, x: xs.subarray(0, 42 * T * F), seqLength: T, nInputs: F });
      chain.push(performance.now() - tc);
    }
    chain.sort((p, q) => p - q);
    net.dispose();
    models[kind] = {
      parameters: params,
      train_samples_per_s: round(t64.samplesPerSec),
      ms_per_train_step: round(t64.msPerStep, 2),
      ratio_to_torch_1thread: round(t64.samplesPerSec / torch[kind]!, 3),
      torch_1thread: torch[kind],
      train_samples_per_s_batch512: round(t512.samplesPerSec),
      infer_samples_per_s: round(inferPerSec),
      chain42_ms_median: round(chain[7]!, 2),
    };
    process.stderr.write(`${kind}: ${JSON.stringify(models[kind])}\n`);
  }
  // tfjs's stock GRU layer (one kernel per gate per step) at the same shapes, for the fused-cell claim.
  const stock = tf.sequential({ layers: [tf.layers.gru({ units: 64, inputShape: [T, F], }), tf.layers.dense({ units: 1 })] });
  const s64 = await timeTraining(stock, 64);
  stock.dispose();
  models.gru_stock_tf_layers = { train_samples_per_s: round(s64.samplesPerSec), ms_per_train_step: round(s64.msPerStep, 2) };
  process.stdout.write(
    JSON.stringify({
      benchmark: 'smile',
      ok: true,
      backend: tf.getBackend(),
      what: 'smile forecasters, training windows/s (forward+backward+Adam) at the seed bench shapes [64, 20, 7], Node wasm',
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      loadavg_start_end: [load0.map((l) => round(l, 2)), loadavg().map((l) => round(l, 2))],
      models,
    }) + '\n',
  );
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
