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
