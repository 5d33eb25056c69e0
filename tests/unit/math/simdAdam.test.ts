/**
 * math/simdAdam against the CPU updater's former scalar Adam loop (copied below as the reference,
 * in PyTorch's form and in the one-division form the kernel evaluates). Tolerance 0 against the
 * latter: the f64x2 kernel evaluates the same expressions in the same order with correctly rounded
 * mul/add/sub/div/sqrt per lane, so the parameters and moments must be the same bytes — that is
 * what keeps "same seed → same run" whichever path runs; PyTorch's form agrees to rounding.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AdamBuffers, simdAdamModuleBytes } from '../../../src/core/math/simdAdam.ts';
import { setSimdGemmEnabled, simdGemmAvailable } from '../../../src/core/math/simdGemm.ts';
import { Rng } from '../../../src/core/math/rng.ts';

/** The former loop (src/core/rl/ppo.ts CpuPpoUpdater.apply before simdAdam); `torch`: PyTorch's
 *  p −= (lr/bc1)·m / (√v/sbc2 + ε), else the same with numerator and denominator times sbc2. */
function referenceStep(p: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array, step: number, lr: number, coef: number, eps: number, torch = false, f32Update = false): void {
  const f = Math.fround;
  const b1 = 0.9;
  const b2 = 0.999;
  const bc1 = 1 - b1 ** step;
  const sbc2 = Math.sqrt(1 - b2 ** step);
  const stepSize = lr / bc1;
  for (let i = 0; i < g.length; i++) {
    const gi = g[i]! * coef;
    const mi = b1 * m[i]! + (1 - b1) * gi;
    const vi = b2 * v[i]! + (1 - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    if (f32Update) p[i]! -= f(f(f(stepSize * sbc2) * f(mi)) / f(f(Math.sqrt(f(vi))) + f(eps * sbc2)));
    else p[i]! -= torch ? (stepSize * mi) / (Math.sqrt(vi) / sbc2 + eps) : (stepSize * sbc2 * mi) / (Math.sqrt(vi) + eps * sbc2);
  }
}

function run(n: number, steps: number, simd: boolean, mixed = false): { bufs: AdamBuffers; ref: Float64Array[]; torch: Float64Array } {
  setSimdGemmEnabled(simd);
  const rng = Rng.stream(5, 1);
  const bufs = new AdamBuffers(n, undefined, mixed);
  const ref = [new Float64Array(n), new Float64Array(n), new Float64Array(n), new Float64Array(n)]; // p g m v
  for (let i = 0; i < n; i++) bufs.params[i] = ref[0]![i] = rng.normal() * 0.1;
  const torch = ref[0]!.slice();
  const [mT, vT] = [new Float64Array(n), new Float64Array(n)];
  for (let s = 1; s <= steps; s++) {
    // Gradients over many magnitudes, with exact zeros, so sqrt/div see denormal-free but wide inputs.
    // (mixed: float32 gradients; the reference sees the same float32 values, widened.)
    const grad = bufs.grad;
    for (let i = 0; i < n; i++) {
      grad[i] = i % 17 === 0 ? 0 : rng.normal() * 10 ** (-(i % 7));
      ref[1]![i] = grad[i]!;
    }
    const coef = s % 2 ? 1 : 0.37;
    bufs.step(s, 3e-4, coef, 1e-5);
    // mixed: the update is float32 (one f32x4 sqrt and division per four parameters).
    referenceStep(ref[0]!, ref[1]!, ref[2]!, ref[3]!, s, 3e-4, coef, 1e-5, false, mixed);
    referenceStep(torch, ref[1]!, mT, vT, s, 3e-4, coef, 1e-5, true);
  }
  return { bufs, ref, torch };
}

describe('simdAdam', () => {
  afterEach(() => setSimdGemmEnabled(true));

  it('the module validates where WebAssembly SIMD exists (Node 20 has it)', () => {
    expect(WebAssembly.validate(simdAdamModuleBytes())).toBe(true);
    expect(simdGemmAvailable()).toBe(true);
  });

  it("agrees with PyTorch's two-division form to rounding: within a few ulps of the parameter or of its updates after 6 steps", () => {
    const { bufs, torch } = run(1001, 6, true);
    const p = bufs.params;
    const ULP = 2 ** -52;
    // Each step moves a parameter by ~lr = 3e-4: 6 steps' rounding is a few ulps of ~2e-3 (~1e-18).
    for (let i = 0; i < p.length; i++) expect(Math.abs(p[i]! - torch[i]!)).toBeLessThanOrEqual(2 * ULP * Math.abs(torch[i]!) + 8 * ULP * 6 * 3e-4);
  });

  for (const simd of [true, false]) {
    it(`${simd ? 'wasm' : 'scalar fallback'}, mixed precision: float32 gradients in, float64 moments, a float32 update (same bits as its reference, within float32 rounding of the float64 step), a float32 copy of the parameters out`, () => {
      const n = 1003; // n mod 4 = 3: the last three take the scalar tail
      const { bufs, ref, torch } = run(n, 6, simd, true);
      expect(bufs.grad).toBeInstanceOf(Float32Array);
      expect(Array.from(bufs.params)).toEqual(Array.from(ref[0]!));
      expect(Array.from(bufs.m)).toEqual(Array.from(ref[2]!));
      expect(Array.from(bufs.v)).toEqual(Array.from(ref[3]!));
      expect(Array.from(bufs.params32)).toEqual(Array.from(Float32Array.from(ref[0]!)));
      // Six steps of ~lr = 3e-4 each, each update within a few float32 roundings (~2e-7 relative).
      const p = bufs.params;
      for (let i = 0; i < n; i++) expect(Math.abs(p[i]! - torch[i]!)).toBeLessThan(6 * 3e-4 * 1e-6);
    });

    it(`${simd ? 'wasm f64x2' : 'scalar fallback'}: same bits as the former loop (odd n, 6 steps)`, () => {
      const n = 1001; // odd: the last element takes the scalar tail
      const { bufs, ref } = run(n, 6, simd);
      expect(Array.from(bufs.params)).toEqual(Array.from(ref[0]!));
      expect(Array.from(bufs.m)).toEqual(Array.from(ref[2]!));
      expect(Array.from(bufs.v)).toEqual(Array.from(ref[3]!));
      // The steps moved every parameter with a nonzero gradient (a kernel that wrote nothing fails).
      const init = run(n, 0, simd).bufs.params;
      expect(bufs.params.filter((x, i) => i % 17 !== 0 && x === init[i]).length).toBe(0);
    });
  }
});
