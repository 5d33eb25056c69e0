/**
 * Training the InverseHestonModel on the active tfjs backend, in the three modes of seed chapter IX:
 *
 *   synthetic  L = SmoothL1(params) + λ·MSE_masked(recon)                     (IX.2, supervised)
 *   real       L = MSE_masked(recon) on library surfaces, ParamHeads optionally frozen (IX.3)
 *   mixed      L = SmoothL1(params_s) + λ·MSE(recon_s) + λ_r·MSE(recon_r)       (IX.4)
 *
 * Same seed → same weight init, validation split and batch order (all from Rng), on any backend.
 * The loop reports epoch, batch, losses and samples/s; awaits a PauseGate between batches; stops
 * on abort; and every `checkpointEvery` epochs writes a resumable state (weights bundle + AdamW
 * moments + history) to a Store, so closing the tab loses at most that interval.
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../errors.ts';
import { throttledProgress, throwIfAborted, withEta, yieldToEventLoop, type JobContext, type Progress } from '../jobs.ts';
import { defaultsOf, type ConfigSpec } from '../config.ts';
import { Rng } from '../math/rng.ts';
import { PARAM_NAMES } from '../heston/params.ts';
import type { Surface } from '../surface/types.ts';
import type { Store } from '../store/store.ts';
import { decodeCheckpoint, encodeCheckpoint, type InverseCheckpoint, type JsonValue } from './checkpoint.ts';
import { AdamW, DEFAULT_ADAMW, type AdamWState } from '../nn/adamw.ts';
import { HestonInverseDataset, RealIvSurfaceDataset, checkGrid, gatherBatch, type EncodedSet, type LabelledSurfaces } from './datasets.ts';
import { InverseHestonModel, defaultTopology, type InverseTopology } from './model.ts';
import { computeNormalisation, decodeParams, type InverseNormalisation, type ParamTransform } from './normalisation.ts';
import { paramRecovery, type PerParam } from './metrics.ts';
import { predictEncoded } from './predict.ts';
import { impliedVolNewtonTf, normalisedOtmBatchTf } from '../heston/batchedPricer.ts';
import type { PauseGate } from './pauseGate.ts';

export type InverseMode = 'synthetic' | 'real' | 'mixed';

/**
 * Every knob of a training run. The defaults and a doc line per field live in TRAIN_CONFIG_SPEC
 * below (one declaration: the CLI flags and help, the Inverse page's state and the trainer all
 * read it); the comments here add what a doc line cannot.
 */
export interface InverseTrainConfig {
  mode: InverseMode;
  seed: number;
  epochs: number;
  batchSize: number;
  lr: number;
  lrFinalFraction: number;
  weightDecay: number;
  reconWeight: number;
  realReconWeight: number;
  freezeParamHeads: boolean;
  /**
   * μ: the predicted parameters are priced with the batched tfjs Heston pricer and their implied
   * vols compared with the input surface (masked SmoothL1 in the same per-cell z units as the
   * reconstruction), so the parameters themselves must explain the surface. Off by default: see
   * README, "physics loss", for why.
   */
  physicsWeight: number;
  valFraction: number;
  checkpointEvery: number;
  /** Architecture overrides (defaults in defaultTopology; not a flag: new models only). */
  topology?: Partial<Pick<InverseTopology, 'convChannels' | 'hiddenDim' | 'headHidden' | 'surfaceHidden' | 'kernel' | 'pool'>>;
}

export const TRAIN_CONFIG_SPEC: ConfigSpec<Omit<InverseTrainConfig, 'topology'>> = {
  mode: { default: 'synthetic', choices: ['synthetic', 'real', 'mixed'], doc: 'synthetic: labelled surfaces; real: fine-tune a checkpoint on library surfaces (reconstruction only); mixed: both' },
  seed: { default: 1, integer: true, doc: 'weight init, validation split and batch order' },
  epochs: { default: 30, integer: true, min: 1, doc: 'passes over the training split' },
  batchSize: { default: 256, integer: true, min: 1, doc: 'surfaces per optimiser step' },
  lr: { default: 2e-3, min: 0, doc: 'peak learning rate, cosine-decayed to lr × lrFinalFraction over the run' },
  lrFinalFraction: { default: 0.05, min: 0, max: 1, doc: 'final learning rate as a share of the peak' },
  weightDecay: { default: 1e-4, min: 0, doc: 'AdamW decoupled weight decay (matrices only)' },
  reconWeight: { default: 0.3, min: 0, doc: 'λ: weight of the reconstruction loss on synthetic data (original design: 0.3)' },
  realReconWeight: { default: 0.3, min: 0, doc: 'λ_r: weight of the reconstruction loss on real surfaces (mixed mode)' },
  freezeParamHeads: { default: true, doc: 'real/mixed: keep the five ParamHeads as pre-trained (original design’s IX.3 train_param_heads=false)' },
  physicsWeight: { default: 0, min: 0, doc: 'μ: weight of the physics loss (price the predicted parameters, compare implied vols with the input)' },
  valFraction: { default: 0.1, min: 0, max: 0.9, doc: 'share of each data set held out for validation' },
  checkpointEvery: { default: 5, integer: true, min: 0, doc: 'write a resumable state every N epochs (0: never)' },
};

