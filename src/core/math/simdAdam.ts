/**
 * Adam (torch.optim.Adam's formulas, float64) over one flat parameter vector, on a hand-encoded
 * WebAssembly SIMD kernel (f64x2) with a scalar-JS fallback. The PPO's CPU update (rl/ppo.ts
 * CpuPpoUpdater) takes one step per minibatch over all ~125k parameters at D = 57.
 *
 * Same bits. Per element the kernel evaluates exactly the JS expressions
 *   g' = g·coef;  m = b1·m + c1·g';  v = b2·v + (c2·g')·g';  p = p − (stepSize·m) / (√v / sbc2 + eps)
 * (c1 = 1 − b1, c2 = 1 − b2 computed once in JS) with the same operation order: wasm's f64x2 mul,
 * add, sub, div and sqrt are IEEE-754 correctly rounded, lane by lane, like V8's scalar doubles
 * (and Math.sqrt is correctly rounded too), so both paths give the same bytes (tested, tolerance 0).
 *
 * Resident buffers. `AdamBuffers` puts the parameters, gradients and both moments in a
 * math/simdGemm GemmWorkspace (the CPU updater's own, where its products write the gradients): a
 * step copies nothing. The JS loop is sqrt/div bound (~⅕ of a PPO training iteration at D = 57);
 * f64x2 halves the sqrt and div count. Measured (bench/rl-ppo.bench.ts, D = 57, per CPU-second,
 * same session): PPO training 1.90k → 2.51k env-steps/s with this kernel and the gradients written
 * in place; it is still divider bound (~2 ns per parameter).
 */
import { F64, GemmWorkspace, I32, V128, body, compileOnce, moduleBytes, op, simdGemmAvailable } from './simdGemm.ts';

const B1 = 0.9;
const B2 = 0.999;

/** Params: pg pm pv pp (byte addresses), pairs (i32), then coef c1 c2 b1 b2 stepSize sbc2 eps (f64). */
function adamBody(): number[] {
  const [pg, pm, pv, pp, pairs] = [0, 1, 2, 3, 4];
  const fParams = [5, 6, 7, 8, 9, 10, 11, 12]; // coef c1 c2 b1 b2 ss sbc2 eps
  const o = 13;
  const end = 14;
  const splats = [15, 16, 17, 18, 19, 20, 21, 22];
  const [coefV, c1V, c2V, b1V, b2V, ssV, sbV, epV] = splats;
  const g = 23;
  const mi = 24;
  const vi = 25;
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
  // p = p − (stepSize · m) / (√v / sbc2 + eps)
  e(at(pp), at(pp), op.vLoad(0), op.get(ssV!), op.get(mi), op.vMul, op.get(vi), op.vSqrt, op.get(sbV!), op.vDiv, op.get(epV!), op.vAdd, op.vDiv, op.vSub, op.vStore(0));
  e(op.get(o), op.i32(16), op.add, op.set(o), op.br(0), op.end, op.end, op.end);
  return body(
    [
      [2, I32],
      [11, V128],
    ],
    code,
  );
}

/** The module: imports env.mem (a GemmWorkspace's memory) and exports adam(...) → (). */
export function simdAdamModuleBytes(): Uint8Array<ArrayBuffer> {
  return moduleBytes([[0x60, 13, I32, I32, I32, I32, I32, F64, F64, F64, F64, F64, F64, F64, F64, 0]], [{ type: 0, name: 'adam', body: adamBody() }]);
}

type AdamFn = (pg: number, pm: number, pv: number, pp: number, pairs: number, coef: number, c1: number, c2: number, b1: number, b2: number, ss: number, sbc2: number, eps: number) => void;

const adamModule = compileOnce(simdAdamModuleBytes);

/**
 * Parameters, gradients and Adam moments of n float64 values in a GemmWorkspace (its own, or the
 * caller's, so the products and the Adam step share one memory and nothing is copied between them).
 * The views are fresh on every read (a later allocation in the workspace may grow it); `*At` are
 * their float64 indices in the workspace. `step` clips nothing itself: the caller passes the clip
 * coefficient.
 */
export class AdamBuffers {
  readonly gradAt: number;
  readonly mAt: number;
  readonly vAt: number;
  readonly paramsAt: number;
  private readonly fn: AdamFn | null;

  constructor(
    readonly n: number,
    readonly ws: GemmWorkspace = new GemmWorkspace(4 * n + 8),
  ) {
    this.gradAt = ws.alloc64(n);
    this.mAt = ws.alloc64(n);
    this.vAt = ws.alloc64(n);
    this.paramsAt = ws.alloc64(n);
    const M = adamModule();
    this.fn = M && ws.memory ? (new WebAssembly.Instance(M, { env: { mem: ws.memory } }).exports as unknown as { adam: AdamFn }).adam : null;
  }

  get params(): Float64Array {
    return this.ws.view64(this.paramsAt, this.n);
  }

  get grad(): Float64Array {
    return this.ws.view64(this.gradAt, this.n);
  }

  get m(): Float64Array {
    return this.ws.view64(this.mAt, this.n);
  }

  get v(): Float64Array {
    return this.ws.view64(this.vAt, this.n);
  }

  /** One Adam step at 1-based `step` on grad · coef (PyTorch's bias corrections); same bits either path. */
  step(step: number, lr: number, coef: number, eps: number): void {
    const bc1 = 1 - B1 ** step;
    const sbc2 = Math.sqrt(1 - B2 ** step);
    const stepSize = lr / bc1;
    const c1 = 1 - B1;
    const c2 = 1 - B2;
    let i = 0;
    if (this.fn && simdGemmAvailable()) {
      const pairs = this.n >> 1;
      this.fn(this.gradAt * 8, this.mAt * 8, this.vAt * 8, this.paramsAt * 8, pairs, coef, c1, c2, B1, B2, stepSize, sbc2, eps);
      i = 2 * pairs;
    }
    const { grad: g, m, v, params: p } = this;
    for (; i < this.n; i++) {
      const gi = g[i]! * coef;
      const mi = B1 * m[i]! + c1 * gi;
      const vi = B2 * v[i]! + c2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i]! -= (stepSize * mi) / (Math.sqrt(vi) / sbc2 + eps);
    }
  }
}
