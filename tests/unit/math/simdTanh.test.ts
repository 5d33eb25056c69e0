/**
 * math/simdTanh: the f32x4 kernel (through GemmWorkspace.tanh32) against its scalar mirror
 * (tolerance 0: every operation is the same float32 IEEE operation) and against Math.tanh rounded to
 * float32 (≤ 4 float32 ulps — the loop of ~25 roundings; a wrong coefficient, reduction or sign
 * shows up as thousands of ulps). Odd, ±0, ±∞, NaN and subnormals are checked by value.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GemmWorkspace, setSimdGemmEnabled, simdGemmModuleBytes } from '../../../src/core/math/simdGemm.ts';
import { simdTanhModuleBytes, tanh32 } from '../../../src/core/math/simdTanh.ts';
import { simdAdamModuleBytes } from '../../../src/core/math/simdAdam.ts';

/** float32 ulp distance (same sign assumed; both finite). */
function ulps(a: number, b: number): number {
  const i = new Int32Array(new Float32Array([a, b]).buffer);
  return Math.abs(i[0]! - i[1]!);
}

function viaWorkspace(xs: Float32Array, simd: boolean): Float32Array {
  setSimdGemmEnabled(simd);
  try {
    const ws = new GemmWorkspace();
    const at = ws.alloc32(xs.length);
    ws.view32(at, xs.length).set(xs);
    ws.tanh32(at, xs.length);
    return ws.view32(at, xs.length).slice();
  } finally {
    setSimdGemmEnabled(true);
  }
}

// A dense grid over the range that matters (hidden pre-activations) plus the reduction's edges.
const grid = new Float32Array(200_003);
for (let i = 0; i < grid.length; i++) grid[i] = -12 + (24 * i) / (grid.length - 1);

describe('simdTanh', () => {
  afterEach(() => setSimdGemmEnabled(true));

  it('the modules validate, each under the 4 KB some browsers allow a synchronous main-thread compile', () => {
    for (const bytes of [simdGemmModuleBytes(), simdAdamModuleBytes(), simdTanhModuleBytes()]) {
      expect(WebAssembly.validate(bytes)).toBe(true);
      expect(bytes.length).toBeLessThan(4096);
    }
  });

  it('wasm f32x4 and the scalar mirror give the same bits (odd length: the tail takes the mirror)', () => {
    const simd = viaWorkspace(grid, true);
    const scalar = viaWorkspace(grid, false);
    expect(Array.from(simd)).toEqual(Array.from(scalar));
    expect(Array.from(simd.subarray(0, 1000))).toEqual(Array.from(grid.subarray(0, 1000), (x) => Math.fround(tanh32(x))));
  });

  it('is within 4 float32 ulps of Math.tanh over [−12, 12], and exactly odd', () => {
    const t = viaWorkspace(grid, true);
    let worst = 0;
    for (let i = 0; i < grid.length; i++) {
      const want = Math.fround(Math.tanh(grid[i]!));
      if (want === 0) expect(t[i]).toBe(want);
      else worst = Math.max(worst, ulps(t[i]!, want));
    }
    expect(worst).toBeLessThanOrEqual(4);
    const neg = viaWorkspace(grid.map((x) => -x), true);
    neg.forEach((v, i) => expect(v).toBe(-t[i]!));
  });

  it('small, large and special values', () => {
    const xs = new Float32Array([0, -0, 1e-30, -1e-30, 1e-45, 3e-8, 0.01, 0.173, 0.174, 0.5, 1, 8.99, 9, 9.01, 20, 1e30, Infinity, -Infinity, NaN, -2.5]);
    const t = viaWorkspace(xs, true);
    expect(Object.is(t[0], 0)).toBe(true);
    expect(Object.is(t[1], -0)).toBe(true);
    expect(t[2]).toBe(Math.fround(1e-30)); // tanh x = x below ~1e-4 in float32
    expect(t[3]).toBe(Math.fround(-1e-30));
    expect(t[4]).toBe(Math.fround(1e-45)); // the smallest subnormal survives
    for (const i of [5, 6, 7, 8, 9, 10, 11, 19]) expect(ulps(t[i]!, Math.fround(Math.tanh(xs[i]!)))).toBeLessThanOrEqual(4);
    for (const i of [12, 13, 14, 15, 16]) expect(t[i]).toBe(1);
    expect(t[17]).toBe(-1);
    expect(Number.isNaN(t[18])).toBe(true);
  });
});
