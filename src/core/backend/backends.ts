/**
 * The compute-backend registry: which tfjs backends exist, in which order the lab prefers them,
 * and how one is brought up. A backend counts as working only after it has initialised AND
 * computed a known answer correctly — feature sniffing (navigator.gpu exists) says nothing about
 * whether the adapter, the driver or the wasm binary actually deliver.
 *
 * One backend is active per thread (tfjs keeps a single global engine), so the page's choice is
 * applied in every worker through workers/backend.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { LabError, errorMessage } from '../errors.ts';
import { BACKEND_ORDER, type BackendName, isBackendName } from './names.ts';

export { BACKEND_ORDER, isBackendName, type BackendName };

/** The outcome of trying to bring one backend up. */
export interface BackendAttempt {
  name: BackendName;
  ok: boolean;
  /** Why it is unusable (absent, failed to initialise, computed a wrong answer). */
  error?: string;
  /** Wall time of the attempt, initialisation and check included. */
  ms: number;
}

export interface BackendInfo {
  name: BackendName;
  /** WebGPU adapter (navigator.gpu.requestAdapter().info). */
  adapter?: { vendor: string; architecture: string; description: string; device: string };
  /** WebGL renderer strings (unmasked where the browser allows). */
  webgl?: { renderer: string; vendor: string; version: string };
  /** WASM build in use. */
  wasm?: { simd: boolean; threads: boolean };
  /**
   * Float precision measured here: a value below half-float range (1e-8) survives the round trip
   * only in float32. Measured with an async read — tfjs' own floatPrecision() reads with
   * dataSync(), which is unreliable off the main thread.
   */
  floatBits: number;
  /** What tfjs itself believes (it picks default epsilons, e.g. Adam's, from this). */
  tfjsFloatBits: number;
  /** A one-line summary for the header, e.g. "webgpu · google swiftshader". */
  summary: string;
  /**
   * Set when the webgpu / webgl backend runs on a software rasteriser (SwiftShader, llvmpipe …):
   * there, training is 17–60× slower than on wasm (228 samples/s against 12–15k/s, 53–66×; 17–43× in the browser benchmark), so
   * "auto" trains on wasm instead (rank.ts) and the header says so.
   */
  softwareRenderer?: string;
}

/** Renderer names of software GPU implementations, as adapters and WebGL renderer strings report them. */
const SOFTWARE_RENDERERS: [RegExp, string][] = [
  [/swiftshader/i, 'SwiftShader'],
  [/llvmpipe/i, 'llvmpipe'],
  [/lavapipe/i, 'lavapipe'],
  [/softpipe/i, 'softpipe'],
  [/microsoft basic render/i, 'Microsoft Basic Render Driver'],
];

/** The software rasteriser an adapter or renderer description names, if any. */
export function softwareRendererName(description: string): string | undefined {
  return SOFTWARE_RENDERERS.find(([re]) => re.test(description))?.[1];
}

let wasmPaths: Record<string, string> | string | undefined;

/**
 * Where the wasm backend fetches its .wasm binaries. A Vite build passes the hashed asset URLs
 * (workers/wasmUrls.vite.ts); Node needs nothing because the package finds the files
 * next to itself. Must be called before the first initBackend('wasm').
 */
export function configureWasmPaths(paths: Record<string, string> | string): void {
  wasmPaths = paths;
}

const registered = new Set<BackendName>(['cpu', 'webgl']);

function isNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined' && typeof self === 'undefined';
}

/** A reason the backend cannot exist here, known without trying (undefined = worth trying). */
export function unavailableReason(name: BackendName): string | undefined {
  if (name === 'webgpu') {
    if (isNode()) return 'WebGPU is not available in Node';
    const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
    if (!nav?.gpu) return 'this browser exposes no WebGPU (navigator.gpu is missing)';
  }
  if (name === 'webgl') {
    if (isNode()) return 'WebGL is not available in Node';
    const g = globalThis as { OffscreenCanvas?: unknown; document?: unknown };
    if (!g.OffscreenCanvas && !g.document) return 'no canvas to create a WebGL context on (OffscreenCanvas is missing)';
  }
  return undefined;
}

