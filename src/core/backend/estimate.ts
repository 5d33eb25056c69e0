/**
 * (Pure, tfjs-free: pages import it for estimates; rank.ts does the picking.)
 * Which backend trains fastest HERE, from what the backends measured, and how long a job will
 * take. Issue 15: with a fixed order (webgpu > webgl > wasm > cpu) "auto" chose WebGPU on a
 * software adapter (SwiftShader) and the default Inverse run would have taken ~27 minutes at 228
 * samples/s, where wasm trains at 12–15k/s — 53–66× faster (17–43× in the browser benchmark). A GPU backend on a software renderer
 * (SwiftShader, llvmpipe, WARP — backends.ts softwareRendererName) computes correctly but on the
 * CPU, with a dispatch overhead on every kernel, so it never outranks wasm for training; among the
 * rest, the self-test's measured training-step time decides when the user has run it.
 */
import type { BackendName } from './names.ts';
import { BACKEND_ORDER } from './names.ts';
import type { SelftestReport } from './selftest.ts';

/** Samples in the self-test's training step (selftest.ts SELFTEST_BATCH[0]). */
export const SELFTEST_BATCH_SIZE = 8;

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
  return (CHECK_TO_NETWORK * SELFTEST_BATCH_SIZE * 1000) / Math.max(trainStepMs, 1e-6);
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
 * Backends in the order to try them for training: the default order, with the MEASURED backends
 * re-sorted by speed among the places they hold (a self-test of cpu alone leaves cpu last, where
 * it was; one that timed webgl faster than wasm swaps those two) — a measurement only ranks a
 * backend against other measured ones. A GPU backend known to run on a software renderer then
 * goes after wasm whatever it measured: it computes on the CPU, worse than wasm does.
 */
export function rankForTraining(
  candidates: readonly BackendName[] = BACKEND_ORDER,
  measured: readonly MeasuredSpeed[] = [],
  softwareRenderer: Partial<Record<BackendName, string | undefined>> = {},
): BackendName[] {
  const speed = new Map(measured.map((m) => [m.backend, m.trainStepMs]));
  const base = [...candidates].sort((a, b) => BACKEND_ORDER.indexOf(a) - BACKEND_ORDER.indexOf(b));
  const byspeed = base.filter((b) => speed.has(b)).sort((a, b) => speed.get(a)! - speed.get(b)!);
  let k = 0;
  const ranked = base.map((b) => (speed.has(b) ? byspeed[k++]! : b));
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