export const DEFAULT_TRAIN_CONFIG: InverseTrainConfig = defaultsOf(TRAIN_CONFIG_SPEC);

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainParamLoss: number;
  trainReconLoss: number;
  valLoss: number;
  valParamLoss: number;
  valReconLoss: number;
  /** Validation R² per parameter in natural units (labelled data only). */
  valR2: PerParam | null;
  samplesPerSec: number;
  seconds: number;
}

export interface TrainInputs {
  /** Labelled synthetic surfaces (synthetic and mixed modes). */
  synthetic?: LabelledSurfaces;
  /** Library surfaces on the model's grid (real and mixed modes). */
  real?: readonly Surface[];
  /** Start from this checkpoint (required for real mode; optional for mixed and synthetic). */
  init?: InverseCheckpoint & { hash?: string };
  /** What the data was, for provenance: generator kind, n, seed, prior, file names … */
  dataInfo?: { [k: string]: JsonValue };
  prior?: JsonValue;
}

/**
 * What the trainer reports: batch figures in `metrics` (numbers for a live plot: loss, lr,
 * samplesPerSec …) and, at the end of each epoch, that epoch's typed record.
 */
export interface TrainProgress extends Progress {
  epochRecord?: EpochRecord;
}

/** The epoch record a progress report carries when it ends an epoch (undefined for batch reports). */
export function epochRecordOf(p: Progress): EpochRecord | undefined {
  return (p as TrainProgress).epochRecord;
}

/** A resumable training state, as written to the Store every `checkpointEvery` epochs. */
export interface ResumeState {
  version: 1;
  config: InverseTrainConfig;
  /** Epochs completed. */
  epoch: number;
  /** The model so far, as a checkpoint bundle. */
  bundle: Uint8Array;
  optimizer: AdamWState;
  history: EpochRecord[];
  /** Sizes of the data it was training on; a resume on other data is refused. */
  dataShape: { synthetic: number; real: number };
  savedAt: string;
}

export interface TrainOptions {
  gate?: PauseGate;
  store?: Store;
  /** Store key of the resumable state (default "inverse/run/latest"). */
  stateKey?: string;
  /** Continue from this state (same config and data). */
  resume?: ResumeState;
  /** With `resume`: a new total number of epochs (more than the state has done) instead of the
   *  saved run's. The cosine schedule then runs over the new total, so the learning rate at the
   *  resume point is the new schedule's (higher when the run is extended). */
  epochs?: number;
  name?: string;
}

export interface TrainResult {
  checkpoint: InverseCheckpoint;
  history: EpochRecord[];
  /** Validation indices into inputs.synthetic (for evaluation on unseen data). */
  valIndices: number[];
}

interface Split {
  set: EncodedSet;
  train: Int32Array;
  val: Int32Array;
}

function split(n: number, valFraction: number, rng: Rng): { train: Int32Array; val: Int32Array } {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  rng.shuffle(order);
  const nVal = n >= 10 ? Math.max(1, Math.round(n * valFraction)) : 0;
  return { val: order.slice(0, nVal).sort(), train: order.slice(nVal) };
}

function lrAt(cfg: InverseTrainConfig, step: number, totalSteps: number): number {
  const f = totalSteps > 1 ? Math.min(step / (totalSteps - 1), 1) : 1;
  const lo = cfg.lr * cfg.lrFinalFraction;
  return lo + 0.5 * (cfg.lr - lo) * (1 + Math.cos(Math.PI * f));
}

