/**
 * The inverse network's jobs as the Inverse page runs them in a worker (workers/inverse.worker.ts
 * only adapts these): generate the data, train, verify the bundle, and evaluate on the held-out
 * split so the page can plot R², predicted-vs-true and reconstructions right away.
 */
import type { JobContext } from '../jobs.ts';
import type { Store } from '../store/store.ts';
import type { Surface } from '../surface/types.ts';
import type { HestonParams } from '../heston/params.ts';
import { generateDataset, syntheticSurface, type HestonDataset, type SynthKind } from '../surface/synthetic.ts';
import { resampleSurface } from '../surface/resample.ts';
import { decodeCheckpoint, encodeCheckpoint, type JsonValue } from './checkpoint.ts';
import { trainInverse, type EpochRecord, type InverseTrainConfig, type ResumeState } from './trainer.ts';
import { evaluateInverse, surfaceRmseVol, type EvaluateHooks, type EvaluationReport } from './evaluate.ts';
import { predictSurfaces, type InversePrediction } from './predict.ts';
import type { LabelledSurfaces } from './datasets.ts';
import type { PauseGate } from './pauseGate.ts';

export interface DataSpec {
  kind: SynthKind;
  n: number;
  seed: number;
}

export interface TrainJobArgs {
  config: Partial<InverseTrainConfig>;
  /** Synthetic data to generate (synthetic and mixed modes). */
  data?: DataSpec;
  /** Library surfaces (real and mixed modes). */
  real?: Surface[];
  /** Bundle to start from. */
  initBundle?: Uint8Array;
  /** Continue the interrupted run saved in the store instead of starting afresh. */
  resume?: boolean;
  name?: string;
  /** Held-out surfaces on which to compute the surface-space error after training. */
  evalSurfaceSamples?: number;
}

export interface ReconstructionExample {
  index: number;
  kGrid: number[];
  tGrid: number[];
  iv: number[];
  mask: number[];
  reconstruction: number[];
  heston?: number[];
  truth: HestonParams;
  predicted: HestonParams;
}

export interface TrainJobResult {
  bundle: Uint8Array;
  hash: string;
  history: EpochRecord[];
  /** Evaluation on the validation split (unseen during training). */
  evaluation: Omit<EvaluationReport, 'predicted' | 'truth'> & { predicted: number[]; truth: number[] };
  examples: ReconstructionExample[];
}

export const RUN_STATE_KEY = 'inverse/run/latest';
export const RUN_ARGS_KEY = 'inverse/run/latest-args';

function subset(ds: LabelledSurfaces, idx: number[]): LabelledSurfaces {
  const cells = ds.kGrid.length * ds.tGrid.length;
  const params = new Float64Array(idx.length * 5);
  const iv = new Float64Array(idx.length * cells);
  const mask = new Uint8Array(idx.length * cells);
  idx.forEach((i, j) => {
    for (let p = 0; p < 5; p++) params[j * 5 + p] = ds.params[i * 5 + p]!;
    for (let c = 0; c < cells; c++) {
      iv[j * cells + c] = ds.iv[i * cells + c]!;
      mask[j * cells + c] = ds.mask[i * cells + c]!;
    }
  });
  return { n: idx.length, kGrid: ds.kGrid, tGrid: ds.tGrid, params, iv, mask };
}

export async function makeData(spec: DataSpec, ctx: JobContext): Promise<HestonDataset> {
  return generateDataset({ kind: spec.kind, n: spec.n, seed: spec.seed }, ctx);
}

/** What an interrupted run in the store was doing (for the page's "resume" offer). */
export async function savedRun(store: Store): Promise<{ epoch: number; epochs: number; savedAt: string; args: TrainJobArgs } | null> {
  const state = await store.get<ResumeState>(RUN_STATE_KEY);
  const args = await store.get<TrainJobArgs>(RUN_ARGS_KEY);
  if (!state || !args || state.epoch >= state.config.epochs) return null;
  return { epoch: state.epoch, epochs: state.config.epochs, savedAt: state.savedAt, args };
}

