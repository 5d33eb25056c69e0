/**
 * gemmAB — C[m × n] = A[m × k] · B[k × n] (+ bias[biasOff + j]), row-major float64, on a hand-encoded
 * WebAssembly SIMD kernel (f64x2), with a scalar-JS fallback where WebAssembly SIMD is missing.
 * The PPO agent's rollout forward and the CPU update's forward and backward products run on it.
 *
 * Method. The wasm bytes are emitted below (no toolchain): one function per row-block height
 * R ∈ {4, 1}; for R rows it walks the columns in blocks of 4 (two f64x2 accumulators per row), then
 * 2, then 1 (scalar f64), and for each block runs i = 0 … k−1 doing acc += splat(A[r, i]) · B[i, j…],
 * so each load of B serves R rows and each load of A serves the block's columns. A[r, i] is read
 * with v128.load64_splat (a load-port op), not f64.load + f64x2.splat: on this Zen 5 the splat
 * shuffle competed with the multiplies and adds for the four FP pipes (8 × 913 · 913 × 64 11.0 →
 * 12.9, 64 × 913 · 913 × 64 12.3 → 14.8, 913 × 64 · 64 × 64 12.0 → 14.4 GMAC per CPU-second; PPO
 * D = 57 rollout 64.4k → 71.5k, training 2.46k → 2.72k env-steps per CPU-second; same bits). The vector runs
 * ALONG THE OUTPUT COLUMNS, not along k: every output is bias + A[r,0]·B[0,j] + A[r,1]·B[1,j] + …
 * summed left to right in float64 with a separate multiply and add (wasm has no implicit FMA), the
 * exact operation sequence of the scalar loop — so the kernel gives the SAME BITS as the former
 * scalar A·Bᵀ kernel (tested with tolerance 0), and the same bits in every engine (IEEE-754 f64
 * arithmetic is fully specified in wasm): Node and browsers agree, and training runs are unchanged.
 * f32x4 would double the lanes but change every number (913-term f32 sums: ~1e-5 relative).
 *
 * Operands are copied into the module's own memory per call (TypedArray.set, a memcpy; the memory
 * grows on demand): at the PPO's shapes the copies are 1/8 (rollout, 8 × 913 · 913 × 64) to 1/64 of
 * the multiply-adds. Products under SMALL_PRODUCT multiply-adds stay in JS, where the call and copy
 * overhead would dominate. `ResidentOperands` keeps constant right-hand sides (the agent's weights)
 * in an instance of their own, so a rollout product copies only A in and C out (D = 57 rollout
 * 59.5–60.7k → 66.9–67.0k env-steps per CPU-second, same session).
 *
 * Measured (shared 2-core machine at load ~9, GMAC per CPU-second, float64): 8 × 913 · 913 × 64
 * (rollout first layer) 8.9–9.7 against 1.7–1.8 for the scalar kernel; 64 × 913 · 913 × 64 (update
 * forward) 11.5–11.8; 913 × 64 · 64 × 64 (weight gradient) 11.2–11.9 against 1.7. End to end
 * (bench/rl-ppo.bench.ts, three runs, env-steps per CPU-second, against the scalar kernel): D = 57
 * rollout 55.7–56.4k (was 13.8–14.9k), training 1.86–2.02k (was 0.51–0.52k); D = 8 rollout
 * 139–148k (was 57k), training 5.5–6.9k (was 2.1k). The same
 * product gives the same bytes under Node 20 and headless Chromium (checked by hashing 4 products).
 */

const SMALL_PRODUCT = 2048;

let bT = new Float64Array(0);

/**
 * The scalar path: B transposed into a scratch, then the PPO's former register-blocked A·Bᵀ loop
 * (four rows of A share each load of Bᵀ; 1.8 GMAC per CPU-second against 0.6 for a plain axpy
 * loop, V8 does not vectorise). Each output is the same sum in the same order as the wasm kernel.
 */
export function gemmABScalar(A: Float64Array, B: Float64Array, m: number, n: number, k: number, C: Float64Array, bias?: Float64Array, biasOff = 0): void {
  if (bT.length < n * k) bT = new Float64Array(n * k);
  const Bt = bT;
  for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) Bt[j * k + i] = B[i * n + j]!;
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
        const w = Bt[b0 + i]!;
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
      for (let i = 0; i < k; i++) s0 += A[r * k + i]! * Bt[j * k + i]!;
      C[r * n + j] = s0;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The wasm module, encoded by hand (the encoder is shared with math/simdAdam).

