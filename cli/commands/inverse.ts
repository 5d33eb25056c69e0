/**
 * `inverse train | eval | predict`: the inverse-Heston network headless, on the wasm backend
 * (the fastest that trains in Node; see shared/DESIGN.md). Checkpoints are .hlckpt files, the same
 * bundles the Inverse page downloads and loads.
 */
import { basename } from 'node:path';
import { InputError, LabError } from '../../src/core/errors.ts';
import type { JobContext } from '../../src/core/jobs.ts';
import { initBackend, isBackendName } from '../../src/core/backend/backends.ts';
import { decodeCheckpoint, encodeCheckpoint, type JsonValue, type LoadedCheckpoint } from '../../src/core/inverse/checkpoint.ts';
import { generateDataset, datasetFromNpz, type HestonDataset, type SynthKind } from '../../src/core/surface/synthetic.ts';
import { parseSurfaceBytes, type ParsedSurfaceFile } from '../../src/core/surface/files.ts';
import { parseIvUnit, type IvUnit } from '../../src/core/surface/units.ts';
import { resampleSurface } from '../../src/core/surface/resample.ts';
import type { Surface } from '../../src/core/surface/types.ts';
import { FileStore } from '../../src/core/store/files.ts';
import { DEFAULT_TRAIN_CONFIG, trainInverse, TRAIN_CONFIG_SPEC, type InverseTrainConfig, type ResumeState } from '../../src/core/inverse/trainer.ts';
import { checkGrid, checkLabelledSurfaces } from '../../src/core/inverse/datasets.ts';
import { configFlags, configFromFlags, configHelp, flagName, resolveConfig } from '../../src/core/config.ts';
import { evaluateInverse } from '../../src/core/inverse/evaluate.ts';
import { predictSurfaces } from '../../src/core/inverse/predict.ts';
import { evaluationHooks } from '../../src/core/inverse/hooks.ts';
import { intOption, parse, readBytes, writeAtomic, type CommandDef } from '../io.ts';
import { assumptionsJson } from './surface.ts';
import { TRACKING_HELP, TRACKING_OPTIONS, startRunFromArgs } from '../tracking.ts';
import { configParams, runTracked, trackProgress } from '../../src/core/tracking/tracker.ts';


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

/**
 * A surface file (.npz or .csv); `ivUnit` is --iv-unit (default: what the file states or its
 * format's unit). The reader's warnings and assumptions (unit, spot, timestamp and where each came
 * from) come back so the command can show them (issue 15 item 3).
 */
function readSurfaceFile(file: string, ivUnit?: IvUnit): ParsedSurfaceFile {
  const parsed = parseSurfaceBytes(readBytes(file), basename(file), ivUnit ? { ivUnit } : {});
  parsed.surface.name ??= basename(file);
  return parsed;
}

/** --iv-unit pct|decimal, shared by the commands that read surface files. */
function ivUnitFlag(v: string | undefined): IvUnit | undefined {
  return v === undefined ? undefined : parseIvUnit(v, '--iv-unit');
}

/**
 * A surface on the checkpoint's grid: resampled when --resample is given, else refused with an
 * error that names the flag (the core's grid error speaks of the page's resample action).
 */
function onModelGrid(s: Surface, grid: { kGrid: number[]; tGrid: number[] } | undefined, resample: boolean | undefined, file: string): Surface {
  if (!grid) return s;
  if (resample) return { ...resampleSurface(s, grid.kGrid, grid.tGrid), name: s.name };
  try {
    checkGrid(s.kGrid, s.tGrid, grid, file);
  } catch (e) {
    const m = (e as Error).message;
    const body = (m.startsWith(`${file}: `) ? m.slice(file.length + 2) : m).replace(/ \(resample[^)]*\)$/, '');
    throw new InputError(`${body}: pass --resample to resample it onto the checkpoint's grid`, file);
  }
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
      --out CKPT.hlckpt [training options]

  Data and files:
  --real FILE                   a library surface (.npz or .csv) for real/mixed mode; repeat for more
  --iv-unit pct|decimal         how the --real files write vols (default: what each file states)
  --resample                    resample --real surfaces onto the model's grid (otherwise a surface
                                on another grid is refused)
  --init CKPT                   start from this checkpoint (fine-tuning; required for --mode real)
  --hidden N                    latent size (new models only; default 96)
  --state DIR                   write a resumable state there every --checkpoint-every epochs
  --resume                      continue the run saved in --state DIR (same data options)
  --backend wasm|cpu            tfjs backend (default wasm)
  --name TEXT                   checkpoint name (and run name)