async function register(name: BackendName): Promise<void> {
  if (registered.has(name)) return;
  if (name === 'webgpu') {
    await import('@tensorflow/tfjs-backend-webgpu');
  } else if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // Threaded wasm inside a Vite bundle crashed the page (shared/DESIGN.md); SIMD alone is safe.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    if (wasmPaths !== undefined) wasm.setWasmPaths(wasmPaths as never);
  }
  registered.add(name);
}

/**
 * A small computation with a known exact answer: integers small enough that every float32
 * product and sum is exact, so any correct backend returns exactly these numbers.
 */
export async function sanityCheck(): Promise<string | undefined> {
  const n = 4;
  const a = Array.from({ length: n * n }, (_, i) => (i % 7) - 3);
  const b = Array.from({ length: n * n }, (_, i) => ((i * 5) % 9) - 4);
  const expected: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k]! * b[k * n + j]!;
      expected.push(Math.max(s, 0) + 1);
    }
  }
  const out = tf.tidy(() => tf.relu(tf.matMul(tf.tensor2d(a, [n, n]), tf.tensor2d(b, [n, n]))).add(1));
  try {
    const got = await out.data();
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
    if (!(worst === 0)) return `computed a wrong 4×4 matMul (largest error ${worst}; expected exact integers)`;
    return undefined;
  } finally {
    out.dispose();
  }
}

/** navigator.gpu can exist with no adapter behind it (blocklisted GPU, headless without flags). */
async function webgpuAdapterMissing(): Promise<string | undefined> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator?.gpu;
  const adapter = await gpu?.requestAdapter().catch(() => null);
  return adapter ? undefined : 'navigator.gpu exists but the browser offers no WebGPU adapter (GPU blocklisted or WebGPU disabled; see chrome://gpu)';
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/**
 * tfjs' WebGL backend decides whether it has float32 by reading a tiny value back with dataSync();
 * in a worker (OffscreenCanvas) that read comes back as 0, so tfjs concludes "half floats only"
 * although it computes in float32 — and then hands out half-float epsilons (Adam's ε = 1e-4
 * instead of 1e-7), which changes every training run on WebGL. Measured here with an async read;
 * when float32 is real, tfjs' cached answer is set to match before anything asks for it.
 */
async function correctWebglPrecision(): Promise<void> {
  const backend = tf.backend() as unknown as { floatPrecisionValue?: number };
  if (backend.floatPrecisionValue === undefined && (await measureFloatBits()) === 32) backend.floatPrecisionValue = 32;
}

/** Registers, initialises and checks one backend, and leaves it active when it works. */
export async function initBackend(name: BackendName): Promise<BackendAttempt> {
  const t0 = now();
  const fail = (error: string): BackendAttempt => ({ name, ok: false, error, ms: now() - t0 });
  const why = unavailableReason(name);
  if (why) return fail(why);
  try {
    if (name === 'webgpu') {
      const noAdapter = await webgpuAdapterMissing();
      if (noAdapter) return fail(noAdapter);
    }
    await register(name);
    if (!tf.findBackendFactory(name)) return fail(`tfjs did not register the ${name} backend here (unsupported environment)`);
    const ok = await tf.setBackend(name);
    if (!ok) return fail(`tfjs could not initialise the ${name} backend`);
    await tf.ready();
    const wrong = await sanityCheck();
    if (wrong) return fail(wrong);
    if (name === 'webgl') await correctWebglPrecision();
    return { name, ok: true, ms: now() - t0 };
  } catch (e) {
    return fail(errorMessage(e));
  }
}

export interface PickResult {
  active: BackendName;
  /** Every backend tried, in order, including the one that won. */
  attempts: BackendAttempt[];
}

/**
 * Tries `preferred` first (when given), then the rest of `candidates` in order, and keeps the
 * first that works. Throws when none does (cpu always should, so that means a broken install).
 */
