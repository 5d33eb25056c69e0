/**
 * math/simdGemm against the scalar A·Bᵀ kernel it replaced in the PPO agent and CPU updater
 * (copied verbatim below as the reference). Tolerance 0: the wasm kernel vectorises along the output
 * columns, so every output is the same float64 sum in the same order (bias, then i ascending, a
 * separate multiply and add) — bit equality is what keeps "same seed → same run" and every PPO
 * number identical to before, and what makes Node and browsers agree (wasm f64 is fully specified).
 */
import { describe, expect, it } from 'vitest';
import { ResidentOperands, gemmAB, gemmABScalar, setSimdGemmEnabled, simdGemmAvailable, simdGemmModuleBytes } from '../../../src/core/math/simdGemm.ts';
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

describe('simdGemm', () => {
  it('the module validates and the wasm kernel is in use under Node 20', () => {
    expect(WebAssembly.validate(simdGemmModuleBytes())).toBe(true);
    expect(simdGemmAvailable()).toBe(true);
  });

  for (const [m, n, k] of SHAPES) {
    it(`${m}×${k} · ${k}×${n} (+ bias at an offset) equals the former kernel bit for bit, on both paths`, () => {
      const A = randomMatrix(m * k, 1 + m);
      const B = randomMatrix(k * n, 2 + n);
      const bias = randomMatrix(n + 5, 3);
      const ref = new Float64Array(m * n);
      referenceABt(A, transposed(B, k, n), m, n, k, ref, bias, 5);
      const wasm = new Float64Array(m * n).fill(NaN);
      gemmAB(A, B, m, n, k, wasm, bias, 5);
      expect(Array.from(wasm)).toEqual(Array.from(ref));
      const scalar = new Float64Array(m * n).fill(NaN);
      gemmABScalar(A, B, m, n, k, scalar, bias, 5);
      expect(Array.from(scalar)).toEqual(Array.from(ref));
      const noBias = new Float64Array(m * n);
      const refNoBias = new Float64Array(m * n);
      gemmAB(A, B, m, n, k, noBias);
      referenceABt(A, transposed(B, k, n), m, n, k, refNoBias);
      expect(Array.from(noBias)).toEqual(Array.from(refNoBias));
    });
  }

  it('reads only the leading m·k and k·n values of longer operands and writes only m·n outputs', () => {
    const [m, n, k] = [6, 8, 40];
    const A = randomMatrix(m * k + 13, 4);
    const B = randomMatrix(k * n + 11, 5);
    const C = new Float64Array(m * n + 3).fill(7);
    gemmAB(A.subarray(0), B, m, n, k, C);
    const ref = new Float64Array(m * n);
    referenceABt(A, transposed(B.subarray(0, k * n), k, n), m, n, k, ref);
    expect(Array.from(C.subarray(0, m * n))).toEqual(Array.from(ref));
    expect(Array.from(C.subarray(m * n))).toEqual([7, 7, 7]);
  });

  it('grows its memory for a large product and stays correct for small ones after', () => {
    const [m, n, k] = [300, 64, 913]; // ~3.0 MB of operands: past the first pages
    const A = randomMatrix(m * k, 6);
    const B = randomMatrix(k * n, 7);
    const C = new Float64Array(m * n);
    gemmAB(A, B, m, n, k, C);
    const ref = new Float64Array(m * n);
    referenceABt(A, transposed(B, k, n), m, n, k, ref);
    expect(Array.from(C)).toEqual(Array.from(ref));
    const small = new Float64Array(8 * 64);
    gemmAB(A, B, 8, 64, 913, small);
    expect(Array.from(small)).toEqual(Array.from(ref.subarray(0, 8 * 64)));
  });

  it('ResidentOperands (weights kept in wasm memory) equals the former kernel for every shape, batch sizes growing and shrinking, kernel on and off', () => {
    const Bs = SHAPES.map(([, n, k], i) => randomMatrix(k * n, 20 + i));
    const biases = SHAPES.map(([, n], i) => randomMatrix(n, 40 + i));
    const ops = new ResidentOperands([...Bs, ...biases]);
    for (const on of [true, false]) {
      setSimdGemmEnabled(on);
      try {
        for (const rows of [1, 300, 8]) // 300 rows grows the memory past the resident block
          SHAPES.forEach(([m0, n, k], i) => {
            const m = Math.max(1, Math.min(m0, rows));
            const A = randomMatrix(m * k, 60 + i);
            const ref = new Float64Array(m * n);
            referenceABt(A, transposed(Bs[i]!, k, n), m, n, k, ref, biases[i]!);
            const C = new Float64Array(m * n).fill(NaN);
            ops.product(A, m, n, k, C, i, SHAPES.length + i);
            expect(Array.from(C)).toEqual(Array.from(ref));
            const refNoBias = new Float64Array(m * n);
            referenceABt(A, transposed(Bs[i]!, k, n), m, n, k, refNoBias);
            ops.product(A, m, n, k, C, i);
            expect(Array.from(C)).toEqual(Array.from(refNoBias));
          });
      } finally {
        setSimdGemmEnabled(true);
      }
    }
  });

  it('the scalar fallback gives the same bits when the kernel is switched off', () => {
    const [m, n, k] = [64, 64, 913];
    const A = randomMatrix(m * k, 8);
    const B = randomMatrix(k * n, 9);
    const on = new Float64Array(m * n);
    const off = new Float64Array(m * n);
    gemmAB(A, B, m, n, k, on);
    setSimdGemmEnabled(false);
    try {
      expect(simdGemmAvailable()).toBe(false);
      gemmAB(A, B, m, n, k, off);
    } finally {
      setSimdGemmEnabled(true);
    }
    expect(Array.from(off)).toEqual(Array.from(on));
  });
});
