/**
 * math/simdGemm against the scalar A·Bᵀ kernel the PPO agent and CPU updater started on (copied
 * verbatim below as the reference) and, for float32, against the same loop with every multiply and
 * add rounded to float32. Tolerance 0: the wasm kernels vectorise along the output columns, so every
 * output is the same sum in the same order (bias, then i ascending, a separate multiply and add) —
 * bit equality is what makes Node and browsers agree (wasm arithmetic is fully specified) and keeps
 * "same seed → same run" whichever path runs.
 */
import { describe, expect, it } from 'vitest';
import { GemmWorkspace, setSimdGemmEnabled, simdGemmAvailable, simdGemmModuleBytes } from '../../../src/core/math/simdGemm.ts';
import { Rng } from '../../../src/core/math/rng.ts';

/** The former kernel (src/core/rl/ppoAgent.ts before simdGemm): C = A · Btᵀ, Bt [n × k]. */
function referenceABt(A: Float64Array, B: Float64Array, m: number, n: number, k: number, C: Float64Array, bias?: Float64Array, biasOff = 0): void {
  let r = 0;
  for (; r + 4 <= m; r += 4) {
    const a0 = r * k;
    const a1 = a0 + k;
    const a2 = a1 + k;
    const a3 = a2 + k;
    for (let j = 0; j < n; j++) {
      const b0 = j * k;
      let s0 = bias ? bias[biasOff + j]! : 0;
      let s1 = s0;
      let s2 = s0;
      let s3 = s0;
      for (let i = 0; i < k; i++) {
        const w = B[b0 + i]!;
        s0 += A[a0 + i]! * w;
        s1 += A[a1 + i]! * w;
        s2 += A[a2 + i]! * w;
        s3 += A[a3 + i]! * w;
      }
      C[r * n + j] = s0;
      C[(r + 1) * n + j] = s1;
      C[(r + 2) * n + j] = s2;
      C[(r + 3) * n + j] = s3;
    }
  }
  for (; r < m; r++) {
    for (let j = 0; j < n; j++) {
      let s0 = bias ? bias[biasOff + j]! : 0;
      for (let i = 0; i < k; i++) s0 += A[r * k + i]! * B[j * k + i]!;
      C[r * n + j] = s0;
    }
  }
}

function randomMatrix(len: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  // Mixed magnitudes so a change in summation order would show in the last bits.
  return Float64Array.from({ length: len }, (_, i) => rng.normal() * 10 ** ((i % 7) - 3));
}

function transposed(B: Float64Array, k: number, n: number): Float64Array {
  const t = new Float64Array(n * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) t[j * k + i] = B[i * n + j]!;
  return t;
}

// The PPO's products at D = 57 (obs 913, 2 × 64): rollout batch 8, minibatch 64 forward, dW, dh, heads;
// then odd shapes for every column tail (n mod 4 = 1, 2, 3) and row tail (m mod 4 ≠ 0).
const SHAPES: [number, number, number][] = [
  [8, 64, 913], [64, 64, 913], [913, 64, 64], [64, 913, 64], [64, 1, 64], [64, 64, 1], [8, 1, 64],
  [7, 3, 5], [5, 6, 33], [3, 7, 300], [9, 65, 17], [1, 1, 1], [4, 2, 0],
];

/** float32 reference: the former loop with each product and sum rounded to float32. */
function referenceABt32(A: Float32Array, Bt: Float32Array, m: number, n: number, k: number, C: Float32Array, bias?: Float32Array): void {
  for (let r = 0; r < m; r++)
    for (let j = 0; j < n; j++) {
      let s = bias ? bias[j]! : 0;
      for (let i = 0; i < k; i++) s = Math.fround(s + Math.fround(A[r * k + i]! * Bt[j * k + i]!));
      C[r * n + j] = s;
    }
}

/** Copy `x` into a fresh region of ws (float64) and return its index. */
function put64(ws: GemmWorkspace, x: Float64Array): number {
  const at = ws.alloc64(x.length);
  ws.view64(at, x.length).set(x);
  return at;
}

function put32(ws: GemmWorkspace, x: Float32Array): number {
  const at = ws.alloc32(x.length);
  ws.view32(at, x.length).set(x);
  return at;
}

/** Run f with the wasm kernels on, then off; both results. */
function bothPaths<T>(f: () => T): [T, T] {
  const on = f();
  setSimdGemmEnabled(false);
  try {
    return [on, f()];
  } finally {
    setSimdGemmEnabled(true);
  }
}

