/**
 * GemmWorkspace — C[m × n] = A[m × k] · B[k × n] (+ bias) on operands that LIVE in one WebAssembly
 * memory, on hand-encoded wasm SIMD kernels (f64x2 and f32x4), with scalar-JS fallbacks where
 * WebAssembly SIMD is missing, and tanh in place (math/simdTanh). The PPO's CPU update (rl/ppo.ts
 * CpuPpoUpdater) and the agent's rollout forward (rl/ppoAgent.ts) keep their weights, gradients,
 * Adam moments (math/simdAdam binds to the same memory), minibatch and activations in a
 * workspace, so a product copies nothing: the former per-call copies were ~470k of ~700k float64
 * moves per PPO minibatch at D = 57 (weights in, xᵀ, outputs out; 2.72k → 2.82k training
 * env-steps per CPU-second, same bits).
 *
 * Method. The wasm bytes are emitted below (no toolchain): one function per element type and
 * row-block height R ∈ {4, 1}; for R rows it walks the columns in blocks of 2 vectors (f64: 4
 * columns, f32: 8), then 1 vector, then 1 scalar column, and for each block runs i = 0 … k−1 doing
 * acc += splat(A[r, i]) · B[i, j…], so each load of B serves R rows and each load of A serves the
 * block's columns. A[r, i] is read with v128.loadN_splat (a load-port op), not load + splat: on this
 * Zen 5 the splat shuffle competed with the multiplies and adds for the four FP pipes (float64,
 * 8 × 913 · 913 × 64 11.0 → 12.9, 64 × 913 · 913 × 64 12.3 → 14.8 GMAC per CPU-second; PPO D = 57
 * rollout 64.4k → 71.5k, training 2.46k → 2.72k env-steps per CPU-second; same bits). A is
 * addressed by a row step and a k step in bytes, so the update's dW = xᵀ · dz reads x in place
 * (row step 1 element, k step D) instead of transposing the 64 × 913 minibatch first.
 *
 * Numbers. The vector runs ALONG THE OUTPUT COLUMNS, not along k: every output is bias +
 * A[r,0]·B[0,j] + A[r,1]·B[1,j] + … summed left to right with a separate multiply and add (wasm has
 * no implicit FMA), the exact operation sequence of the scalar loop: the kernels and the fallbacks
 * give the same bits (tested with tolerance 0), and every engine gives the same bits (IEEE-754
 * arithmetic is fully specified in wasm; NaN payloads aside), so Node and browsers agree. float64 gives the same bits
 * as the scalar A·Bᵀ kernel the PPO started on (~15 GMAC per CPU-second: the four FP pipes' limit
 * for f64x2 mul + add). float32 (four lanes: 29 GMAC per CPU-second, half the bytes of weights to
 * keep in cache) is what the PPO runs: the agent's weights ARE float32, and PyTorch and tfjs train
 * PPO in float32 (the update keeps float64 master weights and Adam moments, math/simdAdam).
 * The float32 fallback rounds after every multiply and add (Math.fround; a double product of two
 * floats is exact and a double sum rounded to float is the correctly rounded float sum), so it
 * matches the f32x4 lanes bit for bit.
 */

import { F32, F64, I32, V128, body, compileOnce, moduleBytes, op } from './wasmEncode.ts';
import { simdTanhModuleBytes, tanh32 } from './simdTanh.ts';

/** An element type's opcodes. */
interface Elem {
  bytes: number;
  lanes: number;
  type: number;
  load: (off: number) => number[];
  store: (off: number) => number[];
  add: number[];
  mul: number[];
  zero: number[];
  loadSplat: (off: number) => number[];
  vAdd: number[];
  vMul: number[];
}

const ELEM_F64: Elem = { bytes: 8, lanes: 2, type: F64, load: op.f64Load, store: op.f64Store, add: op.f64Add, mul: op.f64Mul, zero: op.f64Zero, loadSplat: op.load64Splat, vAdd: op.vAdd, vMul: op.vMul };
const ELEM_F32: Elem = { bytes: 4, lanes: 4, type: F32, load: op.f32Load, store: op.f32Store, add: op.f32Add, mul: op.f32Mul, zero: op.f32Zero, loadSplat: op.load32Splat, vAdd: op.v32Add, vMul: op.v32Mul };

/**
 * Body of rows<R>(a, b, c, bias, n, k, aRow, aStep): R rows of C starting at byte address c, the
 * r-th row of A starting at a + r·aRow and stepping aStep bytes along k; every column. bias = 0
 * means none (byte 0 of the memory is never allocated).
 */