export async function runTrainJob(args: TrainJobArgs, deps: { store?: Store; gate?: PauseGate; hooks?: EvaluateHooks }, ctx: JobContext = {}): Promise<TrainJobResult> {
  let a = args;
  let resume: ResumeState | undefined;
  if (args.resume) {
    const saved = deps.store ? await savedRun(deps.store) : null;
    if (!saved) throw new Error('there is no interrupted run to resume');
    a = saved.args;
    resume = await deps.store!.get<ResumeState>(RUN_STATE_KEY);
  } else if (deps.store) {
    await deps.store.delete(RUN_STATE_KEY);
    await deps.store.set(RUN_ARGS_KEY, { ...args, resume: false });
  }
  const ds = a.data && a.config.mode !== 'real' ? await makeData(a.data, ctx) : undefined;
  const init = a.initBundle ? await decodeCheckpoint(a.initBundle, 'starting checkpoint') : undefined;
  const result = await trainInverse(
    a.config,
    {
      synthetic: ds,
      real: a.real,
      init,
      dataInfo: { ...(a.data ? { source: 'generated', kind: a.data.kind, n: a.data.n, seed: a.data.seed } : {}), ...(a.real?.length ? { real: a.real.map((s) => s.name ?? s.source) } : {}) },
      prior: (ds?.prior as unknown as JsonValue) ?? null,
    },
    { store: deps.store, stateKey: RUN_STATE_KEY, gate: deps.gate, resume, name: a.name },
    ctx,
  );
  let evaluation: TrainJobResult['evaluation'];
  const examples: ReconstructionExample[] = [];
  if (ds && result.valIndices.length > 0) {
    const val = subset(ds, result.valIndices);
    const rep = await evaluateInverse(result.checkpoint, val, { surfaceSamples: a.evalSurfaceSamples ?? 200 }, deps.hooks ?? {}, ctx);
    evaluation = rep;
    const { predicted, truth, ms: _ms, ...figures } = rep;
    result.checkpoint.metrics = { ...result.checkpoint.metrics, evaluation: { ...figures, split: 'validation' } as unknown as JsonValue };
    const cells = ds.kGrid.length * ds.tGrid.length;
    const pick = [0, 1, 2, 3].filter((j) => j < val.n);
    const surfaces: Surface[] = pick.map((j) => ({ kGrid: ds.kGrid, tGrid: ds.tGrid, iv: Float64Array.from({ length: cells }, (_, c) => val.iv[j * cells + c]!), mask: Uint8Array.from({ length: cells }, (_, c) => val.mask[j * cells + c]!), spot: 1, timestamp: 0, source: 'validation' }));
    const preds: InversePrediction[] = await predictSurfaces(result.checkpoint, surfaces);
    pick.forEach((j, e) => {
      const p = preds[e]!;
      const hs = deps.hooks?.hestonSurface?.(p.params, ds.kGrid, ds.tGrid);
      examples.push({
        index: result.valIndices[j]!,
        kGrid: ds.kGrid,
        tGrid: ds.tGrid,
        iv: Array.from(surfaces[e]!.iv, (v) => (Number.isFinite(v) ? v : NaN)),
        mask: Array.from(surfaces[e]!.mask!),
        reconstruction: Array.from(p.reconstruction),
        heston: hs ? Array.from(hs.iv) : undefined,
        truth: { kappa: truth[j * 5]!, theta: truth[j * 5 + 1]!, sigma: truth[j * 5 + 2]!, rho: truth[j * 5 + 3]!, v0: truth[j * 5 + 4]! },
        predicted: p.params,
      });
    });
    evaluation = { ...rep, predicted, truth };
  } else {
    evaluation = { n: 0, r2: {} as EvaluationReport['r2'], rmse: {} as EvaluationReport['rmse'], predicted: [], truth: [], ms: 0 };
  }
  const bundle = await encodeCheckpoint(result.checkpoint);
  const hash = (await decodeCheckpoint(bundle, 'trained checkpoint')).hash;
  if (deps.store) await deps.store.delete(RUN_STATE_KEY);
  return { bundle, hash, history: result.history, evaluation, examples };
}

export interface PredictJobResult {
  /**
   * heston: the Float64 Heston surface at the predicted parameters; hestonRmseVol: its IV RMSE
   * against the surface, in vol points (the evaluation's surface-space error, for this surface).
   */
  predictions: (InversePrediction & { heston?: number[]; hestonMask?: number[]; hestonRmseVol?: number })[];
}

/** Known mid-prior parameters for the check surface. */
export const CHECK_PARAMS: HestonParams = { kappa: 2, theta: 0.04, sigma: 0.5, rho: -0.6, v0: 0.03 };

/**
 * The Inverse page's default Apply target: true Heston implied vols (Float64 pricer) at
 * CHECK_PARAMS on the checkpoint's grid — inside the bundled network's training data, so a first
 * Apply shows how close the network gets to known parameters. It was the original design's proxy,
 * which lies outside that data: every first Apply carried the far-from-training warning. The proxy
 * stays one click away in the library (the bundled proxy sample).
 */
export function checkSurface(grid: { kGrid: number[]; tGrid: number[] }): Surface {
  return { ...syntheticSurface('heston', CHECK_PARAMS, grid.kGrid, grid.tGrid), name: 'check surface (true Heston, κ=2 θ=0.04 σ=0.5 ρ=−0.6 v0=0.03)' };
}

export async function runPredictJob(args: { bundle: Uint8Array; surfaces: Surface[]; resample?: boolean }, hooks: EvaluateHooks = {}): Promise<PredictJobResult & { surfaces: Surface[] }> {
  const ck = await decodeCheckpoint(args.bundle, 'checkpoint');
  // Resampling onto the model's grid is the user's explicit choice; otherwise a grid mismatch is an error.
  const surfaces = args.resample ? args.surfaces.map((s) => ({ ...resampleSurface(s, ck.grid.kGrid, ck.grid.tGrid), name: s.name })) : args.surfaces;
  const preds = await predictSurfaces(ck, surfaces);
  return {
    surfaces,
    predictions: preds.map((p, i) => {
      const hs = hooks.hestonSurface?.(p.params, ck.grid.kGrid, ck.grid.tGrid);
      return {
        ...p,
        heston: hs ? Array.from(hs.iv) : undefined,
        hestonMask: hs?.mask ? Array.from(hs.mask) : undefined,
        hestonRmseVol: hs ? surfaceRmseVol(hs, surfaces[i]!.iv, surfaces[i]!.mask) : undefined,
      };
    }),
  };
}