describe('simdGemm', () => {
  it('the module validates and the wasm kernels are in use under Node 20', () => {
    expect(WebAssembly.validate(simdGemmModuleBytes())).toBe(true);
    expect(simdGemmAvailable()).toBe(true);
    expect(new GemmWorkspace().memory).not.toBeNull();
  });

  for (const [m, n, k] of SHAPES) {
    it(`float64 ${m}×${k} · ${k}×${n}, with and without bias and with A read transposed in place, equals the former kernel bit for bit on both paths`, () => {
      const A = randomMatrix(m * k, 1 + m);
      const B = randomMatrix(k * n, 2 + n);
      const bias = randomMatrix(n, 3);
      const ref = new Float64Array(m * n);
      referenceABt(A, transposed(B, k, n), m, n, k, ref, bias);
      const refNoBias = new Float64Array(m * n);
      referenceABt(A, transposed(B, k, n), m, n, k, refNoBias);
      const ws = new GemmWorkspace();
      const [a, aT, b, bb, c] = [put64(ws, A), put64(ws, transposed(A, m, k)), put64(ws, B), put64(ws, bias), ws.alloc64(m * n)];
      const C = () => Array.from(ws.view64(c, m * n));
      for (const got of bothPaths(() => {
        ws.view64(c, m * n).fill(NaN);
        ws.product64(m, n, k, a, b, c, bb);
        const withBias = C();
        ws.product64(m, n, k, a, b, c);
        const noBias = C();
        ws.product64(m, n, k, aT, b, c, bb, true);
        return [withBias, noBias, C()];
      })) {
        expect(got[0]).toEqual(Array.from(ref));
        expect(got[1]).toEqual(Array.from(refNoBias));
        expect(got[2]).toEqual(Array.from(ref));
      }
    });

    it(`float32 ${m}×${k} · ${k}×${n} equals the float32-rounded loop bit for bit on both paths`, () => {
      const A = Float32Array.from(randomMatrix(m * k, 11 + m));
      const B = Float32Array.from(randomMatrix(k * n, 12 + n));
      const bias = Float32Array.from(randomMatrix(n, 13));
      const Bt = Float32Array.from(transposed(Float64Array.from(B), k, n));
      const ref = new Float32Array(m * n);
      referenceABt32(A, Bt, m, n, k, ref, bias);
      const refNoBias = new Float32Array(m * n);
      referenceABt32(A, Bt, m, n, k, refNoBias);
      const ws = new GemmWorkspace();
      const [a, b, bb, c] = [put32(ws, A), put32(ws, B), put32(ws, bias), ws.alloc32(m * n)];
      for (const got of bothPaths(() => {
        ws.view32(c, m * n).fill(NaN);
        ws.product32(m, n, k, a, b, c, bb);
        const withBias = Array.from(ws.view32(c, m * n));
        ws.product32(m, n, k, a, b, c);
        return [withBias, Array.from(ws.view32(c, m * n))];
      })) {
        expect(got[0]).toEqual(Array.from(ref));
        expect(got[1]).toEqual(Array.from(refNoBias));
      }
      // float32 is ~1e-7 relative per operation: the result stays within a k-term error bound of float64.
      const ref64 = new Float64Array(m * n);
      referenceABt(Float64Array.from(A), transposed(Float64Array.from(B), k, n), m, n, k, ref64, Float64Array.from(bias));
      const scale = Math.max(1e-30, ...Array.from(ref64, Math.abs));
      ref.forEach((x, i) => expect(Math.abs(x - ref64[i]!) / scale).toBeLessThan(1e-6 * Math.max(1, k)));
    });
  }

  it('writes only the m·n outputs it was given, and the memory grows with allocations without moving data', () => {
    const [m, n, k] = [6, 8, 40];
    const ws = new GemmWorkspace();
    const A = randomMatrix(m * k, 4);
    const B = randomMatrix(k * n, 5);
    const [a, b] = [put64(ws, A), put64(ws, B)];
    const c = ws.alloc64(m * n + 3);
    ws.view64(c, m * n + 3).fill(7);
    ws.product64(m, n, k, a, b, c);
    const ref = new Float64Array(m * n);
    referenceABt(A, transposed(B, k, n), m, n, k, ref);
    expect(Array.from(ws.view64(c, m * n))).toEqual(Array.from(ref));
    expect(Array.from(ws.view64(c + m * n, 3))).toEqual([7, 7, 7]);
    const before = ws.f64.length;
    const big = ws.alloc64(300 * 913); // ~2.2 MB: past the first pages
    expect(ws.f64.length).toBeGreaterThan(before);
    expect(Array.from(ws.view64(a, m * k))).toEqual(Array.from(A)); // the data survived the growth
    ws.view64(big, 300 * 913).set(randomMatrix(300 * 913, 6));
    const B2 = randomMatrix(913 * 64, 7);
    const [b2, c2] = [put64(ws, B2), ws.alloc64(300 * 64)];
    ws.product64(300, 64, 913, big, b2, c2);
    const ref2 = new Float64Array(300 * 64);
    referenceABt(ws.view64(big, 300 * 913).slice(), transposed(B2, 913, 64), 300, 64, 913, ref2);
    expect(Array.from(ws.view64(c2, 300 * 64))).toEqual(Array.from(ref2));
  });

  it('a workspace made with the kernels off is a plain buffer with the same bits', () => {
    const [m, n, k] = [9, 65, 17];
    const A = randomMatrix(m * k, 8);
    const B = randomMatrix(k * n, 9);
    const run = () => {
      const ws = new GemmWorkspace();
      const [a, b, c] = [put64(ws, A), put64(ws, B), ws.alloc64(m * n)];
      ws.product64(m, n, k, a, b, c);
      return { mem: ws.memory, out: Array.from(ws.view64(c, m * n)) };
    };
    const on = run();
    expect(on.mem).not.toBeNull();
    setSimdGemmEnabled(false);
    try {
      expect(simdGemmAvailable()).toBe(false);
      expect(run().out).toEqual(on.out);
    } finally {
      setSimdGemmEnabled(true);
    }
  });
});
