/**
 * Picking the backend "auto" trains on (the ranking itself is estimate.ts, tfjs-free): try them in
 * rankForTraining order, and let a GPU backend that turns out to run on a software renderer give
 * way to wasm.
 */
import type { BackendName } from './names.ts';
import { BACKEND_ORDER } from './names.ts';
import { LabError } from '../errors.ts';
import { backendInfo, initBackend, type BackendAttempt } from './backends.ts';
import { rankForTraining, type MeasuredSpeed } from './estimate.ts';

export * from './estimate.ts';

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
 * GPU backend that turns out to run on a software renderer: it is set aside and the search goes on
 * (a hardware GPU later in the order still wins, e.g. a SwiftShader WebGPU adapter beside a real
 * WebGL one) until wasm; it is taken back only when wasm does not start, before cpu, which it
 * still beats. `preferred` (the user's explicit choice) is honoured even on a software renderer;
 * softwareGpu says so either way.
 */
export async function pickForTraining(candidates: readonly BackendName[] = BACKEND_ORDER, opts: { preferred?: BackendName; measured?: readonly MeasuredSpeed[] } = {}): Promise<TrainingPick> {
  const measured = opts.measured ?? [];
  const ranked = rankForTraining(candidates, measured);
  const order = opts.preferred ? [opts.preferred, ...ranked.filter((c) => c !== opts.preferred)] : ranked;
  const attempts: TrainingPick['attempts'] = [];
  /** The first GPU backend found on a software renderer: what the header reports, and the fallback before cpu. */
  let softwareGpu: TrainingPick['softwareGpu'];
  const tried = new Set<BackendName>();
  const start = async (name: BackendName) => {
    tried.add(name);
    const attempt: TrainingPick['attempts'][number] = await initBackend(name);
    attempts.push(attempt);
    if (attempt.ok && (name === 'webgpu' || name === 'webgl')) attempt.softwareRenderer = (await backendInfo()).softwareRenderer;
    return attempt;
  };
  const softwareFallback = async (): Promise<TrainingPick | undefined> => {
    if (!softwareGpu) return undefined;
    const { backend: name, renderer } = softwareGpu;
    const back = await initBackend(name);
    return back.ok ? { active: name, attempts, softwareGpu, reason: `${name}: the only fast backend that starts (software renderer ${renderer})` } : undefined;
  };
  for (const name of order) {
    if (tried.has(name)) continue;
    const gpu = name === 'webgpu' || name === 'webgl';
    if (softwareGpu && !gpu && name !== 'wasm') {
      // Past every GPU and before cpu: wasm first (even if measured slower than cpu), then the software GPU.
      if (candidates.includes('wasm') && !tried.has('wasm') && (await start('wasm')).ok) return { active: 'wasm', attempts, softwareGpu, reason: softwareReason(softwareGpu) };
      const back = await softwareFallback();
      if (back) return back;
    }
    const attempt = await start(name);
    if (!attempt.ok) continue;
    if (attempt.softwareRenderer) {
      const renderer = attempt.softwareRenderer;
      softwareGpu ??= { backend: name, renderer };
      if (name === opts.preferred) return { active: name, attempts, softwareGpu: { backend: name, renderer }, reason: `${name}: your choice (it runs on ${renderer}, a software renderer)` };
      continue;
    }
    if (softwareGpu && name === 'wasm') return { active: 'wasm', attempts, softwareGpu, reason: softwareReason(softwareGpu) };
    // A hardware GPU after a software one: what runs is not software, so the header has nothing to flag.
    if (softwareGpu) return { active: name, attempts, reason: `${name}: a hardware GPU (${softwareGpu.backend} runs on ${softwareGpu.renderer}, a software renderer)` };
    const m = measured.find((x) => x.backend === name);
    const reason = name === opts.preferred ? `${name}: your choice` : m ? `${name}: fastest training step measured by the self-test (${m.trainStepMs.toFixed(1)} ms)` : `${name}: first in the default order that starts`;
    return { active: name, attempts, reason };
  }
  const back = await softwareFallback();
  if (back) return back;
  throw new LabError(`no compute backend works here: ${attempts.map((a) => `${a.name}: ${a.error}`).join('; ')}`);
}

function softwareReason(g: { backend: BackendName; renderer: string }): string {
  return `wasm: ${g.backend} runs on ${g.renderer}, a software renderer, which trains many times slower`;
}