export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

export const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (d: number) => [0x0c, ...uleb(d)],
  brIf: (d: number) => [0x0d, ...uleb(d)],
  get: (l: number) => [0x20, ...uleb(l)],
  set: (l: number) => [0x21, ...uleb(l)],
  i32: (v: number) => [0x41, ...sleb(v)],
  add: [0x6a],
  mul: [0x6c],
  gtS: [0x4a],
  geS: [0x4e],
  f64Load: (off: number) => [0x2b, 3, ...uleb(off)],
  f64Store: (off: number) => [0x39, 3, ...uleb(off)],
  f64Add: [0xa0],
  f64Mul: [0xa2],
  vLoad: (off: number) => [0xfd, ...uleb(0x00), 3, ...uleb(off)],
  vStore: (off: number) => [0xfd, ...uleb(0x0b), 3, ...uleb(off)],
  splat: [0xfd, ...uleb(0x14)],
  loadSplat: (off: number) => [0xfd, ...uleb(0x0a), 3, ...uleb(off)],
  vAdd: [0xfd, ...uleb(0xf0)],
  vMul: [0xfd, ...uleb(0xf2)],
  vSub: [0xfd, ...uleb(0xf1)],
  vDiv: [0xfd, ...uleb(0xf3)],
  vSqrt: [0xfd, ...uleb(0xef)],
};

/**
 * Body of rows<R>(a, b, c, bias, n, k): R rows starting at byte addresses a (A) and c (C), every
 * column. Params 0–5; then locals.
 */
function rowsBody(R: number): number[] {
  const [a, b, c, bias, n, k] = [0, 1, 2, 3, 4, 5];
  let next = 6;
  const i32Locals: number[] = [];
  const newI32 = () => (i32Locals.push(next), next++);
  const j = newI32();
  const i = newI32();
  const pb = newI32();
  const n8 = newI32();
  const k8 = newI32();
  const pa = Array.from({ length: R }, newI32); // row starts in A
  const qa = Array.from({ length: R }, newI32); // running A pointers
  const pc = Array.from({ length: R }, newI32); // row starts in C
  const firstV = next;
  const acc = Array.from({ length: R }, () => [next++, next++]); // v128 accumulators, 2 per row
  const s = Array.from({ length: R }, () => next++); // splat of A[r, i]
  const bv = [next++, next++];
  const firstF = next;
  const accF = Array.from({ length: R }, () => next++);
  const af = next++;
  const code: number[] = [];
  const e = (...xs: (number | number[])[]) => {
    for (const x of xs) typeof x === 'number' ? code.push(x) : code.push(...x);
  };
  e(op.get(n), op.i32(8), op.mul, op.set(n8), op.get(k), op.i32(8), op.mul, op.set(k8));
  for (let r = 0; r < R; r++) {
    e(op.get(a), op.get(k8), op.i32(r), op.mul, op.add, op.set(pa[r]!));
    e(op.get(c), op.get(n8), op.i32(r), op.mul, op.add, op.set(pc[r]!));
  }
  e(op.i32(0), op.set(j));
  for (const W of [4, 2, 1]) {
    const V = W / 2; // v128 per row (0 for the scalar column)
    e(op.block, op.loop);
    // while (j + W <= n)
    e(op.get(j), op.i32(W), op.add, op.get(n), op.gtS, op.brIf(1));
    // accumulators = bias[j …]
    for (let r = 0; r < R; r++) {
      if (W === 1) e(op.get(bias), op.get(j), op.i32(8), op.mul, op.add, op.f64Load(0), op.set(accF[r]!));
      else for (let v = 0; v < V; v++) e(op.get(bias), op.get(j), op.i32(8), op.mul, op.add, op.vLoad(16 * v), op.set(acc[r]![v]!));
      e(op.get(pa[r]!), op.set(qa[r]!));
    }
    e(op.get(b), op.get(j), op.i32(8), op.mul, op.add, op.set(pb), op.i32(0), op.set(i));
    // for i < k: acc += A[r, i] · B[i, j …]
    e(op.block, op.loop, op.get(i), op.get(k), op.geS, op.brIf(1));
    if (W === 1) {
      e(op.get(pb), op.f64Load(0), op.set(af));
      for (let r = 0; r < R; r++) e(op.get(accF[r]!), op.get(qa[r]!), op.f64Load(0), op.get(af), op.f64Mul, op.f64Add, op.set(accF[r]!));
    } else {
      for (let v = 0; v < V; v++) e(op.get(pb), op.vLoad(16 * v), op.set(bv[v]!));
      for (let r = 0; r < R; r++) {
        e(op.get(qa[r]!), op.loadSplat(0), op.set(s[r]!));
        for (let v = 0; v < V; v++) e(op.get(acc[r]![v]!), op.get(s[r]!), op.get(bv[v]!), op.vMul, op.vAdd, op.set(acc[r]![v]!));
      }
    }
    for (let r = 0; r < R; r++) e(op.get(qa[r]!), op.i32(8), op.add, op.set(qa[r]!));
    e(op.get(pb), op.get(n8), op.add, op.set(pb), op.get(i), op.i32(1), op.add, op.set(i), op.br(0), op.end, op.end);
    // store C[r, j …]
    for (let r = 0; r < R; r++) {
      if (W === 1) e(op.get(pc[r]!), op.get(j), op.i32(8), op.mul, op.add, op.get(accF[r]!), op.f64Store(0));
      else for (let v = 0; v < V; v++) e(op.get(pc[r]!), op.get(j), op.i32(8), op.mul, op.add, op.get(acc[r]![v]!), op.vStore(16 * v));
    }
    e(op.get(j), op.i32(W), op.add, op.set(j), op.br(0), op.end, op.end);
  }
  e(op.end);
  const locals = [
    [firstV - 6, I32],
    [firstF - firstV, V128],
    [next - firstF, F64],
  ];
  return [...uleb(locals.length), ...locals.flatMap(([cnt, t]) => [...uleb(cnt!), t!]), ...code];
}

