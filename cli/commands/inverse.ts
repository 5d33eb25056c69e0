/**
 * `inverse train | eval | predict`: the inverse-Heston network headless, on the wasm backend
 * (the fastest that trains in Node; see shared/DESIGN.md). Checkpoints are .hlckpt files, the same
 * bundles the Inverse page downloads and loads.
 */
import { readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { InputError, LabError } from '../../src/core/errors.ts';
import type { JobContext } from '../../src/core/jobs.ts';
import { initBackend, isBackendName } from '../../src/core/backend/backends.ts';
import { decodeCheckpoint, encodeCheckpoint, type JsonValue, type LoadedCheckpoint } from '../../src/core/inverse/checkpoint.ts';
import { generateDataset, datasetFromNpz, type HestonDataset, type SynthKind } from '../../src/core/surface/synthetic.ts';
import { surfaceFromNpz, surfaceFromCsv } from '../../src/core/surface/files.ts';
import { resampleSurface } from '../../src/core/surface/resample.ts';
import type { Surface } from '../../src/core/surface/types.ts';
import { FileStore } from '../../src/core/store/files.ts';
import { trainInverse, DEFAULT_TRAIN_CONFIG, type InverseMode, type ResumeState } from '../../src/core/inverse/trainer.ts';
import { checkLabelledSurfaces } from '../../src/core/inverse/datasets.ts';
import { evaluateInverse } from '../../src/core/inverse/evaluate.ts';
import { predictSurfaces } from '../../src/core/inverse/predict.ts';
import { evaluationHooks } from '../../src/core/inverse/hooks.ts';
import { intOption, numberOption, parse, type CommandDef } from '../io.ts';

function readBytes(file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new InputError(`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, file);
  }
}

async function writeAtomic(file: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(file) || '.', { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, file);
}

async function useBackend(name: string | undefined): Promise<string> {
  const want = name ?? 'wasm';
  if (!isBackendName(want)) throw new InputError(`--backend must be one of wasm, cpu (got "${want}")`);
  const a = await initBackend(want);
  if (!a.ok) throw new InputError(`backend ${want} is unavailable here: ${a.error}`, '--backend');
  return want;
}

export async function loadCheckpointFile(file: string): Promise<LoadedCheckpoint> {
  return decodeCheckpoint(readBytes(file), basename(file));
}

function readSurfaceFile(file: string): Surface {
  const bytes = readBytes(file);
  if (file.toLowerCase().endsWith('.csv')) return surfaceFromCsv(new TextDecoder().decode(bytes), basename(file));
  const s = surfaceFromNpz(bytes, basename(file));
  s.name ??= basename(file);
  return s;
}

interface DataArgs {
  data?: string;
  synthetic?: string;
  n?: string;
  'data-seed'?: string;
}

async function loadData(v: DataArgs, seed: number, ctx: JobContext, required: boolean): Promise<{ ds: HestonDataset; info: { [k: string]: JsonValue } } | undefined> {
  if (v.data && v.synthetic) throw new InputError('give either --data FILE.npz or --synthetic heston|proxy, not both');
  if (v.data) {
    const ds = datasetFromNpz(readBytes(v.data), basename(v.data));
    // NaN or non-positive vols where the mask says valid (a mask written 1 = valid) are refused
    // here, before any figure is computed from them.
    checkLabelledSurfaces(ds, basename(v.data));
    return { ds, info: { source: 'file', file: basename(v.data), kind: ds.kind, n: ds.n, seed: ds.seed } };
  }
  if (v.synthetic) {
    if (v.synthetic !== 'heston' && v.synthetic !== 'proxy') throw new InputError(`--synthetic must be heston or proxy (got "${v.synthetic}")`);
    const n = intOption(v.n, '--n');
    const dataSeed = intOption(v['data-seed'], '--data-seed', seed);
    const ds = await generateDataset({ kind: v.synthetic as SynthKind, n, seed: dataSeed }, ctx);
    return { ds, info: { source: 'generated', kind: ds.kind, n, seed: dataSeed } };
  }
  if (required) throw new InputError('no data: pass --data FILE.npz or --synthetic heston|proxy --n N');
  return undefined;
}

const train: CommandDef = {
  name: 'inverse train',
  summary: 'train an inverse-Heston network (synthetic, real or mixed) and write a .hlckpt checkpoint',
  usage: `npm run --silent cli -- inverse train (--data FILE.npz | --synthetic heston|proxy --n N [--data-seed D])
      --seed S --epochs E --out CKPT.hlckpt [options]

  --mode synthetic|real|mixed   synthetic: SmoothL1(params) + λ·MSE(recon); real: reconstruction on
                                --real surfaces only (needs --init); mixed: both (default synthetic)
  --real FILE                   a library surface (.npz or .csv) on the model's grid; repeat for more
  --init CKPT                   start from this checkpoint (fine-tuning)
  --train-heads                 real/mixed: also train the five ParamHeads (default: frozen)
  --batch N (256)  --lr X (${DEFAULT_TRAIN_CONFIG.lr})  --recon-weight λ (0.3)  --real-weight λr (0.3)
  --physics μ (0)               weight of the physics loss (price the predicted parameters with the
                                batched tfjs pricer, compare implied vols with the input)
  --hidden N (96)               latent size (new models only)
  --state DIR                   write a resumable state there every --checkpoint-every epochs (5)
  --resume                      continue the run saved in --state DIR (same data options)
  --backend wasm|cpu            tfjs backend (default wasm)
  --name TEXT                   checkpoint name`,
  async run(argv, ctx) {
    const { values: v } = parse(argv, {
      data: { type: 'string' },
      synthetic: { type: 'string' },
      n: { type: 'string' },
      'data-seed': { type: 'string' },
      seed: { type: 'string' },
      epochs: { type: 'string' },
      out: { type: 'string' },
      mode: { type: 'string' },
      real: { type: 'string', multiple: true },
      init: { type: 'string' },
      'train-heads': { type: 'boolean' },
      batch: { type: 'string' },
      lr: { type: 'string' },
      'recon-weight': { type: 'string' },
      'real-weight': { type: 'string' },
      physics: { type: 'string' },
      hidden: { type: 'string' },
      state: { type: 'string' },
      'checkpoint-every': { type: 'string' },
      resume: { type: 'boolean' },
      backend: { type: 'string' },
      name: { type: 'string' },
    });
    if (!v.out) throw new InputError('missing required option --out CKPT.hlckpt');
    const mode = (v.mode ?? 'synthetic') as InverseMode;
    if (!['synthetic', 'real', 'mixed'].includes(mode)) throw new InputError(`--mode must be synthetic, real or mixed (got "${v.mode}")`);
    const seed = intOption(v.seed, '--seed', 1);
    const backend = await useBackend(v.backend);
    const data = await loadData(v, seed, ctx, mode !== 'real');
    const real = (v.real ?? []).map(readSurfaceFile);
    const init = v.init ? await loadCheckpointFile(v.init) : undefined;
    const store = v.state ? new FileStore(v.state) : undefined;
    let resume: ResumeState | undefined;
    if (v.resume) {
      if (!store) throw new InputError('--resume needs --state DIR (where the run was saved)');
      resume = await store.get<ResumeState>('inverse/run/latest');
      if (!resume) throw new InputError('no saved run to resume in this directory', v.state);
    }
    const hidden = v.hidden ? intOption(v.hidden, '--hidden') : undefined;
    const t0 = performance.now();
    const result = await trainInverse(
      {
        mode,
        seed,
        epochs: intOption(v.epochs, '--epochs', DEFAULT_TRAIN_CONFIG.epochs),
        batchSize: intOption(v.batch, '--batch', DEFAULT_TRAIN_CONFIG.batchSize),
        lr: numberOption(v.lr, '--lr', DEFAULT_TRAIN_CONFIG.lr),
        reconWeight: numberOption(v['recon-weight'], '--recon-weight', DEFAULT_TRAIN_CONFIG.reconWeight),
        realReconWeight: numberOption(v['real-weight'], '--real-weight', DEFAULT_TRAIN_CONFIG.realReconWeight),
        physicsWeight: numberOption(v.physics, '--physics', DEFAULT_TRAIN_CONFIG.physicsWeight),
        freezeParamHeads: !v['train-heads'],
        checkpointEvery: intOption(v['checkpoint-every'], '--checkpoint-every', DEFAULT_TRAIN_CONFIG.checkpointEvery),
        ...(hidden ? { topology: { hiddenDim: hidden } } : {}),
      },
      {
        synthetic: data?.ds,
        real,
        init,
        dataInfo: { ...(data?.info ?? {}), ...(real.length ? { real: real.map((s) => s.name ?? s.source) } : {}) },
        prior: (data?.ds.prior as unknown as JsonValue) ?? null,
      },
      { store, resume, name: v.name },
      ctx,
    );
    const bytes = await encodeCheckpoint(result.checkpoint);
    await writeAtomic(v.out, bytes);
    const ck = await decodeCheckpoint(bytes, basename(v.out));
    const last = result.history[result.history.length - 1]!;
    const secs = (performance.now() - t0) / 1000;
    const trainSecs = result.history.reduce((a, h) => a + h.seconds, 0);
    return {
      out: v.out,
      hash: ck.hash,
      bytes: bytes.length,
      backend,
      mode,
      epochs: result.history.length,
      seconds: +secs.toFixed(2),
      train_samples_per_sec: Math.round(result.history.reduce((a, h) => a + h.samplesPerSec * h.seconds, 0) / Math.max(trainSecs, 1e-9)),
      final: { train_loss: last.trainLoss, val_loss: last.valLoss, val_r2: last.valR2 },
    };
  },
};

/** Paths ("r2.theta = NaN") of the non-finite numbers in a JSON-bound value. */
export function nonFiniteFields(value: unknown, path = ''): string[] {
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [`${path || 'value'} = ${value}`];
  if (Array.isArray(value)) return value.flatMap((x, i) => nonFiniteFields(x, `${path}[${i}]`));
  if (value && typeof value === 'object' && !ArrayBuffer.isView(value)) return Object.entries(value).flatMap(([k, x]) => nonFiniteFields(x, path ? `${path}.${k}` : k));
  if (ArrayBuffer.isView(value)) return nonFiniteFields(Array.from(value as unknown as ArrayLike<number>), path);
  return [];
}

const evaluate: CommandDef = {
  name: 'inverse eval',
  summary: 'evaluate a checkpoint on a held-out labelled set: R², RMSE, surface-space error, LM warm start',
  usage: `npm run --silent cli -- inverse eval --ckpt CKPT (--data FILE.npz | --synthetic heston|proxy --n N --data-seed D)
      [--surface-n N] [--lm N] [--save-metrics] [--backend wasm|cpu]

  Prints {"r2":{…},"rmse":{…},"surface_rmse_vol_median":…,"surface_rmse_vol_p90":…,"n":…}.
  surface_rmse_vol_*: IV RMSE in vol points of the Float64 Heston surface at the predicted
  parameters against the input (first --surface-n surfaces, default all).
  --lm N: also calibrate N surfaces with Levenberg–Marquardt from the default start and from the
  network's parameters, and report iterations and time ("warm_start").
  --save-metrics: write the figures into the checkpoint's metrics (the file gets a new hash).`,
  async run(argv, ctx) {
    const { values: v } = parse(argv, {
      ckpt: { type: 'string' },
      data: { type: 'string' },
      synthetic: { type: 'string' },
      n: { type: 'string' },
      'data-seed': { type: 'string' },
      'surface-n': { type: 'string' },
      lm: { type: 'string' },
      'save-metrics': { type: 'boolean' },
      backend: { type: 'string' },
    });
    if (!v.ckpt) throw new InputError('missing required option --ckpt CKPT');
    await useBackend(v.backend);
    const ck = await loadCheckpointFile(v.ckpt);
    if (v.synthetic && v['data-seed'] === undefined) throw new InputError('--synthetic needs --data-seed D: choose one the checkpoint was not trained on');
    const { ds, info } = (await loadData(v, 0, ctx, true))!;
    const rep = await evaluateInverse(
      ck,
      ds,
      { surfaceSamples: v['surface-n'] ? intOption(v['surface-n'], '--surface-n') : undefined, lmSamples: intOption(v.lm, '--lm', 0) },
      evaluationHooks(),
      ctx,
    );
    const { predicted: _p, truth: _t, ...figures } = rep;
    const out = { ...figures, data: info };
    // JSON.stringify would print NaN as null and the command would exit 0: a metric that is not a
    // number is a failed evaluation, not a result.
    const bad = nonFiniteFields(out);
    if (bad.length) throw new LabError(`inverse eval: ${bad.slice(0, 4).join(', ')}${bad.length > 4 ? ` and ${bad.length - 4} more` : ''} ${bad.length > 1 ? 'are' : 'is'} not finite; no figures printed (check the data set's vols and mask)`);
    if (v['save-metrics']) {
      const bytes = await encodeCheckpoint({ ...ck, metrics: { ...ck.metrics, evaluation: JSON.parse(JSON.stringify(out)) as JsonValue } });
      await writeAtomic(v.ckpt, bytes);
      return { ...out, saved: v.ckpt, hash: (await decodeCheckpoint(bytes)).hash };
    }
    return out;
  },
};

const predict: CommandDef = {
  name: 'inverse predict',
  summary: 'Heston parameters of a surface file from a checkpoint (one forward pass)',
  usage: `npm run --silent cli -- inverse predict --ckpt CKPT --surface FILE.npz|FILE.csv [--resample] [--latent]

  Prints {"params":{kappa,theta,sigma,rho,v0}}. A surface on another grid is refused unless
  --resample is given (then it is resampled onto the checkpoint's grid first). --latent adds the
  regime embedding z and the reconstructed surface.`,
  async run(argv) {
    const { values: v } = parse(argv, {
      ckpt: { type: 'string' },
      surface: { type: 'string' },
      resample: { type: 'boolean' },
      latent: { type: 'boolean' },
      backend: { type: 'string' },
    });
    if (!v.ckpt) throw new InputError('missing required option --ckpt CKPT');
    if (!v.surface) throw new InputError('missing required option --surface FILE');
    await useBackend(v.backend);
    const ck = await loadCheckpointFile(v.ckpt);
    let s = readSurfaceFile(v.surface);
    if (v.resample) s = resampleSurface(s, ck.grid.kGrid, ck.grid.tGrid);
    const [p] = await predictSurfaces(ck, [s]);
    const out: Record<string, unknown> = { params: p!.params, checkpoint: { name: ck.name, hash: ck.hash } };
    if (p!.warning) out.warning = p!.warning;
    if (v.latent) {
      out.latent = p!.latent;
      out.reconstruction = Array.from(p!.reconstruction);
    }
    return out;
  },
};

export const inverseCommands: CommandDef[] = [train, evaluate, predict];
