/**
 * tanh over float32 arrays, four lanes at a time, for the PPO's float32 hidden layers (the rollout
 * forward in rl/ppoAgent.ts and the CPU update's forward in rl/ppo.ts, through
 * GemmWorkspace.tanh32), with a scalar fallback that gives the same bits (`tanh32`).
 *
 * Why. The float64 scalar tanh it replaces (the same reduction in pure IEEE double arithmetic, one
 * element per call; Math.tanh is ~9 ns behind a C call) cost ~5 ns per element in isolation and ~6
 * ns in the update's loops: ~0.1 ms of a D = 57 minibatch's ~0.8 ms (16k hidden units) and ~12 µs
 * of a ~78 µs 8-env act (2 048). This kernel: 1.7 ns per element (4 096 in place, Node 20), a
 * straight line of ~25 vector ops per four.
 *
 * How (a = min(|x|, 9): tanh rounds to 1 in float32 above ~9.01, and at the clamp the kernel's 1 is
 * one ulp from fround(tanh 9) = 0.99999994; NaN stays NaN). E = expm1(−2a) by
 * Cody–Waite reduction −2a = k·ln2 + r (k = −2a/ln2 rounded by adding 1.5·2²³, whose float bits
 * then hold k for 2^k; |r| ≤ ln2/2 + ε; ln2 split with a
 * 15-bit high part so k·LN2_HI is exact for |k| ≤ 26 and the subtraction is exact by Sterbenz),
 * expm1(r) by Horner through r⁷ (truncation ≤ 0.347⁸/8! ≈ 5e-9 relative), 2^k from the exponent
 * bits, E = 2^k·expm1(r) + (2^k − 1) (2^k − 1 exact for k ≥ −24); tanh a = −E/(2 + E), its absolute
 * value given x's sign bit (so tanh(±0) = ±0 and the result is exactly odd). Every operation is a
 * float32 IEEE operation, in wasm and, through Math.fround after each one, in the fallback, so
 * both give the same bits in every engine; accuracy ≤ 4 float32 ulps of Math.tanh (tested; the
 * measured maximum is in tests/unit/math/simdTanh.test.ts).
 */
import { I32, V128, body, moduleBytes, op } from './wasmEncode.ts';

const f = Math.fround;
const LN2_HI = f(0.693145751953125); // 0x3f317200
const LN2_LO = f(Math.LN2 - 0.693145751953125);
const INV_LN2 = f(1 / Math.LN2);
const CLAMP = 9;
const C = [1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 720, 1 / 5040].map(f); // r²·(C[0] + r·(C[1] + …))

/** 1.5·2²³: adding it to |v| < 2²² rounds v to an integer (half to even) in float32. */
const MAGIC = 12582912;
const MAGIC_BITS = 0x4b400000;

/** tanh of a float32 value, the kernel's operations one by one (same bits). */
export function tanh32(x: number): number {
  const xf = f(x);
  let a = Math.abs(xf);
  if (a !== a) return xf;
  if (a > CLAMP) a = CLAMP;
  const y = f(a * -2);
  const kf = f(f(f(y * INV_LN2) + MAGIC) - MAGIC);
  const r = f(f(y - f(kf * LN2_HI)) - f(kf * LN2_LO));
  let q = f(r * C[5]!);
  for (let i = 4; i >= 0; i--) q = f(r * f(C[i]! + q));
  // q = r·(C0 + r·(C1 + …)); expm1(r) = r + r·q
  const p = f(r + f(r * q));
  const s = 2 ** kf;
  const em1 = f(f(s * p) + f(s - 1));
  const t = Math.abs(f(f(-em1) / f(2 + em1)));
  return xf < 0 || Object.is(xf, -0) ? -t : t;
}

/**
 * Body of tanhf(p, quads): in place over `quads` groups of four float32 at byte address p.
 * Locals after the two params: o, end (i32); x, a, y, k, r, q, s, e (v128).
 */
export function tanhBody(): number[] {
  const [p, quads] = [0, 1];
  const [o, end] = [2, 3];
  const [x, a, y, t, r, q, s, e] = [4, 5, 6, 7, 8, 9, 10, 11];
  const F = op.f32x4;
  const code: number[] = [];
  const emit = (...xs: (number | number[])[]) => {
    for (const v of xs) typeof v === 'number' ? code.push(v) : code.push(...v);
  };
  // Constants inline: V8 rematerialises a v128.const cheaply, while holding all 15 in locals
  // spilled (2.1 → 3.3 ns per element measured).
  const c = op.f32x4Const;
  emit(op.get(quads), op.i32(16), op.mul, op.get(p), op.add, op.set(end), op.get(p), op.set(o));
  emit(op.block, op.loop, op.get(o), op.get(end), op.geS, op.brIf(1));
  emit(op.get(o), op.vLoad(0), op.set(x));
  // a = min(|x|, 9) (pmin: 9 < a ? 9 : a, one minps; NaN stays NaN); y = −2a
  emit(op.get(x), F.abs, c(CLAMP), F.pmin, op.set(a));
  emit(op.get(a), c(-2), F.mul, op.set(y));
  // t = y/ln2 + 1.5·2²³ rounds to an integer (half to even) in the low mantissa bits: k = t − 1.5·2²³
  emit(op.get(y), c(INV_LN2), F.mul, c(MAGIC), F.add, op.set(t));
  // r = (y − k·LN2_HI) − k·LN2_LO, k in q for the moment
  emit(op.get(t), c(MAGIC), F.sub, op.set(q));
  emit(op.get(y), op.get(q), c(LN2_HI), F.mul, F.sub, op.get(q), c(LN2_LO), F.mul, F.sub, op.set(r));
  // s = 2^k: bits(t) − bits(1.5·2²³) = k, so (bits(t) − (bits(1.5·2²³) − 127)) << 23 is 2^k's bits
  emit(op.get(t), op.i32x4Const(MAGIC_BITS - 127), op.i32x4.sub, op.i32(23), op.i32x4.shl, op.set(s));
  // q = r·C5; then q = r·(C_i + q) for i = 4 … 0
  emit(op.get(r), c(C[5]!), F.mul, op.set(q));
  for (let i = 4; i >= 0; i--) emit(op.get(r), c(C[i]!), op.get(q), F.add, F.mul, op.set(q));
  // p = r + r·q  (kept in q)
  emit(op.get(r), op.get(r), op.get(q), F.mul, F.add, op.set(q));
  // E = s·p + (s − 1)
  emit(op.get(s), op.get(q), F.mul, op.get(s), c(1), F.sub, F.add, op.set(e));
  // |−E / (2 + E)| with x's sign bit
  emit(op.get(o));
  emit(op.get(e), F.neg, c(2), op.get(e), F.add, F.div, F.abs);
  emit(op.get(x), op.i32x4Const(-0x80000000), op.vAnd, op.vOr);
  emit(op.vStore(0));
  emit(op.get(o), op.i32(16), op.add, op.set(o), op.br(0), op.end, op.end, op.end);
  return body(
    [
      [2, I32],
      [8, V128],
    ],
    code,
  );
}

/** The module: imports env.mem (a GemmWorkspace's memory) and exports tanhf(p, quads) → (). Its own
 *  module, so each stays under the 4 KB that some browsers allow a synchronous main-thread compile. */
export function simdTanhModuleBytes(): Uint8Array<ArrayBuffer> {
  return moduleBytes([[0x60, 2, I32, I32, 0]], [{ type: 0, name: 'tanhf', body: tanhBody() }]);
}