function rowsBody(R: number, T: Elem): number[] {
  const [a, b, c, bias, n, k, aRow, aStep] = [0, 1, 2, 3, 4, 5, 6, 7];
  let next = 8;
  const newLocal = () => next++;
  const j = newLocal();
  const i = newLocal();
  const pb = newLocal();
  const nE = newLocal();
  const pa = Array.from({ length: R }, newLocal); // row starts in A
  const qa = Array.from({ length: R }, newLocal); // running A pointers
  const pc = Array.from({ length: R }, newLocal); // row starts in C
  const firstV = next;
  const acc = Array.from({ length: R }, () => [next++, next++]); // v128 accumulators, 2 per row
  const s = next++; // splat of A[r, i]
  const bv = [next++, next++];
  const firstS = next;
  const accS = Array.from({ length: R }, () => next++);
  const as = next++;
  const E = T.bytes;
  const code: number[] = [];
  const e = (...xs: (number | number[])[]) => {
    for (const x of xs) typeof x === 'number' ? code.push(x) : code.push(...x);
  };
  e(op.get(n), op.i32(E), op.mul, op.set(nE));
  for (let r = 0; r < R; r++) {
    e(op.get(a), op.get(aRow), op.i32(r), op.mul, op.add, op.set(pa[r]!));
    e(op.get(c), op.get(nE), op.i32(r), op.mul, op.add, op.set(pc[r]!));
  }
  e(op.i32(0), op.set(j));
  for (const W of [2 * T.lanes, T.lanes, 1]) {
    const V = W / T.lanes; // vectors per row (< 1: the scalar column)
    const scalar = W === 1;
    e(op.block, op.loop);
    // while (j + W <= n)
    e(op.get(j), op.i32(W), op.add, op.get(n), op.gtS, op.brIf(1));
    // row 0's accumulators = bias[j …] (or 0), copied to the other rows
    const biasAt = [...op.get(bias), ...op.get(j), ...op.i32(E), ...op.mul, ...op.add];
    if (scalar) e(op.get(bias), op.ifT(T.type), biasAt, T.load(0), op.else, T.zero, op.end, op.set(accS[0]!));
    else for (let v = 0; v < V; v++) e(op.get(bias), op.ifT(V128), biasAt, op.vLoad(16 * v), op.else, op.vZero, op.end, op.set(acc[0]![v]!));
    for (let r = 1; r < R; r++) {
      if (scalar) e(op.get(accS[0]!), op.set(accS[r]!));
      else for (let v = 0; v < V; v++) e(op.get(acc[0]![v]!), op.set(acc[r]![v]!));
    }
    for (let r = 0; r < R; r++) e(op.get(pa[r]!), op.set(qa[r]!));
    e(op.get(b), op.get(j), op.i32(E), op.mul, op.add, op.set(pb), op.i32(0), op.set(i));
    // for i < k: acc += A[r, i] · B[i, j …]
    e(op.block, op.loop, op.get(i), op.get(k), op.geS, op.brIf(1));
    if (scalar) {
      e(op.get(pb), T.load(0), op.set(as));
      for (let r = 0; r < R; r++) e(op.get(accS[r]!), op.get(qa[r]!), T.load(0), op.get(as), T.mul, T.add, op.set(accS[r]!));
    } else {
      for (let v = 0; v < V; v++) e(op.get(pb), op.vLoad(16 * v), op.set(bv[v]!));
      for (let r = 0; r < R; r++) {
        e(op.get(qa[r]!), T.loadSplat(0), op.set(s));
        for (let v = 0; v < V; v++) e(op.get(acc[r]![v]!), op.get(s), op.get(bv[v]!), T.vMul, T.vAdd, op.set(acc[r]![v]!));
      }
    }
    for (let r = 0; r < R; r++) e(op.get(qa[r]!), op.get(aStep), op.add, op.set(qa[r]!));
    e(op.get(pb), op.get(nE), op.add, op.set(pb), op.get(i), op.i32(1), op.add, op.set(i), op.br(0), op.end, op.end);
    // store C[r, j …]
    for (let r = 0; r < R; r++) {
      const at = [...op.get(pc[r]!), ...op.get(j), ...op.i32(E), ...op.mul, ...op.add];
      if (scalar) e(at, op.get(accS[r]!), T.store(0));
      else for (let v = 0; v < V; v++) e(at, op.get(acc[r]![v]!), op.vStore(16 * v));
    }
    e(op.get(j), op.i32(W), op.add, op.set(j), op.br(0), op.end, op.end);
  }
  e(op.end);
  return body(
    [
      [firstV - 8, I32],
      [firstS - firstV, V128],
      [next - firstS, T.type],
    ],
    code,
  );
}


