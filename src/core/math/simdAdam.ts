/**
 * Adam (torch.optim.Adam's formulas) over one flat parameter vector, on hand-encoded WebAssembly
 * SIMD kernels with scalar-JS fallbacks. The PPO's CPU update (rl/ppo.ts CpuPpoUpdater) takes one
 * step per minibatch over all ~125k parameters at D = 57.
 *
 * Same bits. Per element the float64 kernel evaluates exactly the JS expressions
 *   g' = g·coef;  m = b1·m + c1·g';  v = b2·v + (c2·g')·g';  p = p − (ss·m) / (√v + epsS)
 * (c1 = 1 − b1, c2 = 1 − b2, ss and epsS computed once in JS; PyTorch's p −= stepSize·m/(√v/sbc2 + ε)
 * with numerator and denominator times sbc2: one division instead of two, within a few ulps,
 * tested) with the same operation order: wasm's f64x2 mul, add, sub, div and sqrt are IEEE-754
 * correctly rounded, lane by lane, like V8's scalar doubles (and Math.sqrt is correctly rounded
 * too), so both paths give the same bytes (tested, tolerance 0). The mixed-precision kernel
 * (float32 gradients, float64 moments and master weights, the float32 weights written out) takes
 * the update ss·m/(√v + epsS) in float32, four lanes at a time; its fallback mirrors it.
 *
 * Resident buffers. `AdamBuffers` puts the parameters, gradients and both moments in a
 * math/simdGemm GemmWorkspace (the CPU updater's own, where its products write the gradients): a
 * step copies nothing. The step is sqrt/div bound. Measured (D = 57, per CPU-second, same session
 * each): the f64x2 kernel took PPO training 1.90k → 2.51k env-steps/s; one division per parameter
 * took the step and clip from 308 to 257 µs per minibatch, the float32 update to ~200 µs.
 */
import { F64, I32, V128, body, compileOnce, moduleBytes, op } from './wasmEncode.ts';
import { GemmWorkspace, simdGemmAvailable } from './simdGemm.ts';

const B1 = 0.9;
const B2 = 0.999;

/**
 * Body of adam(pg, pm, pv, pp, pairs, coef, c1, c2, b1, b2, ss, epsS): float64 gradients, moments
 * and parameters at byte addresses pg pm pv pp, `pairs` pairs. ss = stepSize·√(1 − β2ᵗ) and
 * epsS = ε·√(1 − β2ᵗ) (see AdamBuffers.step).
 */
function adamBody(): number[] {
  const [pg, pm, pv, pp, pairs] = [0, 1, 2, 3, 4];
  const fParams = [5, 6, 7, 8, 9, 10, 11]; // coef c1 c2 b1 b2 ss epsS
  const o = 12;
  const end = 13;
  const splats = [14, 15, 16, 17, 18, 19, 20];
  const [coefV, c1V, c2V, b1V, b2V, ssV, epV] = splats;
  const [g, mi, vi] = [21, 22, 23];
  const code: number[] = [];
  const e = (...xs: (number | number[])[]) => {
    for (const x of xs) typeof x === 'number' ? code.push(x) : code.push(...x);
  };
  const at = (base: number) => [...op.get(base), ...op.get(o), ...op.add];
  e(op.get(pairs), op.i32(16), op.mul, op.set(end), op.i32(0), op.set(o));
  fParams.forEach((p, i) => e(op.get(p), op.splat, op.set(splats[i]!)));
  e(op.block, op.loop, op.get(o), op.get(end), op.geS, op.brIf(1));
  // g' = g · coef
  e(at(pg), op.vLoad(0), op.get(coefV!), op.vMul, op.set(g));
  // m = b1 · m + c1 · g'
  e(op.get(b1V!), at(pm), op.vLoad(0), op.vMul, op.get(c1V!), op.get(g), op.vMul, op.vAdd, op.set(mi));
  // v = b2 · v + (c2 · g') · g'
  e(op.get(b2V!), at(pv), op.vLoad(0), op.vMul, op.get(c2V!), op.get(g), op.vMul, op.get(g), op.vMul, op.vAdd, op.set(vi));
  e(at(pm), op.get(mi), op.vStore(0), at(pv), op.get(vi), op.vStore(0));
  // p = p − (ss · m) / (√v + epsS)
  e(at(pp), at(pp), op.vLoad(0), op.get(ssV!), op.get(mi), op.vMul, op.get(vi), op.vSqrt, op.get(epV!), op.vAdd, op.vDiv, op.vSub, op.vStore(0));
  e(op.get(o), op.i32(16), op.add, op.set(o), op.br(0), op.end, op.end, op.end);
  return body(
    [
      [2, I32],
      [10, V128],
    ],
    code,
  );
}

const LOW_HALVES = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
const HIGH_TO_LOW = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];

