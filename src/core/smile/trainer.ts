/**
 * Training a smile forecaster (the seed's train_model.py): quotes → windows (sequences.ts) →
 * GRU / LSTM / MLP / Transformer (models/) with Adam on the MSE of the standardised target, on
 * the active tfjs backend. Same seed → same weights, same batch order, same result on a backend.
 *
 * The loop reports progress after every batch (throttled) and per epoch (train loss, validation
 * loss, samples/s), yields to the event loop at least every ~20 ms so a cancel lands within
 * ~50 ms (CancelledError), keeps the weights of the epoch with the lowest validation loss
 * (`keepBest`), evaluates on the test period against persistence, and packs the checkpoint. When
 * a tracking run is passed in, it logs the seed's params (lr, seq_length, epochs, batch_size,
 * model …), `epoch_loss` and `val_loss` per epoch, `final_loss`, the test figures, and the
 * checkpoint as the artifact `checkpoints/<model>.hlckpt`; the caller ends the run.
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../errors.ts';
import { defaultsOf, resolveConfig, type ConfigSpec } from '../config.ts';
import { throttledProgress, throwIfAborted, withEta, yieldToEventLoop, type JobContext } from '../jobs.ts';
import { Rng } from '../math/rng.ts';
import type { JsonValue } from '../io/bundle.ts';
import type { ActiveRun } from '../tracking/tracker.ts';
import { buildSmileDataset, type DatasetConfig, type SequenceSet, type SmileDataset, type SmileInputs, type SmileTarget } from './sequences.ts';
import { buildModel, SMILE_MODEL_KINDS, type SmileModelConfig, type SmileModelKind, type SmileNet } from './models/registry.ts';
import { encodeSmileCheckpoint, readWeights, type SmileCheckpoint } from './checkpoint.ts';
import { evaluatePredictions, predictScaled, toIv, type SmileEvaluation } from './evaluate.ts';
import type { QuoteRecord, SmileIvUnit } from './quotes.ts';
import type { SessionConfig } from './session.ts';

export interface SmileTrainConfig {
  model: SmileModelKind;
  seed: number;
  lr: number;
  epochs: number;
  batchSize: number;
  seqLength: number;
  target: SmileTarget;
  inputs: SmileInputs;
  hidden: number | null;
  layers: number;
  heads: number;
  ffDim: number;
  trainFraction: number;
  valFraction: number;
  maxGapIntervals: number;
  samplingMs: number | null;
  keepBest: boolean;
}

export const SMILE_TRAIN_SPEC: ConfigSpec<SmileTrainConfig> = {
  model: { default: 'gru', doc: 'forecaster: gru, lstm, mlp (flattened window) or transformer', choices: SMILE_MODEL_KINDS },
  seed: { default: 1, doc: 'weight init and batch order', integer: true, min: 0 },
  lr: { default: 1e-3, doc: 'Adam learning rate (the original design’s bench: 0.001)', min: 1e-7, max: 1 },
  epochs: { default: 20, doc: 'passes over the training windows', integer: true, min: 1, max: 10_000 },
  batchSize: { default: 64, doc: 'windows per Adam step (the original design’s bench: 64)', integer: true, min: 1, max: 65_536 },
  seqLength: { default: 20, doc: "quotes per window (the original design’s SEQ_LENGTH)", integer: true, min: 1, max: 512 },
  target: { default: 'change', doc: "predict the next IV's change from the last IV, or its level (as the original design does)", choices: ['change', 'level'] },
  inputs: { default: 'original+iv', doc: "the original design’s seven features plus past IVs, or the seven only ('original')", choices: ['original+iv', 'original'] },
  hidden: { default: null, nullable: true, doc: 'hidden size / d_model (none: gru, lstm, transformer 64; mlp 128)', integer: true, min: 1, max: 4096 },
  layers: { default: 2, doc: 'transformer encoder layers', integer: true, min: 1, max: 16 },
  heads: { default: 4, doc: 'transformer attention heads (must divide the hidden size)', integer: true, min: 1, max: 64 },
  ffDim: { default: 128, doc: 'transformer feed-forward width', integer: true, min: 1, max: 16_384 },
  trainFraction: { default: 0.7, doc: 'share of timestamps in the training period (the earliest)', min: 0.01, max: 0.98 },
  valFraction: { default: 0.15, doc: 'share of timestamps in the validation period (next; the rest is test)', min: 0, max: 0.98 },
  maxGapIntervals: { default: 3, doc: 'a gap longer than this many sampling intervals splits a contract', min: 1 },
  samplingMs: { default: null, nullable: true, doc: 'sampling interval in ms (none: the median step of the file)', min: 1 },
  keepBest: { default: true, doc: 'keep the weights of the epoch with the lowest validation loss' },
};
export const DEFAULT_SMILE_TRAIN_CONFIG: SmileTrainConfig = defaultsOf(SMILE_TRAIN_SPEC);

/** Named Rng stream ids of the trainer (the model's init streams live in models/common.ts). */
export const STREAM = { shuffle: 0x5e_0001 } as const;