/** The module: imports env.mem; exports rows4 / rows1 (float64) and rows4f / rows1f (float32),
 *  each (a, b, c, bias, n, k, aRow, aStep: i32) → (). */
export function simdGemmModuleBytes(): Uint8Array<ArrayBuffer> {
  const rows = [0x60, 8, I32, I32, I32, I32, I32, I32, I32, I32, 0];
  return moduleBytes(
    [rows],
    [
      { type: 0, name: 'rows4', body: rowsBody(4, ELEM_F64) },
      { type: 0, name: 'rows1', body: rowsBody(1, ELEM_F64) },
      { type: 0, name: 'rows4f', body: rowsBody(4, ELEM_F32) },
      { type: 0, name: 'rows1f', body: rowsBody(1, ELEM_F32) },
    ],
  );
}

type RowsFn = (a: number, b: number, c: number, bias: number, n: number, k: number, aRow: number, aStep: number) => void;
interface Kernels {
  rows4: RowsFn;
  rows1: RowsFn;
  rows4f: RowsFn;
  rows1f: RowsFn;
}
type TanhFn = (p: number, quads: number) => void;

let enabled = true;

const gemmModule = compileOnce(simdGemmModuleBytes);
const tanhModule = compileOnce(simdTanhModuleBytes);

/** Whether the workspaces' products run on WebAssembly SIMD here (false: the scalar fallbacks). */
export function simdGemmAvailable(): boolean {
  return enabled && gemmModule() !== null;
}

/** Force the scalar fallbacks (false) or allow the wasm kernels (true): benchmarks and tests only. */
export function setSimdGemmEnabled(on: boolean): void {
  enabled = on;
}

/**
 * The scalar float64 product on one array M (element offsets; bias < 0: none; A[r, i] at
 * a + r·aRow + i·aStep): the same sums in the same order as the kernel.
 */
export function gemmScalar64(M: Float64Array, m: number, n: number, k: number, a: number, aRow: number, aStep: number, b: number, c: number, bias: number): void {
  for (let r = 0; r < m; r++) {
    const ar = a + r * aRow;
    for (let j = 0; j < n; j++) {
      let s = bias >= 0 ? M[bias + j]! : 0;
      for (let i = 0, pa = ar, pb = b + j; i < k; i++, pa += aStep, pb += n) s += M[pa]! * M[pb]!;
      M[c + r * n + j] = s;
    }
  }
}

/** The scalar float32 product (every multiply and add rounded to float32, as the f32x4 lanes do). */
export function gemmScalar32(M: Float32Array, m: number, n: number, k: number, a: number, aRow: number, aStep: number, b: number, c: number, bias: number): void {
  const f = Math.fround;
  for (let r = 0; r < m; r++) {
    const ar = a + r * aRow;
    for (let j = 0; j < n; j++) {
      let s = bias >= 0 ? M[bias + j]! : 0;
      for (let i = 0, pa = ar, pb = b + j; i < k; i++, pa += aStep, pb += n) s = f(s + f(M[pa]! * M[pb]!));
      M[c + r * n + j] = s;
    }
  }
}

const PAGE = 65536;

/**
 * One memory of float64/float32 regions (allocated, never freed) and the products between them.
 * Offsets are in elements of the region's type (`alloc64` → float64 index, `alloc32` → float32
 * index), 16-byte aligned. The memory grows on demand; a growth replaces the underlying buffer, so
 * take views (`f64`, `f32`, `view64`, `view32`) after the allocations of a step, not before.
 */
export class GemmWorkspace {
  /** The wasm memory (null: plain buffer, scalar products). math/simdAdam binds to it too. */
  readonly memory: WebAssembly.Memory | null;
  private readonly kern: Kernels | null;
  private readonly tanhf: TanhFn | null = null;
  private plain: ArrayBuffer | null = null;
  private v64 = new Float64Array(0);
  private v32 = new Float32Array(0);
  /** Next free float64 index; index 0–1 (bytes 0–15) are never handed out: bias address 0 = none. */
  private top = 2;

