/**
 * The page's compute-backend state: which tfjs backend the lab uses, what it runs on, and the
 * user's override (persisted in localStorage, applied on reload). The choice is made in a worker —
 * where all compute runs — by actually initialising backends in preference order; every other
 * worker is put on the same backend by labWorker(). The page thread itself never loads tfjs.
 */
import { get, writable } from 'svelte/store';
import type { BackendAttempt, BackendInfo } from '../../core/backend/backends.ts';
import type { MeasuredSpeed } from '../../core/backend/estimate.ts';
import { isBackendName, type BackendName } from '../../core/backend/names.ts';
import { errorMessage } from '../../core/errors.ts';
import type { DiagnosticsJobs } from '../../../workers/diagnostics.worker.ts';
import { jobClient, type JobClient } from './jobClient.ts';

export type BackendChoice = 'auto' | BackendName;
export const BACKEND_CHOICES: BackendChoice[] = ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'];

export interface BackendState {
  status: 'starting' | 'ready' | 'failed';
  choice: BackendChoice;
  active?: BackendName;
  info?: BackendInfo;
  /** Backends tried at start, in order, with the reason each failed. */
  attempts: BackendAttempt[];
  /** Set when the user's choice could not start and another backend is in use. */
  fallback?: string;
  /** Whether WebGPU initialised here (drives the "how to get WebGPU" message). */
  webgpuOk?: boolean;
  /** A GPU backend that started on a software renderer (SwiftShader, llvmpipe …): the header says so. */
  softwareGpu?: { backend: BackendName; renderer: string };
  /** Why this backend, in one line (measured fastest, software GPU skipped, the user's choice). */
  reason?: string;
  error?: string;
}

const STORAGE_KEY = 'heston-lab:backend';
const SPEEDS_KEY = 'heston-lab:backend-speeds';

/** The training speeds the last self-test measured here (Diagnostics), which "auto" ranks by. */
export function loadSpeeds(): MeasuredSpeed[] {
  try {
    const v = JSON.parse(localStorage.getItem(SPEEDS_KEY) ?? '[]') as unknown;
    return Array.isArray(v) ? (v as MeasuredSpeed[]).filter((m) => isBackendName(m?.backend) && m.trainStepMs > 0 && m.samplesPerSec > 0) : [];
  } catch {
    return [];
  }
}

/**
 * Keeps a self-test's measured speeds (the diagnostics worker's `selftest` returns them) for the
 * next "auto" pick and for duration estimates; backends this run did not test keep their figure.
 */
export function rememberSpeeds(speeds: MeasuredSpeed[], tested: BackendName[]): void {
  const kept = loadSpeeds().filter((m) => !tested.includes(m.backend));
  try {
    localStorage.setItem(SPEEDS_KEY, JSON.stringify([...kept, ...speeds]));
  } catch {
    // No storage: the ranking falls back to the default order next time.
  }
}

export function loadChoice(): BackendChoice {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    return v === 'auto' || isBackendName(v) ? v : 'auto';
  } catch {
    return 'auto';
  }
}

function saveChoice(c: BackendChoice): void {
  try {
    localStorage.setItem(STORAGE_KEY, c);
  } catch {
    // Private browsing can refuse storage; the choice then lasts for this visit only.
  }
}

export const backend = writable<BackendState>({ status: 'starting', choice: loadChoice(), attempts: [] });

let client: JobClient<DiagnosticsJobs> | undefined;
let started: Promise<BackendName> | undefined;

function probeWorker(): JobClient<DiagnosticsJobs> {
  client ??= jobClient<DiagnosticsJobs>(new Worker(new URL('../../../workers/diagnostics.worker.ts', import.meta.url), { type: 'module' }));
  return client;
}

async function pick(choice: BackendChoice): Promise<BackendName> {
  backend.set({ status: 'starting', choice, attempts: [] });
  try {
    const r = await probeWorker().run('pickBackend', { preferred: choice === 'auto' ? undefined : choice, measured: loadSpeeds() });
    const webgpu = r.attempts.find((a) => a.name === 'webgpu');
    const first = r.attempts[0];
    backend.set({
      status: 'ready',
      choice,
      active: r.active,
      info: r.info,
      attempts: r.attempts,
      webgpuOk: webgpu ? webgpu.ok : undefined,
      softwareGpu: r.softwareGpu ?? (r.info.softwareRenderer ? { backend: r.active, renderer: r.info.softwareRenderer } : undefined),
      reason: r.reason,
      fallback: choice !== 'auto' && r.active !== choice ? `${choice} could not start (${first?.error ?? 'unknown reason'}); using ${r.active} instead` : undefined,
    });
    return r.active;
  } catch (e) {
    backend.set({ status: 'failed', choice, attempts: [], error: errorMessage(e) });
    throw e;
  }
}

// One tfjs engine per worker: two picks interleaving there would race on tf.setBackend, so a new
// choice waits for the previous pick to settle.
let queue: Promise<unknown> = Promise.resolve();
function enqueue(choice: BackendChoice): Promise<BackendName> {
  const next = queue.then(() => pick(choice));
  queue = next.catch(() => undefined);
  return next;
}

/** Picks the backend once per page load (idempotent); resolves to the active backend. */
export function startBackend(): Promise<BackendName> {
  started ??= enqueue(get(backend).choice);
  return started;
}

/** Applies and persists the user's override; workers pick it up on their next job. */
export function chooseBackend(choice: BackendChoice): Promise<BackendName> {
  saveChoice(choice);
  started = enqueue(choice);
  return started;
}

/** The backend workers should use, once it is known. */
export function activeBackend(): Promise<BackendName> {
  return startBackend();
}