/** Batches between two read-backs of the step losses. */
const READ_EVERY = 8;

/** Where the physics loss clamps predicted parameters so an untrained network cannot feed the pricer absurd values. */
const PHYSICS_BOX = { lo: [0.05, 1e-3, 0.02, -0.99, 1e-3], hi: [30, 1, 3, 0.99, 1] };

/** normalisation.ts `inverse` on tensors (the physics loss differentiates through it). */
function inverseTf(u: tf.Tensor, t: ParamTransform, b?: [number, number]): tf.Tensor {
  if (t === 'log') return tf.exp(u);
  if (t === 'identity') return u;
  const s = tf.sigmoid(u);
  if (t === 'logit') return tf.add(b![0], tf.mul(s, b![1] - b![0]));
  const l0 = Math.log(b![0]);
  return tf.exp(tf.add(l0, tf.mul(s, Math.log(b![1]) - l0)));
}

/**
 * The physics term: price the decoded predicted parameters (batched tfjs Lewis pricer), invert to
 * implied vols with a few differentiable Newton steps started at the data's vols, and take the
 * masked SmoothL1 against the data in per-cell z units.
 */
export function physicsLoss(params: tf.Tensor2D, xb: tf.Tensor4D, norm: InverseNormalisation, grid: { kGrid: number[]; tGrid: number[] }): tf.Scalar {
  const [b, nk, nt] = xb.shape;
  const mean = tf.tensor2d(norm.ivMean, [nk, nt]);
  const std = tf.tensor2d(norm.ivStd, [nk, nt]);
  const zData = tf.slice(xb, [0, 0, 0, 0], [b, nk, nt, 1]).reshape([b, nk, nt]);
  const valid = tf.sub(1, tf.slice(xb, [0, 0, 0, 1], [b, nk, nt, 1]).reshape([b, nk, nt]));
  const inputData = tf.add(tf.mul(zData, std), mean);
  const ivData = norm.input === 'logIv' ? tf.exp(inputData) : inputData;
  const cols = norm.paramTransform.map((t, j) => {
    const u = tf.add(tf.mul(tf.slice(params, [0, j], [b, 1]), norm.paramStd[j]!), norm.paramMean[j]!);
    return tf.clipByValue(inverseTf(u, t, norm.paramBounds?.[j]), PHYSICS_BOX.lo[j]!, PHYSICS_BOX.hi[j]!);
  });
  const natural = tf.concat(cols, 1) as tf.Tensor2D;
  const otm = normalisedOtmBatchTf(natural, grid.kGrid, grid.tGrid);
  const ivModel = impliedVolNewtonTf(otm, grid.kGrid, grid.tGrid, tf.where(valid.cast('bool'), ivData, tf.broadcastTo(mean, [b, nk, nt])), 3);
  const err = tf.div(tf.sub(ivModel, ivData), std);
  // A point the float32 pricer cannot resolve (deep OTM, tiny price) gives a non-finite vol: drop it.
  const ok = tf.mul(valid, tf.cast(tf.isFinite(err), 'float32'));
  // SmoothL1 rather than MSE: an untrained network's parameters can miss by hundreds of stds,
  // and a quadratic loss would let those few points swamp the gradient.
  const d = tf.abs(tf.where(ok.cast('bool'), err, tf.zerosLike(err)));
  const q = tf.minimum(d, 1);
  const l = tf.mul(tf.add(tf.mul(0.5, tf.square(q)), tf.sub(d, q)), ok);
  return tf.div(tf.sum(l), tf.maximum(tf.sum(ok), 1)) as tf.Scalar;
}

/**
 * A batch as the step's tensors: the input, plus its two channels split apart on the host (the
 * reconstruction target and the validity weights), which spares two device slices per step.
 */
interface BatchTensors {
  x: tf.Tensor4D;
  target: tf.Tensor2D;
  valid: tf.Tensor2D;
}

function batchTensors(x: Float32Array, len: number, nk: number, nt: number): BatchTensors {
  const cells = nk * nt;
  const target = new Float32Array(len * cells);
  const valid = new Float32Array(len * cells);
  for (let i = 0; i < len * cells; i++) {
    target[i] = x[2 * i]!;
    valid[i] = 1 - x[2 * i + 1]!;
  }
  return { x: tf.tensor4d(x, [len, nk, nt, 2]), target: tf.tensor2d(target, [len, cells]), valid: tf.tensor2d(valid, [len, cells]) };
}