export function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

export function name(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  return [...uleb(bytes.length), ...bytes];
}

/** The module: memory "mem" (1 page, grows) and rows4 / rows1 (a, b, c, bias, n, k: i32) → (). */
export function simdGemmModuleBytes(): Uint8Array<ArrayBuffer> {
  const type = section(1, [1, 0x60, 6, I32, I32, I32, I32, I32, I32, 0]);
  const funcs = section(3, [2, 0, 0]);
  const memory = section(5, [1, 0x00, 1]);
  const exports = section(7, [3, ...name('mem'), 0x02, 0, ...name('rows4'), 0x00, 0, ...name('rows1'), 0x00, 1]);
  const bodies = [rowsBody(4), rowsBody(1)].map((bd) => [...uleb(bd.length), ...bd]);
  const code = section(10, [2, ...bodies.flat()]);
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...type, ...funcs, ...memory, ...exports, ...code]);
}

interface Kernel {
  mem: WebAssembly.Memory;
  rows4: (a: number, b: number, c: number, bias: number, n: number, k: number) => void;
  rows1: (a: number, b: number, c: number, bias: number, n: number, k: number) => void;
  view: Float64Array;
}

let kernel: Kernel | null | undefined;
let gemmModule: WebAssembly.Module | undefined;
let enabled = true;

function instantiate(): Kernel {
  const inst = new WebAssembly.Instance(gemmModule!, {});
  const ex = inst.exports as unknown as Omit<Kernel, 'view'>;
  return { mem: ex.mem, rows4: ex.rows4, rows1: ex.rows1, view: new Float64Array(ex.mem.buffer) };
}

function loadKernel(): Kernel | null {
  if (kernel !== undefined) return kernel;
  kernel = null;
  try {
    if (typeof WebAssembly === 'undefined') return null;
    const bytes = simdGemmModuleBytes();
    if (!WebAssembly.validate(bytes)) return null; // no SIMD in this engine
    // Synchronous compile: the module is ~1 KB, under the browsers' 4 KB main-thread limit.
    gemmModule = new WebAssembly.Module(bytes);
    kernel = instantiate();
  } catch {
    kernel = null;
  }
  return kernel;
}

