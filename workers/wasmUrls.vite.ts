/**
 * The wasm backend's binaries as Vite assets: imported with `?url`, they are copied into the
 * build with hashed names next to the bundle, so the lab works from any sub-path and offline (the
 * service worker caches them with everything else). It lives in workers/, not src/core, because
 * `?url` is Vite-only and core must load in Node as it is (tests/unit/layers.test.ts): the
 * workers import it, while Node (CLI, tests) lets the package find the files beside itself.
 */
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { configureWasmPaths } from '../src/core/backend/backends.ts';

/** Absolute URLs: setWasmPaths hands them to fetch() from inside the tfjs bundle. */
export function useBundledWasm(): void {
  const abs = (u: string) => new URL(u, import.meta.url).href;
  configureWasmPaths({
    'tfjs-backend-wasm.wasm': abs(wasmPlain),
    'tfjs-backend-wasm-simd.wasm': abs(wasmSimd),
    'tfjs-backend-wasm-threaded-simd.wasm': abs(wasmThreadedSimd),
  });
}
