/**
 * Backend names and preference order, apart from backends.ts so the page shell can list and
 * validate them without loading tfjs.
 */
export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';

/** Fastest first: a real GPU through WebGPU, then WebGL, then SIMD wasm, then plain JS. */
export const BACKEND_ORDER: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export function isBackendName(x: unknown): x is BackendName {
  return typeof x === 'string' && (BACKEND_ORDER as readonly string[]).includes(x);
}
