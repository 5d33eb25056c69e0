/**
 * A WebAssembly binary encoder, by hand (no toolchain): the opcodes the lab's SIMD kernels use
 * (math/simdGemm, simdAdam, simdTanh), sections, and modules whose memory is imported from the host
 * (`env.mem`), so several kernels' instances can share one memory (a GemmWorkspace's).
 */

export const I32 = 0x7f;
export const F64 = 0x7c;
export const F32 = 0x7d;
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

const simd = (code: number, ...rest: number[]) => [0xfd, ...uleb(code), ...rest];

export const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  ifT: (t: number) => [0x04, t],
  else: [0x05],
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
  f32Load: (off: number) => [0x2a, 2, ...uleb(off)],
  f64Load: (off: number) => [0x2b, 3, ...uleb(off)],
  f32Store: (off: number) => [0x38, 2, ...uleb(off)],
  f64Store: (off: number) => [0x39, 3, ...uleb(off)],
  f32Add: [0x92],
  f32Mul: [0x94],
  f64Add: [0xa0],
  f64Mul: [0xa2],
  f32Zero: [0x43, 0, 0, 0, 0],
  f64Zero: [0x44, 0, 0, 0, 0, 0, 0, 0, 0],
  vZero: simd(0x0c, ...new Array<number>(16).fill(0)),
  vLoad: (off: number) => simd(0x00, 3, ...uleb(off)),
  vStore: (off: number) => simd(0x0b, 3, ...uleb(off)),
  load32Splat: (off: number) => simd(0x09, 2, ...uleb(off)),
  load64Splat: (off: number) => simd(0x0a, 3, ...uleb(off)),
  splat: simd(0x14),
  vAdd: simd(0xf0),
  vMul: simd(0xf2),
  vSub: simd(0xf1),
  vDiv: simd(0xf3),
  vSqrt: simd(0xef),
  v32Add: simd(0xe4),
  v32Mul: simd(0xe6),
  shrU: [0x76],
  load64Zero: (off: number) => simd(0x5d, 3, ...uleb(off)),
  store64Lane: (off: number, lane: number) => simd(0x5b, 3, ...uleb(off), lane),
  promoteLow: simd(0x5f),
  demoteZero: simd(0x5e),
  f32x4: { abs: simd(0xe0), neg: simd(0xe1), sqrt: simd(0xe3), splat: simd(0x13), add: simd(0xe4), sub: simd(0xe5), mul: simd(0xe6), div: simd(0xe7), pmin: simd(0xea) },
  i32x4: { sub: simd(0xb1), shl: simd(0xab) },
  /** i8x16.shuffle: lanes 0–7 of the first operand's bytes `lo`…, then of the second's `hi`…. */
  shuffle: (bytes: number[]) => simd(0x0d, ...bytes),
  f32DemoteF64: [0xb6],
  vAnd: simd(0x4e),
  vOr: simd(0x50),
  /** v128.const of four float32 lanes equal to Math.fround(x). */
  f32x4Const: (x: number) => simd(0x0c, ...[...new Uint8Array(new Float32Array([x, x, x, x]).buffer)]),
  /** v128.const of four int32 lanes equal to n. */
  i32x4Const: (n: number) => simd(0x0c, ...[...new Uint8Array(new Int32Array([n, n, n, n]).buffer)]),
};

export function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

export function name(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  return [...uleb(bytes.length), ...bytes];
}

/** The import section of a module whose memory is the host's `env.mem` (shared by instances). */
export function importMemorySection(): number[] {
  return section(2, [1, ...name('env'), ...name('mem'), 0x02, 0x00, 1]);
}

/** A whole module: functions of the given types and bodies, exported by name, memory imported. */
export function moduleBytes(types: number[][], funcs: { type: number; name: string; body: number[] }[]): Uint8Array<ArrayBuffer> {
  const type = section(1, [...uleb(types.length), ...types.flat()]);
  const fn = section(3, [...uleb(funcs.length), ...funcs.map((f) => f.type)]);
  const exports = section(7, [...uleb(funcs.length), ...funcs.flatMap((f, i) => [...name(f.name), 0x00, ...uleb(i)])]);
  const code = section(10, [...uleb(funcs.length), ...funcs.flatMap((f) => [...uleb(f.body.length), ...f.body])]);
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...type, ...importMemorySection(), ...fn, ...exports, ...code]);
}

/** Locals declaration + code → a function body. */
export function body(locals: [number, number][], code: number[]): number[] {
  const used = locals.filter(([cnt]) => cnt > 0);
  return [...uleb(used.length), ...used.flatMap(([cnt, t]) => [...uleb(cnt), t]), ...code];
}

/** Compile `bytes` once (undefined: not tried yet; null: no WebAssembly SIMD in this engine). */
export function compileOnce(bytes: () => Uint8Array<ArrayBuffer>): () => WebAssembly.Module | null {
  let mod: WebAssembly.Module | null | undefined;
  return () => {
    if (mod !== undefined) return mod;
    mod = null;
    try {
      const b = bytes();
      // Synchronous compile: the modules are 3.6 KB (GEMM), 0.8 KB (Adam) and 0.6 KB (tanh), each
      // under the 4 KB some browsers allow a synchronous compile on the main thread.
      if (typeof WebAssembly !== 'undefined' && WebAssembly.validate(b)) mod = new WebAssembly.Module(b);
    } catch {
      mod = null;
    }
    return mod;
  };
}