/**
 * Body of adamMixed(pg, pm, pv, pp, pw, quads, coef, c1, c2, b1, b2, ss, epsS), four parameters
 * per iteration: float32 gradients at pg (widened exactly), float64 moments and parameters, and
 * the new parameters' float32 copy written to pw (rounded to nearest, as Math.fround). The moments
 * and the parameter update's subtraction are float64; the update itself, ss·m / (√v + epsS), is
 * one f32x4 square root and division per four parameters instead of two f64x2 of each per two —
 * the step was divider bound — at float32's ~6e-8 relative error on a step of ~lr (PyTorch's Adam
 * is float32 throughout). ss and epsS arrive already rounded to float32.
 */
function adamMixedBody(): number[] {
  const [pg, pm, pv, pp, pw, quads] = [0, 1, 2, 3, 4, 5];
  const fParams = [6, 7, 8, 9, 10]; // coef c1 c2 b1 b2 (f64); ss epsS (11, 12) → f32x4
  let next = 13;
  const o = next++;
  const end = next++;
  const firstV = next;
  const splats = fParams.map(() => next++);
  const [coefV, c1V, c2V, b1V, b2V] = splats;
  const ss4 = next++;
  const ep4 = next++;
  const g = next++;
  const m = [next++, next++];
  const v = [next++, next++];
  const u = [next++, next++];
  const pn = [next++, next++];
  const code: number[] = [];
  const e = (...xs: (number | number[])[]) => {
    for (const x of xs) typeof x === 'number' ? code.push(x) : code.push(...x);
  };
  const at = (base: number, off: number) => [...op.get(base), ...op.get(o), ...op.add, ...op.i32(off), ...op.add];
  const at32 = (base: number, off: number) => [...op.get(base), ...op.get(o), ...op.i32(1), ...op.shrU, ...op.add, ...op.i32(off), ...op.add];
  e(op.get(quads), op.i32(32), op.mul, op.set(end), op.i32(0), op.set(o));
  fParams.forEach((p, i) => e(op.get(p), op.splat, op.set(splats[i]!)));
  e(op.get(11), op.f32DemoteF64, op.f32x4.splat, op.set(ss4), op.get(12), op.f32DemoteF64, op.f32x4.splat, op.set(ep4));
  e(op.block, op.loop, op.get(o), op.get(end), op.geS, op.brIf(1));
  for (let h = 0; h < 2; h++) {
    // g' = g · coef;  m = b1 · m + c1 · g';  v = b2 · v + (c2 · g') · g'  (float64, stored)
    e(at32(pg, 8 * h), op.load64Zero(0), op.promoteLow, op.get(coefV!), op.vMul, op.set(g));
    e(op.get(b1V!), at(pm, 16 * h), op.vLoad(0), op.vMul, op.get(c1V!), op.get(g), op.vMul, op.vAdd, op.set(m[h]!));
    e(op.get(b2V!), at(pv, 16 * h), op.vLoad(0), op.vMul, op.get(c2V!), op.get(g), op.vMul, op.get(g), op.vMul, op.vAdd, op.set(v[h]!));
    e(at(pm, 16 * h), op.get(m[h]!), op.vStore(0), at(pv, 16 * h), op.get(v[h]!), op.vStore(0));
  }
  // u = (ss · m) / (√v + epsS) on four float32 lanes
  e(op.get(ss4), op.get(m[0]!), op.demoteZero, op.get(m[1]!), op.demoteZero, op.shuffle(LOW_HALVES), op.f32x4.mul);
  e(op.get(v[0]!), op.demoteZero, op.get(v[1]!), op.demoteZero, op.shuffle(LOW_HALVES), op.f32x4.sqrt, op.get(ep4), op.f32x4.add);
  e(op.f32x4.div, op.set(u[0]!));
  e(op.get(u[0]!), op.get(u[0]!), op.shuffle(HIGH_TO_LOW), op.promoteLow, op.set(u[1]!));
  e(op.get(u[0]!), op.promoteLow, op.set(u[0]!));
  // p = p − u (float64), and its float32 copy
  for (let h = 0; h < 2; h++) e(at(pp, 16 * h), op.vLoad(0), op.get(u[h]!), op.vSub, op.set(pn[h]!), at(pp, 16 * h), op.get(pn[h]!), op.vStore(0));
  e(at32(pw, 0), op.get(pn[0]!), op.demoteZero, op.get(pn[1]!), op.demoteZero, op.shuffle(LOW_HALVES), op.vStore(0));
  e(op.get(o), op.i32(32), op.add, op.set(o), op.br(0), op.end, op.end, op.end);
  return body(
    [
      [firstV - 13, I32],
      [next - firstV, V128],
    ],
    code,
  );
}

/** The module: imports env.mem (a GemmWorkspace's memory) and exports adam and adamMixed. */
export function simdAdamModuleBytes(): Uint8Array<ArrayBuffer> {
  const f = F64;
  return moduleBytes(
    [
      [0x60, 12, I32, I32, I32, I32, I32, f, f, f, f, f, f, f, 0],
      [0x60, 13, I32, I32, I32, I32, I32, I32, f, f, f, f, f, f, f, 0],
    ],
    [
      { type: 0, name: 'adam', body: adamBody() },
      { type: 1, name: 'adamMixed', body: adamMixedBody() },
    ],
  );
}