  constructor(initialElements = 0) {
    const bytes = Math.max(PAGE, (initialElements + 2) * 8);
    const mod = gemmModule();
    if (mod) {
      this.memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / PAGE) });
      this.kern = new WebAssembly.Instance(mod, { env: { mem: this.memory } }).exports as unknown as Kernels;
      const t = tanhModule();
      this.tanhf = t ? (new WebAssembly.Instance(t, { env: { mem: this.memory } }).exports as unknown as { tanhf: TanhFn }).tanhf : null;
    } else {
      this.memory = null;
      this.kern = null;
      this.plain = new ArrayBuffer(Math.ceil(bytes / PAGE) * PAGE);
    }
  }

  private get buffer(): ArrayBuffer {
    return this.memory ? (this.memory.buffer as ArrayBuffer) : this.plain!;
  }

  /** The whole memory as float64 (valid until the next allocation that grows it). */
  get f64(): Float64Array {
    if (this.v64.buffer !== this.buffer) this.v64 = new Float64Array(this.buffer);
    return this.v64;
  }

  /** The whole memory as float32 (valid until the next allocation that grows it). */
  get f32(): Float32Array {
    if (this.v32.buffer !== this.buffer) this.v32 = new Float32Array(this.buffer);
    return this.v32;
  }

  /** n float64 elements; returns their float64 index. */
  alloc64(n: number): number {
    const at = this.top;
    this.top += n + (n & 1);
    const need = this.top * 8;
    const have = this.buffer.byteLength;
    if (need > have) {
      const grow = Math.ceil((Math.max(need, have * 1.5) - have) / PAGE);
      if (this.memory) this.memory.grow(grow);
      else {
        const next = new ArrayBuffer(have + grow * PAGE);
        new Uint8Array(next).set(new Uint8Array(this.plain!));
        this.plain = next;
      }
    }
    return at;
  }

  /** n float32 elements; returns their float32 index. */
  alloc32(n: number): number {
    return 2 * this.alloc64(Math.ceil(n / 2));
  }

  view64(at: number, n: number): Float64Array {
    return new Float64Array(this.buffer, at * 8, n);
  }

  view32(at: number, n: number): Float32Array {
    return new Float32Array(this.buffer, at * 4, n);
  }

  /**
   * float64 C[m × n] at c = A · B (+ bias[n] at `bias`; < 0: none) with B [k × n] at b and A [m × k]
   * at a — or, with `transA`, A = Sᵀ for S [k × m] stored at a (read in place).
   */
  product64(m: number, n: number, k: number, a: number, b: number, c: number, bias = -1, transA = false): void {
    const aRow = transA ? 1 : k;
    const aStep = transA ? m : 1;
    if (!this.kern || !enabled) return gemmScalar64(this.f64, m, n, k, a, aRow, aStep, b, c, bias);
    this.run(this.kern.rows4, this.kern.rows1, 8, m, n, k, a, aRow, aStep, b, c, bias);
  }

  /** product64 in float32 (float32 indices). */
  product32(m: number, n: number, k: number, a: number, b: number, c: number, bias = -1, transA = false): void {
    const aRow = transA ? 1 : k;
    const aStep = transA ? m : 1;
    if (!this.kern || !enabled) return gemmScalar32(this.f32, m, n, k, a, aRow, aStep, b, c, bias);
    this.run(this.kern.rows4f, this.kern.rows1f, 4, m, n, k, a, aRow, aStep, b, c, bias);
  }

  /** tanh in place over n float32 at float32 index `at` (math/simdTanh; the same bits either path). */
  tanh32(at: number, n: number): void {
    let i = 0;
    if (this.tanhf && enabled) {
      const quads = n >> 2;
      this.tanhf(at * 4, quads);
      i = 4 * quads;
    }
    const M = this.f32;
    for (; i < n; i++) M[at + i] = tanh32(M[at + i]!);
  }

  private run(rows4: RowsFn, rows1: RowsFn, E: number, m: number, n: number, k: number, a: number, aRow: number, aStep: number, b: number, c: number, bias: number): void {
    const biasAt = bias < 0 ? 0 : bias * E;
    let r = 0;
    for (; r + 4 <= m; r += 4) rows4((a + r * aRow) * E, b * E, (c + r * n) * E, biasAt, n, k, aRow * E, aStep * E);
    for (; r < m; r++) rows1((a + r * aRow) * E, b * E, (c + r * n) * E, biasAt, n, k, aRow * E, aStep * E);
  }
}