/** Masked MSE of the reconstruction against channel 0 of the input, and the Huber parameter loss. */
function losses(model: InverseHestonModel, batch: BatchTensors, yb: tf.Tensor2D | null, physics?: { norm: InverseNormalisation; grid: { kGrid: number[]; tGrid: number[] } }): { param: tf.Scalar; recon: tf.Scalar; physics: tf.Scalar } {
  const { x: xb, target, valid } = batch;
  const out = model.forward(xb);
  const sq = tf.mul(tf.square(tf.sub(out.recon, target)), valid);
  const recon = tf.div(tf.sum(sq), tf.maximum(tf.sum(valid), 1)) as tf.Scalar;
  let param = tf.scalar(0);
  if (yb) {
    // SmoothL1 with β = 1 in z-score units: quadratic for errors under one prior std.
    const d = tf.abs(tf.sub(out.params, yb));
    const q = tf.minimum(d, 1);
    param = tf.mean(tf.add(tf.mul(0.5, tf.square(q)), tf.sub(d, q))) as tf.Scalar;
  }
  const phys = physics ? physicsLoss(out.params, xb, physics.norm, physics.grid) : tf.scalar(0);
  return { param, recon, physics: phys };
}

async function validate(model: InverseHestonModel, s: Split | null, labelled: LabelledSurfaces | undefined, norm: InverseNormalisation, batch: number) {
  if (!s || s.val.length === 0) return { param: NaN, recon: NaN, r2: null as PerParam | null };
  const { nk, nt } = model.topology;
  let param = 0;
  let recon = 0;
  for (let from = 0; from < s.val.length; from += batch) {
    const len = Math.min(batch, s.val.length - from);
    const { x, y } = gatherBatch(s.set, s.val, from, len);
    const parts = tf.tidy(() => {
      const l = losses(model, batchTensors(x, len, nk, nt), y ? tf.tensor2d(y, [len, 5]) : null);
      return tf.stack([l.param, l.recon]);
    });
    const v = await parts.data();
    parts.dispose();
    param += v[0]! * len;
    recon += v[1]! * len;
  }
  let r2: PerParam | null = null;
  if (labelled && s.set.y) {
    const { x } = gatherBatch(s.set, s.val, 0, s.val.length);
    const pred = await predictEncoded(model, x, s.val.length);
    const natural = new Float64Array(s.val.length * 5);
    const truth = new Float64Array(s.val.length * 5);
    for (let i = 0; i < s.val.length; i++) {
      const p = decodeParams(pred.params, norm, i * 5);
      PARAM_NAMES.forEach((name, j) => {
        natural[i * 5 + j] = p[name];
        truth[i * 5 + j] = labelled.params[s.val[i]! * 5 + j]!;
      });
    }
    r2 = paramRecovery(natural, truth, s.val.length).r2;
  }
  return { param: param / s.val.length, recon: recon / s.val.length, r2 };
}