export function defaultHidden(kind: SmileModelKind): number {
  return kind === 'mlp' ? 128 : 64;
}

export function modelConfigOf(cfg: SmileTrainConfig, nInputs: number): SmileModelConfig {
  return { kind: cfg.model, seqLength: cfg.seqLength, nInputs, hidden: cfg.hidden ?? defaultHidden(cfg.model), layers: cfg.layers, heads: cfg.heads, ffDim: cfg.ffDim };
}

export function datasetConfigOf(cfg: SmileTrainConfig): DatasetConfig {
  const { seqLength, target, inputs, trainFraction, valFraction, maxGapIntervals, samplingMs } = cfg;
  return { seqLength, target, inputs, trainFraction, valFraction, maxGapIntervals, samplingMs };
}

export interface SmileEpochRecord {
  epoch: number;
  /** Mean training loss (MSE of the standardised target) over the epoch's batches. */
  epochLoss: number;
  valLoss: number | null;
  samplesPerSec: number;
  seconds: number;
}

export interface SmileTrainInputs {
  quotes: readonly QuoteRecord[];
  session: SessionConfig;
  ivUnit: SmileIvUnit;
  /** Provenance of the quotes (file name, synthetic flag …). */
  dataInfo?: { [k: string]: JsonValue };
}

export interface SmileTrainOptions {
  run?: ActiveRun;
  name?: string;
}

export interface SmileTrainResult {
  config: SmileTrainConfig;
  checkpoint: SmileCheckpoint;
  bytes: Uint8Array;
  history: SmileEpochRecord[];
  test: SmileEvaluation;
  nTrain: number;
  nVal: number;
  nTest: number;
  bestEpoch: number;
  seconds: number;
}

/** One Adam step on the MSE of a batch; returns the loss (a scalar the caller reads and frees). */
export function trainStep(net: SmileNet, optimizer: tf.Optimizer, vars: tf.Variable[], x: tf.Tensor3D, y: tf.Tensor1D): tf.Scalar {
  return optimizer.minimize(() => tf.mean(tf.squaredDifference(net.apply(x), y)) as tf.Scalar, true, vars)!;
}

/** Fills xb/yb with the windows order[from, from+m) of `set`. */
function gather(set: SequenceSet, order: Int32Array, from: number, m: number, xb: Float32Array, yb: Float32Array): void {
  const per = set.seqLength * set.nInputs;
  for (let k = 0; k < m; k++) {
    const w = order[from + k]!;
    xb.set(set.x.subarray(w * per, (w + 1) * per), k * per);
    yb[k] = set.y[w]!;
  }
}

async function mse(net: SmileNet, set: SequenceSet, ctx: JobContext): Promise<number | null> {
  if (set.n === 0) return null;
  const p = await predictScaled(net, set, ctx);
  let s = 0;
  for (let i = 0; i < set.n; i++) s += (p[i]! - set.y[i]!) ** 2;
  return s / set.n;
}

