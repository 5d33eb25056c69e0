/**
 * Which backend trains fastest HERE, from what the backends measured, and how long a job will
 * take. Issue 15: with a fixed order (webgpu > webgl > wasm > cpu) "auto" chose WebGPU on a
 * software adapter (SwiftShader) and the default Inverse run would have taken ~27 minutes at 228
 * samples/s, where wasm trains at 12–15k/s — 30–50× faster. A GPU backend on a software renderer
 * (SwiftShader, llvmpipe, WARP — backends.ts softwareRendererName) computes correctly but on the
 * CPU, with a dispatch overhead on every kernel, so it never outranks wasm for training; among the
 * rest, the self-test's measured training-step time decides when the user has run it.
 */
import type { BackendName } from './names.ts';
import { BACKEND_ORDER } from './names.ts';
import { SELFTEST_BATCH, type SelftestReport } from './selftest.ts';
import { LabError } from '../errors.ts';
import { backendInfo, initBackend, type BackendAttempt } from './backends.ts';

/** A backend's training speed as the self-test measured it. */
export interface MeasuredSpeed {
  backend: BackendName;
  /** Median wall time of the self-test's training step (forward, backward, AdamW), ms. */
  trainStepMs: number;
  /** The same as the inverse network's estimated training rate, samples/s (see networkSamplesPerSec). */
  samplesPerSec: number;
}

/**
 * The self-test's train check is a small copy of the inverse network's encoder on a batch of 8;
 * the real network (53k parameters) trains on batches of 256, which amortise the per-kernel
 * overhead the small check pays in full. Measured back to back on wasm in Node (same process,
 * same load): check 2.0–4.4 ms per step (2,500–2,800 samples/s), training 6,600–7,200 samples/s,
 * a ratio of 2.3–2.9; on the idle machine the check takes ~2 ms and `inverse train` ran at 12,100
 * samples/s (100k surfaces × 40 epochs), ~3. So the network's rate is estimated as
 * CHECK_TO_NETWORK × the check's rate. The factor is the wasm one; on GPU backends the per-kernel
 * overhead is larger still, so the estimate errs low there (a time shown too long, not too short),
 * and a running job's own rate (Progress.etaMs) replaces it after its first batches.
 */
export const CHECK_TO_NETWORK = 3;

/** The inverse network's training rate on a backend, estimated from the self-test's train-step time. */
export function networkSamplesPerSec(trainStepMs: number): number {
  return (CHECK_TO_NETWORK * SELFTEST_BATCH[0] * 1000) / Math.max(trainStepMs, 1e-6);
}

/** Training speeds from a self-test report: only backends whose train check passed (a wrong backend has no speed worth ranking). */
export function measuredSpeeds(report: SelftestReport): MeasuredSpeed[] {
  const out: MeasuredSpeed[] = [];
  for (const r of report.results) {
    const train = r.checks.find((c) => c.name === 'train');
    if (!r.ok || !train?.ok || !(train.ms > 0)) continue;
    out.push({ backend: r.backend, trainStepMs: train.ms, samplesPerSec: networkSamplesPerSec(train.ms) });
  }
  return out;
}

/**
 * Backends in the order to try them for training: measured ones fastest first, then the
 * unmeasured in the default order; and a GPU backend known to run on a software renderer after
 * wasm whatever it measured (it computes on the CPU, worse than wasm does).
 */
export function rankForTraining(
  candidates: readonly BackendName[] = BACKEND_ORDER,
  measured: readonly MeasuredSpeed[] = [],
  softwareRenderer: Partial<Record<BackendName, string | undefined>> = {},
): BackendName[] {
  const speed = new Map(measured.map((m) => [m.backend, m.trainStepMs]));
  const base = (b: BackendName) => BACKEND_ORDER.indexOf(b);
  const ranked = [...candidates].sort((a, b) => {
    const sa = speed.get(a);
    const sb = speed.get(b);
    if (sa !== undefined && sb !== undefined) return sa - sb;
    if (sa !== undefined) return -1;
    if (sb !== undefined) return 1;
    return base(a) - base(b);
  });
  const software = ranked.filter((b) => softwareRenderer[b]);
  if (software.length === 0 || !ranked.includes('wasm')) return ranked;
  const rest = ranked.filter((b) => !softwareRenderer[b]);
  const at = rest.indexOf('wasm') + 1;
  return [...rest.slice(0, at), ...software, ...rest.slice(at)];
}