/** Grow K's memory to `bytes` at least and refresh its view. */
function reserve(K: Kernel, bytes: number): Float64Array {
  if (K.mem.buffer.byteLength < bytes) K.mem.grow(Math.ceil((bytes - K.mem.buffer.byteLength) / 65536));
  if (K.view.buffer !== K.mem.buffer) K.view = new Float64Array(K.mem.buffer);
  return K.view;
}

const pad = (x: number) => (x + 1) & ~1;

/** C = A · B (+ bias) with B and bias already at element offsets oB, oBias of K's memory (oBias < 0: none). */
function runKernel(K: Kernel, scratchAt: number, A: Float64Array, oB: number, oBias: number, m: number, n: number, k: number, C: Float64Array): void {
  const oZero = scratchAt;
  const oA = oZero + pad(n);
  const oC = oA + pad(m * k);
  const v = reserve(K, (oC + m * n) * 8);
  if (oBias < 0) {
    v.fill(0, oZero, oZero + n);
    oBias = oZero;
  }
  v.set(A.length === m * k ? A : A.subarray(0, m * k), oA);
  let r = 0;
  for (; r + 4 <= m; r += 4) K.rows4((oA + r * k) * 8, oB * 8, (oC + r * n) * 8, oBias * 8, n, k);
  for (; r < m; r++) K.rows1((oA + r * k) * 8, oB * 8, (oC + r * n) * 8, oBias * 8, n, k);
  C.set(v.subarray(oC, oC + m * n));
}

/**
 * Constant right-hand operands (a network's weights and biases) kept resident in a kernel
 * instance of their own, so a product copies only A in and C out: the rollout's first layer
 * (8 × 913 · 913 × 64) copied its 58k weights per call, 8× the values of A. Same bits as gemmAB
 * (the same kernel, or gemmAB itself where the kernel is off or the product small).
 */
export class ResidentOperands {
  private readonly K: Kernel | null;
  private readonly offsets: number[] = [];
  private readonly top: number;

  /** `values[i]` is copied; product(…, i, …) then uses it as B (or as a bias). */
  constructor(private readonly values: Float64Array[]) {
    this.K = loadKernel() ? instantiate() : null;
    let at = 0;
    for (const x of values) {
      this.offsets.push(at);
      at += pad(x.length);
    }
    this.top = at;
    if (this.K) {
      const v = reserve(this.K, at * 8);
      values.forEach((x, i) => v.set(x, this.offsets[i]!));
    }
  }

  /** C[m × n] = A[m × k] · values[b] (k × n) (+ values[bias]). */
  product(A: Float64Array, m: number, n: number, k: number, C: Float64Array, b: number, bias?: number): void {
    if (!this.K || !enabled || m * n * k < SMALL_PRODUCT) return gemmAB(A, this.values[b]!, m, n, k, C, bias === undefined ? undefined : this.values[bias]);
    runKernel(this.K, this.top, A, this.offsets[b]!, bias === undefined ? -1 : this.offsets[bias]!, m, n, k, C);
  }
}

/** Whether gemmAB runs on WebAssembly SIMD here (false: the scalar fallback). */
export function simdGemmAvailable(): boolean {
  return enabled && loadKernel() !== null;
}

/** Force the scalar fallback (false) or allow the wasm kernel (true): benchmarks and tests only. */
export function setSimdGemmEnabled(on: boolean): void {
  enabled = on;
}

/** C[m × n] = A[m × k] · B[k × n] (+ bias[biasOff + j]); float64, row-major; same bits on either path. */
export function gemmAB(A: Float64Array, B: Float64Array, m: number, n: number, k: number, C: Float64Array, bias?: Float64Array, biasOff = 0): void {
  const K = enabled && m * n * k >= SMALL_PRODUCT ? loadKernel() : null;
  if (!K) return gemmABScalar(A, B, m, n, k, C, bias, biasOff);
  // Layout (in float64 elements): bias [n] | B [k·n] | then A and C (runKernel), 16-byte aligned.
  const oB = pad(n);
  const v = reserve(K, (oB + pad(k * n)) * 8);
  if (bias) v.set(bias.subarray(biasOff, biasOff + n), 0);
  v.set(B.length === k * n ? B : B.subarray(0, k * n), oB);
  runKernel(K, oB + pad(k * n), A, oB, bias ? 0 : -1, m, n, k, C);
}