/** The seed's parameter names (snake_case) for the tracker. */
function runParams(cfg: SmileTrainConfig, model: SmileModelConfig, ds: SmileDataset, inputs: SmileTrainInputs): Record<string, string | number | boolean> {
  return {
    model: cfg.model,
    lr: cfg.lr,
    seq_length: cfg.seqLength,
    epochs: cfg.epochs,
    batch_size: cfg.batchSize,
    seed: cfg.seed,
    target: cfg.target,
    inputs: cfg.inputs,
    hidden: model.hidden,
    ...(cfg.model === 'transformer' ? { layers: cfg.layers, heads: cfg.heads, ff_dim: cfg.ffDim } : {}),
    train_fraction: cfg.trainFraction,
    val_fraction: cfg.valFraction,
    max_gap_intervals: cfg.maxGapIntervals,
    sampling_ms: ds.samplingMs,
    keep_best: cfg.keepBest,
    session_open: inputs.session.open,
    session_tz: inputs.session.tz,
    session_kind: inputs.session.kind,
    iv_unit: inputs.ivUnit,
    n_train: ds.train.n,
    n_val: ds.val.n,
    n_test: ds.test.n,
    backend: tf.getBackend(),
  };
}

export async function trainSmile(config: Partial<SmileTrainConfig>, inputs: SmileTrainInputs, opts: SmileTrainOptions = {}, ctx: JobContext = {}): Promise<SmileTrainResult> {
  ctx = withEta(ctx); // progress after the first report carries etaMs (the page's "time left")
  const t0 = Date.now();
  const cfg = resolveConfig(SMILE_TRAIN_SPEC, config, 'smile train config');
  const ds = buildSmileDataset(inputs.quotes, datasetConfigOf(cfg), inputs.session);
  const modelCfg = modelConfigOf(cfg, ds.names.length);
  if (cfg.model === 'transformer' && modelCfg.hidden % cfg.heads !== 0) throw new InputError(`hidden ${modelCfg.hidden} is not a multiple of heads ${cfg.heads}`, 'smile train config');
  const run = opts.run;
  await run?.logParams(runParams(cfg, modelCfg, ds, inputs));
  const net = buildModel(modelCfg, cfg.seed);
  const optimizer = tf.train.adam(cfg.lr);
  const vars = [...net.variables.values()];
  const train = ds.train;
  const per = train.seqLength * train.nInputs;
  const B = Math.min(cfg.batchSize, train.n);
  const xb = new Float32Array(B * per);
  const yb = new Float32Array(B);
  const progress = throttledProgress(ctx, 100);
  const batchesPerEpoch = Math.ceil(train.n / B);
  const history: SmileEpochRecord[] = [];
  let best: { epoch: number; val: number; weights: Map<string, { shape: number[]; data: Float32Array }> } | undefined;
  try {
    for (let epoch = 1; epoch <= cfg.epochs; epoch++) {
      const te = Date.now();
      const order = Int32Array.from({ length: train.n }, (_, i) => i);
      Rng.stream(cfg.seed, STREAM.shuffle + epoch).shuffle(order);
      let lossSum = 0;
      let lastYield = Date.now();
      for (let b = 0; b < batchesPerEpoch; b++) {
        throwIfAborted(ctx.signal);
        const from = b * B;
        const m = Math.min(B, train.n - from);
        gather(train, order, from, m, xb, yb);
        const loss = tf.tidy(() => {
          const x = tf.tensor3d(m === B ? xb : xb.subarray(0, m * per), [m, train.seqLength, train.nInputs]);
          const y = tf.tensor1d(m === B ? yb : yb.subarray(0, m));
          return trainStep(net, optimizer, vars, x, y);
        });
        const l = (await loss.data())[0]!;
        loss.dispose();
        if (!Number.isFinite(l)) throw new Error(`training diverged at epoch ${epoch}, batch ${b + 1} (loss ${l}); lower lr (now ${cfg.lr})`);
        lossSum += l * m;
        progress({ done: (epoch - 1) * batchesPerEpoch + b + 1, total: cfg.epochs * batchesPerEpoch, message: `epoch ${epoch}/${cfg.epochs}, batch ${b + 1}/${batchesPerEpoch}`, metrics: { epoch, batch: b + 1, batchLoss: l } });
        if (Date.now() - lastYield > 20) {
          await yieldToEventLoop();
          lastYield = Date.now();
        }
      }
      const epochLoss = lossSum / train.n;
      const valLoss = await mse(net, ds.val, ctx);
      const seconds = (Date.now() - te) / 1000;
      const rec: SmileEpochRecord = { epoch, epochLoss, valLoss, samplesPerSec: train.n / Math.max(seconds, 1e-3), seconds };
      history.push(rec);
      run?.logMetrics(epoch, { epoch_loss: epochLoss, ...(valLoss === null ? {} : { val_loss: valLoss }), samples_per_s: rec.samplesPerSec });
      ctx.onProgress?.({ done: epoch * batchesPerEpoch, total: cfg.epochs * batchesPerEpoch, message: `epoch ${epoch}/${cfg.epochs}: loss ${epochLoss.toPrecision(4)}${valLoss === null ? '' : `, val ${valLoss.toPrecision(4)}`}`, metrics: { epoch, epochDone: 1, epochLoss, ...(valLoss === null ? {} : { valLoss }), samplesPerSec: rec.samplesPerSec } });
      const score = valLoss ?? epochLoss;
      if (cfg.keepBest && (!best || score < best.val)) best = { epoch, val: score, weights: await readWeights(net) };
      await yieldToEventLoop();
    }
    if (best) {
      for (const [name, w] of best.weights) {
        const t = tf.tensor(w.data, w.shape);
        net.variables.get(name)!.assign(t);
        t.dispose();
      }
    }
    const bestEpoch = best?.epoch ?? cfg.epochs;
    const scaled = await predictScaled(net, ds.test, ctx);
    const test = evaluatePredictions(ds.test, toIv(scaled, ds.test.lastIv, cfg.target, ds.targetScale), ds.features);
    const finalLoss = history[history.length - 1]!.epochLoss;
    const seconds = (Date.now() - t0) / 1000;
    const metrics = {
      final_loss: finalLoss,
      best_epoch: bestEpoch,
      best_val_loss: best?.val ?? null,
      test_rmse_vol: test.rmse_vol,
      test_mae_vol: test.mae_vol,
      persistence_rmse_vol: test.persistence_rmse_vol,
      persistence_mae_vol: test.persistence_mae_vol,
      skill: test.skill,
      n_train: train.n,
      n_val: ds.val.n,
      n_test: ds.test.n,
      seconds,
    };
    const checkpoint: SmileCheckpoint = {
      name: opts.name ?? `smile-${cfg.model}`,
      created: new Date().toISOString(),
      model: modelCfg,
      attention: 'attentionConfigs' in net ? (net as SmileNet & { attentionConfigs: SmileCheckpoint['attention'] }).attentionConfigs : null,
      dataset: ds.config,
      scaler: ds.scaler.state,
      targetScale: ds.targetScale,
      samplingMs: ds.samplingMs,
      session: inputs.session,
      ivUnit: inputs.ivUnit,
      provenance: { seed: cfg.seed, config: JSON.parse(JSON.stringify(cfg)) as JsonValue, data: inputs.dataInfo ?? {}, backend: tf.getBackend(), valStart: new Date(ds.valStartMs).toISOString(), testStart: new Date(ds.testStartMs).toISOString() },
      metrics: { ...metrics, by_maturity: test.by_maturity as unknown as JsonValue, by_moneyness: test.by_moneyness as unknown as JsonValue, history: history as unknown as JsonValue },
      weights: await readWeights(net),
    };
    const bytes = await encodeSmileCheckpoint(checkpoint);
    if (run) {
      const numeric = Object.fromEntries(Object.entries(metrics).filter((e): e is [string, number] => typeof e[1] === 'number'));
      run.logMetrics(cfg.epochs, numeric);
      await run.logArtifact(`checkpoints/${cfg.model}.hlckpt`, bytes);
      await run.flush();
    }
    return { config: cfg, checkpoint, bytes, history, test, nTrain: train.n, nVal: ds.val.n, nTest: ds.test.n, bestEpoch, seconds };
  } finally {
    net.dispose();
    optimizer.dispose();
  }
}