export async function trainInverse(config: Partial<InverseTrainConfig>, inputs: TrainInputs, opts: TrainOptions = {}, ctx: JobContext = {}): Promise<TrainResult> {
  // Every progress report carries etaMs (time left at the rate of this run), for the page's time-left figure.
  ctx = withEta(ctx);
  const cfg: InverseTrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...(opts.resume?.config ?? config), ...(opts.resume && opts.epochs !== undefined ? { epochs: opts.epochs } : {}) };
  const where = 'inverse train';
  if (opts.resume && cfg.epochs <= opts.resume.epoch) throw new InputError(`the saved run has done ${opts.resume.epoch} of its ${opts.resume.config.epochs ?? DEFAULT_TRAIN_CONFIG.epochs} epochs: to continue it, ask for more than ${opts.resume.epoch} epochs in all`, 'epochs');
  if (!Number.isInteger(cfg.epochs) || cfg.epochs < 1) throw new InputError(`epochs must be a positive integer, got ${cfg.epochs}`, where);
  if (!Number.isInteger(cfg.batchSize) || cfg.batchSize < 1) throw new InputError(`batch size must be a positive integer, got ${cfg.batchSize}`, where);
  if (!(cfg.lr > 0)) throw new InputError(`learning rate must be positive, got ${cfg.lr}`, where);
  const needsSynth = cfg.mode !== 'real';
  const needsReal = cfg.mode !== 'synthetic';
  if (needsSynth && (!inputs.synthetic || inputs.synthetic.n < 2)) throw new InputError(`${cfg.mode} mode needs a synthetic data set of at least 2 surfaces`, where);
  if (needsReal && (!inputs.real || inputs.real.length === 0)) throw new InputError(`${cfg.mode} mode needs at least one library surface`, where);
  if (cfg.mode === 'real' && !inputs.init && !opts.resume) throw new InputError('real mode fine-tunes a pre-trained checkpoint (reconstruction only): choose one to start from', where);

  const init = opts.resume ? await decodeCheckpoint(opts.resume.bundle, 'resume state') : inputs.init;
  const grid = init?.grid ?? { kGrid: [...inputs.synthetic!.kGrid], tGrid: [...inputs.synthetic!.tGrid] };
  if (inputs.synthetic) checkGrid(inputs.synthetic.kGrid, inputs.synthetic.tGrid, grid, 'synthetic data set');
  const nk = grid.kGrid.length;
  const nt = grid.tGrid.length;
  const cells = nk * nt;

  const splitRng = Rng.stream(cfg.seed, 0);
  let synth: Split | null = null;
  let norm: InverseNormalisation;
  if (inputs.synthetic && needsSynth) {
    const ds = inputs.synthetic;
    if (ds.iv.length !== ds.n * cells || ds.params.length !== ds.n * 5) throw new InputError(`synthetic data set: sizes do not match n=${ds.n} on a ${nk}×${nt} grid`, where);
    const sp = split(ds.n, cfg.valFraction, splitRng);
    norm = init?.normalisation ?? computeNormalisation(ds.iv, ds.mask, ds.params, cells, sp.train);
    const all = Int32Array.from({ length: ds.n }, (_, i) => i);
    synth = { set: HestonInverseDataset.encode(ds, all, norm), ...sp };
  } else {
    norm = init!.normalisation;
  }
  let real: Split | null = null;
  if (needsReal) {
    const set = RealIvSurfaceDataset.encode(inputs.real!, grid, norm);
    real = { set, ...split(set.n, cfg.valFraction, Rng.stream(cfg.seed, 1)) };
    // Real mode validates on real surfaces only; under 10 of them none is held out, and every
    // epoch's validation loss would be NaN (mixed mode validates on its synthetic split instead).
    if (cfg.mode === 'real' && real.val.length === 0) {
      throw new InputError(`real-mode fine-tuning needs at least 10 surfaces so that a validation split can be held out (got ${set.n}); add surfaces, or use mixed mode`, where);
    }
  }
  if (opts.resume && (opts.resume.dataShape.synthetic !== (synth?.set.n ?? 0) || opts.resume.dataShape.real !== (real?.set.n ?? 0))) {
    throw new InputError('the saved run was training on a different data set; regenerate the same data (same kind, n and seed) to resume it', where);
  }
  // Same sizes is not same data: the saved state's checkpoint names what it trained on (kind, n,
  // seed or file, real surfaces); a resume on anything else is refused, naming both.
  const was = opts.resume ? init?.provenance.data : undefined;
  if (was && inputs.dataInfo && canonicalJson(was) !== canonicalJson(inputs.dataInfo)) {
    throw new InputError(`the saved run was training on ${canonicalJson(was)}, this resume has ${canonicalJson(inputs.dataInfo)}: pass the same data options to resume it`, where);
  }

  const topology = init?.topology ?? defaultTopology(nk, nt, cfg.topology);
  const model = init ? new InverseHestonModel(topology, init.weights) : InverseHestonModel.fresh(topology, cfg.seed);
  const trainVars = new Map([...model.vars].filter(([n]) => !(cfg.freezeParamHeads && cfg.mode !== 'synthetic' && n.startsWith('head_'))));
  const optimizer = new AdamW(trainVars, { ...DEFAULT_ADAMW, weightDecay: cfg.weightDecay });
  const history: EpochRecord[] = opts.resume ? [...opts.resume.history] : [];
  let startEpoch = 0;
  if (opts.resume) {
    optimizer.setState(opts.resume.optimizer);
    startEpoch = opts.resume.epoch;
  }

  const main = synth ?? real!;
  const batchesPerEpoch = Math.max(1, Math.ceil(main.train.length / cfg.batchSize));
  const totalSteps = batchesPerEpoch * cfg.epochs;
  const report = throttledProgress(ctx, 200);
  const stateKey = opts.stateKey ?? 'inverse/run/latest';
  const provenanceFor = (epochs: number) => ({
    mode: cfg.mode,
    data: inputs.dataInfo ?? { synthetic: synth?.set.n ?? 0, real: real?.set.n ?? 0 },
    seed: cfg.seed,
    epochs,
    prior: inputs.prior ?? null,
    parent: inputs.init?.hash ?? null,
  });
  const snapshot = async (epochs: number, metrics: { [k: string]: JsonValue }): Promise<InverseCheckpoint> => ({
    name: opts.name ?? `inverse-${cfg.mode}-seed${cfg.seed}-e${epochs}`,
    created: new Date().toISOString(),
    topology,
    normalisation: norm,
    grid,
    provenance: provenanceFor(epochs),
    metrics,
    weights: await model.getWeights(),
  });
  const historyMetrics = (): { [k: string]: JsonValue } => {
    const last = history[history.length - 1];
    return last ? { val_loss: last.valLoss, val_param_loss: last.valParamLoss, val_recon_loss: last.valReconLoss, val_r2: last.valR2 as JsonValue } : {};
  };

  let pending: { t: tf.Tensor; len: number; b: number }[] = [];
  let epochSums = { total: 0, param: 0, recon: 0, seen: 0 };
  try {
    const flush = async (epoch: number, t0: number) => {
      if (pending.length === 0) return;
      const batch = pending;
      pending = [];
      const all = tf.tidy(() => tf.stack(batch.map((p) => p.t)));
      tf.dispose(batch.map((p) => p.t));
      const v = await all.data();
      all.dispose();
      batch.forEach((p, i) => {
        const o = i * 4;
        if (!Number.isFinite(v[o]!)) throw new Error(`training diverged at epoch ${epoch + 1}, batch ${p.b + 1} (loss ${v[o]}); lower the learning rate`);
        epochSums.total += v[o]! * p.len;
        epochSums.param += v[o + 1]! * p.len;
        epochSums.recon += v[o + 2]! * p.len;
        epochSums.seen += p.len;
      });
      const last = batch[batch.length - 1]!;
      const o = (batch.length - 1) * 4;
      const secs = (performance.now() - t0) / 1000;
      report({
        done: epoch * batchesPerEpoch + last.b + 1,
        total: totalSteps,
        message: `epoch ${epoch + 1}/${cfg.epochs}, batch ${last.b + 1}/${batchesPerEpoch}`,
        metrics: { epoch: epoch + 1, batch: last.b + 1, loss: v[o]!, paramLoss: v[o + 1]!, reconLoss: v[o + 2]!, physicsLoss: v[o + 3]!, samplesPerSec: epochSums.seen / Math.max(secs, 1e-9), lr: lrAt(cfg, epoch * batchesPerEpoch + last.b, totalSteps) },
      });
    };
    let realCursor = 0;
    let realOrder = real ? Int32Array.from(real.train) : new Int32Array(0);
    for (let epoch = startEpoch; epoch < cfg.epochs; epoch++) {
      const t0 = performance.now();
      const order = Int32Array.from(main.train);
      Rng.stream(cfg.seed, 1000 + epoch).shuffle(order);
      epochSums = { total: 0, param: 0, recon: 0, seen: 0 };
      for (let b = 0; b < batchesPerEpoch; b++) {
        await opts.gate?.wait(ctx.signal);
        throwIfAborted(ctx.signal);
        const from = b * cfg.batchSize;
        const len = Math.min(cfg.batchSize, order.length - from);
        if (len <= 0) break;
        const mb = gatherBatch(main.set, order, from, len);
        let rb: { x: Float32Array } | null = null;
        let rlen = 0;
        if (cfg.mode === 'mixed' && real && realOrder.length > 0) {
          rlen = Math.min(cfg.batchSize, realOrder.length);
          const idx = new Int32Array(rlen);
          for (let i = 0; i < rlen; i++) {
            if (realCursor >= realOrder.length) {
              realCursor = 0;
              realOrder = Int32Array.from(real.train);
              Rng.stream(cfg.seed, 500_000 + epoch * batchesPerEpoch + b).shuffle(realOrder);
            }
            idx[i] = realOrder[realCursor++]!;
          }
          rb = gatherBatch(real.set, idx, 0, rlen);
        }
        const lr = lrAt(cfg, epoch * batchesPerEpoch + b, totalSteps);
        let parts: tf.Tensor | null = null;
        tf.tidy(() => {
          const xb = batchTensors(mb.x, len, nk, nt);
          const yb = mb.y && cfg.mode !== 'real' ? tf.tensor2d(mb.y, [len, 5]) : null;
          const xr = rb ? batchTensors(rb.x, rlen, nk, nt) : null;
          const { value, grads } = tf.variableGrads((): tf.Scalar => {
            const l = losses(model, xb, yb, cfg.physicsWeight > 0 ? { norm, grid } : undefined);
            let total: tf.Scalar;
            if (cfg.mode === 'real') total = l.recon;
            else total = tf.add(l.param, tf.mul(cfg.reconWeight, l.recon)) as tf.Scalar;
            if (cfg.physicsWeight > 0) total = tf.add(total, tf.mul(cfg.physicsWeight, l.physics)) as tf.Scalar;
            if (xr) total = tf.add(total, tf.mul(cfg.realReconWeight, losses(model, xr, null).recon)) as tf.Scalar;
            parts = tf.keep(tf.stack([total, l.param, l.recon, l.physics]));
            return total;
          }, [...trainVars.values()]);
          optimizer.apply(grads, lr);
          value.dispose();
        });
        pending.push({ t: parts!, len, b });
        // Losses are read back every READ_EVERY batches (one read for all of them): a read is a
        // sync point that stalls a GPU pipeline. Pause / cancel get their chance here as well.
        if (pending.length >= READ_EVERY || b === batchesPerEpoch - 1 || from + len >= order.length) {
          await flush(epoch, t0);
          await yieldToEventLoop();
        }
      }
      await flush(epoch, t0);
      const trainSecs = (performance.now() - t0) / 1000;
      const val = await validate(model, main, cfg.mode === 'real' ? undefined : inputs.synthetic, norm, 1024);
      const valTotal = cfg.mode === 'real' ? val.recon : val.param + cfg.reconWeight * val.recon;
      const rec: EpochRecord = {
        epoch: epoch + 1,
        trainLoss: epochSums.total / Math.max(epochSums.seen, 1),
        trainParamLoss: epochSums.param / Math.max(epochSums.seen, 1),
        trainReconLoss: epochSums.recon / Math.max(epochSums.seen, 1),
        valLoss: valTotal,
        valParamLoss: val.param,
        valReconLoss: val.recon,
        valR2: val.r2,
        samplesPerSec: epochSums.seen / Math.max(trainSecs, 1e-9),
        seconds: trainSecs,
      };
      history.push(rec);
      const epochReport: TrainProgress = {
        done: (epoch + 1) * batchesPerEpoch,
        total: totalSteps,
        message: `epoch ${epoch + 1}/${cfg.epochs} done: train ${rec.trainLoss.toFixed(4)}, val ${rec.valLoss.toFixed(4)}`,
        metrics: { epoch: epoch + 1, epochDone: 1, trainLoss: rec.trainLoss, valLoss: rec.valLoss, samplesPerSec: rec.samplesPerSec },
        epochRecord: rec,
      };
      ctx.onProgress?.(epochReport);
      if (opts.store && cfg.checkpointEvery > 0 && ((epoch + 1) % cfg.checkpointEvery === 0 || epoch + 1 === cfg.epochs)) {
        const state: ResumeState = {
          version: 1,
          config: cfg,
          epoch: epoch + 1,
          bundle: await encodeCheckpoint(await snapshot(epoch + 1, historyMetrics())),
          optimizer: await optimizer.getState(),
          history: [...history],
          dataShape: { synthetic: synth?.set.n ?? 0, real: real?.set.n ?? 0 },
          savedAt: new Date().toISOString(),
        };
        await opts.store.set(stateKey, state);
      }
    }
    return {
      checkpoint: await snapshot(cfg.epochs, historyMetrics()),
      history,
      valIndices: synth ? Array.from(synth.val) : [],
    };
  } finally {
    tf.dispose(pending.map((p) => p.t));
    optimizer.dispose();
    model.dispose();
  }
}

/** JSON with object keys sorted, so two descriptions of the same data compare equal. */
function canonicalJson(x: JsonValue): string {
  const sort = (v: JsonValue): JsonValue => (Array.isArray(v) ? v.map(sort) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as { [k: string]: JsonValue })[k]!)])) : v);
  return JSON.stringify(sort(x));
}