${TRACKING_HELP}

  Training options (the trainer's config, src/core/inverse/trainer.ts TRAIN_CONFIG_SPEC):
${configHelp(TRAIN_CONFIG_SPEC)}`,
  async run(argv, ctx) {
    const { values: v } = parse(argv, {
      data: { type: 'string' },
      synthetic: { type: 'string' },
      n: { type: 'string' },
      'data-seed': { type: 'string' },
      ...configFlags(TRAIN_CONFIG_SPEC),
      out: { type: 'string' },
      real: { type: 'string', multiple: true },
      'iv-unit': { type: 'string' },
      resample: { type: 'boolean' },
      init: { type: 'string' },
      hidden: { type: 'string' },
      state: { type: 'string' },
      resume: { type: 'boolean' },
      backend: { type: 'string' },
      name: { type: 'string' },
      ...TRACKING_OPTIONS,
    });
    if (!v.out) throw new InputError('missing required option --out CKPT.hlckpt');
    const flags = configFromFlags(TRAIN_CONFIG_SPEC, v);
    const store = v.state ? new FileStore(v.state) : undefined;
    let resume: ResumeState | undefined;
    let config = resolveConfig(TRAIN_CONFIG_SPEC, flags, 'inverse train');
    if (v.resume) {
      if (!store) throw new InputError('--resume needs --state DIR (where the run was saved)');
      resume = await store.get<ResumeState>('inverse/run/latest');
      if (!resume) throw new InputError('no saved run to resume in this directory', v.state);
      // A resumed run keeps its settings — the data seed's default and the tracked params included;
      // only --epochs (a new total) may change. A flag that contradicts the saved run is refused
      // rather than silently ignored, and so are the ones that would change the network.
      const saved: InverseTrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...resume.config };
      for (const [key, value] of Object.entries(flags) as [keyof InverseTrainConfig, unknown][]) {
        if (key === 'epochs' || JSON.stringify(value) === JSON.stringify(saved[key])) continue;
        throw new InputError(`${JSON.stringify(value)} differs from the saved run's ${JSON.stringify(saved[key])}: a resumed run keeps its settings (only --epochs, the new total, can change)`, `--${flagName(key)}`);
      }
      for (const flag of ['hidden', 'init'] as const) if (v[flag] !== undefined) throw new InputError('a resumed run continues its own network: leave this option out', `--${flag}`);
      config = { ...saved, ...(flags.epochs !== undefined ? { epochs: flags.epochs } : {}) };
    }
    const { mode, seed } = config;
    const backend = await useBackend(v.backend);
    const data = await loadData(v, seed, ctx, mode !== 'real');
    const init = v.init ? await loadCheckpointFile(v.init) : undefined;
    // The model's grid: the starting checkpoint's, else the synthetic data's (a new model is built on it).
    const grid = init?.grid ?? (data ? { kGrid: [...data.ds.kGrid], tGrid: [...data.ds.tGrid] } : undefined);
    const real = (v.real ?? []).map((file) => {
      const parsed = readSurfaceFile(file, ivUnitFlag(v['iv-unit']));
      // The JSON out is about the training; what a reader had to assume goes to stderr before it starts.
      for (const w of parsed.warnings) process.stderr.write(`warning: ${w}\n`);
      return onModelGrid(parsed.surface, grid, v.resample, file);
    });
    const hidden = v.hidden ? intOption(v.hidden, '--hidden') : undefined;
    // Runs land in --tracking-uri (default ./mlruns): params = the config and the data, metrics =
    // the trainer's per-epoch records; Ctrl-C ends the run KILLED with its metrics so far.
    const trainConfig = { ...config, ...(hidden ? { topology: { hiddenDim: hidden } } : {}) };
    const run = await startRunFromArgs(v, {
      experiment: 'inverse-heston',
      name: v.name,
      params: { ...configParams(trainConfig), ...configParams(data?.info ?? {}, 'data.'), ...(real.length ? { 'data.real': real.length } : {}), ...(v.init ? { init: basename(v.init) } : {}) },
      tags: { backend },
    });
    const t0 = performance.now();
    const outFile = v.out;
    return runTracked(run, async () => {
      const result = await trainInverse(
        trainConfig,
        {
          synthetic: data?.ds,
          real,
          init,
          dataInfo: { ...(data?.info ?? {}), ...(real.length ? { real: real.map((s) => s.name ?? s.source) } : {}) },
          prior: (data?.ds.prior as unknown as JsonValue) ?? null,
        },
        { store, resume, name: v.name, epochs: resume ? flags.epochs : undefined },
        { ...ctx, onProgress: trackProgress(run, ctx.onProgress) },
      );
      const bytes = await encodeCheckpoint(result.checkpoint);
      await writeAtomic(outFile, bytes);
      const ck = await decodeCheckpoint(bytes, basename(outFile));
      await run?.logArtifact(`checkpoint/${basename(outFile)}`, bytes);
      await run?.setTags({ 'checkpoint.hash': ck.hash });
      const last = result.history[result.history.length - 1]!;
      const secs = (performance.now() - t0) / 1000;
      const trainSecs = result.history.reduce((a, h) => a + h.seconds, 0);
      const summary = {
        out: outFile,
        run_id: run?.runId ?? null,
        hash: ck.hash,
        bytes: bytes.length,
        backend,
        mode,
        epochs: result.history.length,
        seconds: +secs.toFixed(2),
        train_samples_per_sec: Math.round(result.history.reduce((a, h) => a + h.samplesPerSec * h.seconds, 0) / Math.max(trainSecs, 1e-9)),
        final: { train_loss: last.trainLoss, val_loss: last.valLoss, val_r2: last.valR2 },
      };
      await run?.logArtifact('eval/summary.json', new TextEncoder().encode(JSON.stringify(summary, null, 2)));
      return summary;
    });
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
    // --surface-n 0 asks for no surface-space figures: they are left out, not printed as NaN.
    if (v['surface-n'] !== undefined && intOption(v['surface-n'], '--surface-n') === 0) {
      delete figures.surface_rmse_vol_median;
      delete figures.surface_rmse_vol_p90;
    }
    const out = { ...figures, data: info };
    // JSON.stringify would print NaN as null and the command would exit 0: a metric that is not a
    // number is a failed evaluation, not a result.
    const bad = nonFiniteFields(out);
    if (bad.length) throw new LabError(`inverse eval: ${bad.slice(0, 4).join(', ')}${bad.length > 4 ? ` and ${bad.length - 4} more` : ''} ${bad.length > 1 ? 'are' : 'is'} not finite; no figures printed (R² needs at least two surfaces whose parameters differ; NaN vols at valid points do it too)`);
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
  usage: `npm run --silent cli -- inverse predict --ckpt CKPT --surface FILE.npz|FILE.csv [--iv-unit pct|decimal] [--resample] [--latent]

  Prints {"warning"?, "params":{kappa,theta,sigma,rho,v0}, "checkpoint", "training_distance", "assumptions",
  "warnings"?}: the parameters always lie inside the model's domain (bounded outputs); "assumptions"
  is what the file reader assumed (iv_unit, spot, timestamp and where each came from) and "warnings"
  its notes (e.g. a unit it had to infer); "warning" (also on stderr)
  says when the surface is far outside the training data (per-cell z > 4, RMS z > 2.5, > 20 % of
  points outside the trained vol range). A surface on another grid is refused unless
  --resample is given (then it is resampled onto the checkpoint's grid first). --latent adds the
  regime embedding z and the reconstructed surface.`,
  async run(argv) {
    const { values: v } = parse(argv, {
      ckpt: { type: 'string' },
      surface: { type: 'string' },
      'iv-unit': { type: 'string' },
      resample: { type: 'boolean' },
      latent: { type: 'boolean' },
      backend: { type: 'string' },
    });
    if (!v.ckpt) throw new InputError('missing required option --ckpt CKPT');
    if (!v.surface) throw new InputError('missing required option --surface FILE');
    await useBackend(v.backend);
    const ck = await loadCheckpointFile(v.ckpt);
    const parsed = readSurfaceFile(v.surface, ivUnitFlag(v['iv-unit']));
    const s = onModelGrid(parsed.surface, ck.grid, v.resample, v.surface);
    const [p] = await predictSurfaces(ck, [s]);
    // The warning comes first (and on stderr): a surface far from the training data gets an
    // extrapolated answer, which must not read as a result.
    const out: Record<string, unknown> = {};
    if (p!.warning) {
      out.warning = p!.warning;
      process.stderr.write(`warning: ${p!.warning}\n`);
    }
    const d = p!.distance;
    Object.assign(out, {
      params: p!.params,
      checkpoint: { name: ck.name, hash: ck.hash },
      training_distance: { outside: d.outside, max_z: d.maxZ, rms_z: d.rmsZ, outside_range: d.outsideRange, usable: d.usable },
      assumptions: assumptionsJson(parsed.assumptions),
      ...(parsed.warnings.length ? { warnings: parsed.warnings } : {}),
    });
    if (v.latent) {
      out.latent = p!.latent;
      // NaN at masked points by design (nothing is reconstructed where the input has no data): print
      // those cells as null, the way `iv` writes "no value", so the non-finite guard only catches real NaNs.
      out.reconstruction = Array.from(p!.reconstruction, (x, i) => (Number.isNaN(x) && s.mask?.[i] === 1 ? null : x));
    }
    return out;
  },
};

export const inverseCommands: CommandDef[] = [train, evaluate, predict];