export async function pickBestBackend(candidates: readonly BackendName[] = BACKEND_ORDER, preferred?: BackendName): Promise<PickResult> {
  const order = preferred ? [preferred, ...candidates.filter((c) => c !== preferred)] : [...candidates];
  const attempts: BackendAttempt[] = [];
  for (const name of order) {
    const attempt = await initBackend(name);
    attempts.push(attempt);
    if (attempt.ok) return { active: name, attempts };
  }
  throw new LabError(`no compute backend works here: ${attempts.map((a) => `${a.name}: ${a.error}`).join('; ')}`);
}

/** Tries every backend (for doctor / Diagnostics), then leaves `restore` active if given. */
export async function probeBackends(candidates: readonly BackendName[] = BACKEND_ORDER, restore?: BackendName): Promise<BackendAttempt[]> {
  const out: BackendAttempt[] = [];
  for (const name of candidates) out.push(await initBackend(name));
  if (restore) await initBackend(restore);
  return out;
}

export function activeBackendName(): BackendName {
  const name = tf.getBackend();
  if (!isBackendName(name)) throw new LabError(`tfjs reports an unknown active backend "${name}"`);
  return name;
}

async function webgpuAdapterInfo(): Promise<BackendInfo['adapter']> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator?.gpu;
  if (!gpu) return undefined;
  const adapter = (await gpu.requestAdapter()) as
    | { info?: Record<string, string>; requestAdapterInfo?: () => Promise<Record<string, string>> }
    | null;
  if (!adapter) return undefined;
  const info = adapter.info ?? (adapter.requestAdapterInfo ? await adapter.requestAdapterInfo() : {});
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    description: info.description ?? '',
    device: info.device ?? '',
  };
}

function webglInfo(): BackendInfo['webgl'] {
  const backend = tf.backend() as unknown as { gpgpu?: { gl?: WebGLRenderingContext } };
  const gl = backend.gpgpu?.gl;
  if (!gl) return undefined;
  const dbg = gl.getExtension('WEBGL_debug_renderer_info');
  return {
    renderer: String(gl.getParameter(dbg ? dbg.UNMASKED_RENDERER_WEBGL : gl.RENDERER)),
    vendor: String(gl.getParameter(dbg ? dbg.UNMASKED_VENDOR_WEBGL : gl.VENDOR)),
    version: String(gl.getParameter(gl.VERSION)),
  };
}

async function measureFloatBits(): Promise<number> {
  const t = tf.tidy(() => tf.abs(tf.scalar(1e-8)).mul(1e8));
  try {
    const v = (await t.data())[0]!;
    return Math.abs(v - 1) < 1e-3 ? 32 : 16;
  } finally {
    t.dispose();
  }
}

/** What the active backend runs on: adapter for webgpu, renderer for webgl, build for wasm. */
export async function backendInfo(): Promise<BackendInfo> {
  const name = activeBackendName();
  const info: BackendInfo = { name, summary: name, floatBits: await measureFloatBits(), tfjsFloatBits: tf.backend().floatPrecision() };
  try {
    if (name === 'webgpu') {
      info.adapter = await webgpuAdapterInfo();
      const a = info.adapter;
      if (a) info.summary = `webgpu · ${[a.vendor, a.architecture].filter(Boolean).join(' ') || a.description || 'unknown adapter'}`;
    } else if (name === 'webgl') {
      info.webgl = webglInfo();
      if (info.webgl) info.summary = `webgl · ${info.webgl.renderer}`;
      if (info.floatBits < 32) info.summary += ` · float${info.floatBits} only`;
    } else if (name === 'wasm') {
      info.wasm = { simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')), threads: false };
      info.summary = `wasm · ${info.wasm.simd ? 'SIMD' : 'no SIMD'}, single thread`;
    } else {
      info.summary = 'cpu · plain JavaScript';
    }
  } catch (e) {
    info.summary = `${name} (adapter details unavailable: ${errorMessage(e)})`;
  }
  const described = info.adapter ? Object.values(info.adapter).join(' ') : info.webgl ? `${info.webgl.renderer} ${info.webgl.vendor}` : '';
  info.softwareRenderer = softwareRendererName(described);
  return info;
}