type AdamFn = (pg: number, pm: number, pv: number, pp: number, pairs: number, coef: number, c1: number, c2: number, b1: number, b2: number, ss: number, epsS: number) => void;
type AdamMixedFn = (pg: number, pm: number, pv: number, pp: number, pw: number, quads: number, coef: number, c1: number, c2: number, b1: number, b2: number, ss: number, epsS: number) => void;

const adamModule = compileOnce(simdAdamModuleBytes);

/**
 * Parameters, gradients and Adam moments of n values in a GemmWorkspace (its own, or the caller's,
 * so the products and the Adam step share one memory and nothing is copied between them). Moments
 * and parameters are float64. Gradients are float64, or with `mixed` float32 — what float32
 * products write — and then each step also writes the new parameters' float32 copy (`params32`,
 * the weights those products use): mixed precision with float64 master weights, in one pass.
 * The views are fresh on every read (a later allocation in the workspace may grow it); `*At` are
 * their indices in the workspace (float32 indices for the float32 arrays). `step` clips nothing
 * itself: the caller passes the clip coefficient.
 */
export class AdamBuffers {
  readonly gradAt: number;
  readonly mAt: number;
  readonly vAt: number;
  readonly paramsAt: number;
  /** float32 index of params32 (mixed), −1 otherwise. */
  readonly params32At: number;
  private readonly fn: AdamFn | null;
  private readonly fnMixed: AdamMixedFn | null;

  constructor(
    readonly n: number,
    readonly ws: GemmWorkspace = new GemmWorkspace(5 * n + 8),
    readonly mixed = false,
  ) {
    this.gradAt = mixed ? ws.alloc32(n) : ws.alloc64(n);
    this.mAt = ws.alloc64(n);
    this.vAt = ws.alloc64(n);
    this.paramsAt = ws.alloc64(n);
    this.params32At = mixed ? ws.alloc32(n) : -1;
    const M = adamModule();
    const ex = M && ws.memory ? (new WebAssembly.Instance(M, { env: { mem: ws.memory } }).exports as unknown as { adam: AdamFn; adamMixed: AdamMixedFn }) : null;
    this.fn = ex && !mixed ? ex.adam : null;
    this.fnMixed = ex && mixed ? ex.adamMixed : null;
  }

  get params(): Float64Array {
    return this.ws.view64(this.paramsAt, this.n);
  }

  /** float32 copy of params (mixed only; set it yourself after writing params directly). */
  get params32(): Float32Array {
    if (!this.mixed) throw new Error('AdamBuffers.params32: not a mixed-precision buffer');
    return this.ws.view32(this.params32At, this.n);
  }

  get grad(): Float64Array | Float32Array {
    return this.mixed ? this.ws.view32(this.gradAt, this.n) : this.ws.view64(this.gradAt, this.n);
  }

  get m(): Float64Array {
    return this.ws.view64(this.mAt, this.n);
  }

  get v(): Float64Array {
    return this.ws.view64(this.vAt, this.n);
  }

  /**
   * One Adam step at 1-based `step` on grad · coef, PyTorch's update
   *   p −= (lr/bc1)·m / (√v/sbc2 + ε),  bc1 = 1 − β1ᵗ, sbc2 = √(1 − β2ᵗ),
   * evaluated as p −= ss·m / (√v + epsS) with ss = (lr/bc1)·sbc2 and epsS = ε·sbc2: the same
   * number up to rounding (~1e-16 relative, tested) with one division per parameter instead of
   * two — the step is divider bound. Same bits on either path.
   */
  step(step: number, lr: number, coef: number, eps: number): void {
    const bc1 = 1 - B1 ** step;
    const sbc2 = Math.sqrt(1 - B2 ** step);
    const ss = (lr / bc1) * sbc2;
    const epsS = eps * sbc2;
    const c1 = 1 - B1;
    const c2 = 1 - B2;
    const on = simdGemmAvailable();
    // Mixed: the update in float32 (see adamMixedBody), the tail mirroring the kernel's operations.
    const f = Math.fround;
    const [ss32, eps32] = [f(ss), f(epsS)];
    let i = 0;
    if (this.fnMixed && on) {
      const quads = this.n >> 2;
      this.fnMixed(this.gradAt * 4, this.mAt * 8, this.vAt * 8, this.paramsAt * 8, this.params32At * 4, quads, coef, c1, c2, B1, B2, ss32, eps32);
      i = 4 * quads;
    } else if (this.fn && on) {
      const pairs = this.n >> 1;
      this.fn(this.gradAt * 8, this.mAt * 8, this.vAt * 8, this.paramsAt * 8, pairs, coef, c1, c2, B1, B2, ss, epsS);
      i = 2 * pairs;
    }
    const { grad: g, m, v, params: p } = this;
    const w = this.mixed ? this.params32 : null;
    for (; i < this.n; i++) {
      const gi = g[i]! * coef;
      const mi = B1 * m[i]! + c1 * gi;
      const vi = B2 * v[i]! + c2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      if (w) {
        p[i]! -= f(f(ss32 * f(mi)) / f(f(Math.sqrt(f(vi))) + eps32));
        w[i] = p[i]!;
      } else p[i]! -= (ss * mi) / (Math.sqrt(vi) + epsS);
    }
  }
}