/** Milliseconds for `work` units at `perSec` units per second (Infinity when the rate is unknown or zero). */
export function estimateDurationMs(work: number, perSec: number): number {
  return perSec > 0 && Number.isFinite(perSec) ? (1000 * Math.max(work, 0)) / perSec : Infinity;
}

/**
 * Estimated wall time of an inverse training run: n surfaces, of which valFraction are held out,
 * seen `epochs` times at `samplesPerSec` (from measuredSpeeds, or a previous run's figure). The
 * per-epoch validation pass (forward only, ~1/3 of a training step per sample) is included.
 */
export function estimateTrainingMs(job: { n: number; epochs: number; valFraction?: number }, samplesPerSec: number): number {
  const val = Math.round(job.n * (job.valFraction ?? 0.1));
  const train = job.n - val;
  return estimateDurationMs(job.epochs * (train + val / 3), samplesPerSec);
}

/** "about 3 min", "about 40 s", "under a second": how a page shows an estimate. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return 'unknown';
  if (ms < 1000) return 'under a second';
  const s = ms / 1000;
  if (s < 90) return `about ${Math.round(s)} s`;
  const m = s / 60;
  if (m < 90) return `about ${Math.round(m)} min`;
  return `about ${(m / 60).toFixed(1)} h`;
}

export interface TrainingPick {
  active: BackendName;
  /** Every backend tried, in order, including the one that won. */
  attempts: (BackendAttempt & { softwareRenderer?: string })[];
  /** Set when a GPU backend started but runs on a software renderer: the header says so. */
  softwareGpu?: { backend: BackendName; renderer: string };
  /** Why this backend, in one line ("measured fastest", "wasm: the GPU is SwiftShader, software"). */
  reason: string;
}

/**
 * "auto": tries the backends in rankForTraining order and keeps the first that works — except a
 * GPU backend that turns out to run on a software renderer, which gives way to wasm when wasm
 * works (and is kept, with softwareGpu set, when nothing better starts). `preferred` (the
 * user's explicit choice) is honoured even on a software renderer; softwareGpu still says so.
 */
export async function pickForTraining(candidates: readonly BackendName[] = BACKEND_ORDER, opts: { preferred?: BackendName; measured?: readonly MeasuredSpeed[] } = {}): Promise<TrainingPick> {
  const measured = opts.measured ?? [];
  const ranked = rankForTraining(candidates, measured);
  const order = opts.preferred ? [opts.preferred, ...ranked.filter((c) => c !== opts.preferred)] : ranked;
  const attempts: TrainingPick['attempts'] = [];
  let softwareGpu: TrainingPick['softwareGpu'];
  const tried = new Set<BackendName>();
  for (const name of order) {
    if (tried.has(name)) continue;
    tried.add(name);
    const attempt: TrainingPick['attempts'][number] = await initBackend(name);
    attempts.push(attempt);
    if (!attempt.ok) continue;
    if (name === 'webgpu' || name === 'webgl') {
      const renderer = (await backendInfo()).softwareRenderer;
      if (renderer) {
        attempt.softwareRenderer = renderer;
        softwareGpu = { backend: name, renderer };
        if (name !== opts.preferred && candidates.includes('wasm') && !tried.has('wasm')) {
          tried.add('wasm');
          const wasm = await initBackend('wasm');
          attempts.push(wasm);
          if (wasm.ok) return { active: 'wasm', attempts, softwareGpu, reason: `wasm: ${name} runs on ${renderer}, a software renderer, which trains many times slower` };
          // wasm failed: go back to the software GPU, better than cpu.
          const back = await initBackend(name);
          if (!back.ok) continue;
        }
        return { active: name, attempts, softwareGpu, reason: name === opts.preferred ? `${name}: your choice (it runs on ${renderer}, a software renderer)` : `${name}: the only fast backend that starts (software renderer ${renderer})` };
      }
    }
    const m = measured.find((x) => x.backend === name);
    const reason = name === opts.preferred ? `${name}: your choice` : m ? `${name}: fastest training step measured by the self-test (${m.trainStepMs.toFixed(1)} ms)` : `${name}: first in the default order that starts`;
    return { active: name, attempts, ...(softwareGpu ? { softwareGpu } : {}), reason };
  }
  throw new LabError(`no compute backend works here: ${attempts.map((a) => `${a.name}: ${a.error}`).join('; ')}`);
}
