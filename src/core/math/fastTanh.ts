/**
 * tanh from pure IEEE-754 arithmetic (+, −, ×, ÷ and an exact Math.round), for the PPO's CPU hidden
 * layers (rl/ppoAgent.ts rollout forward, rl/ppo.ts CpuPpoUpdater forward).
 *
 * Why. V8's Math.tanh is fdlibm's (via expm1) behind a C call: ~17 ns per element in an earlier
 * rollout profile (2048 calls per 8-env step at D = 57); ~9 ns in isolation. This inlines into the
 * caller's loop. Same bytes in Node and Chromium: JavaScript never fuses a multiply-add, every op
 * here is correctly rounded, and the tables are literals or exact powers of two; it is NOT bit-identical to
 * Math.tanh (≤ 1e-12 relative is the contract, tested: tests/unit/math/fastTanh.test.ts; the
 * measured maximum over 2·10⁶ points in [−25, 25] is 2.6e-15).
 *
 * How. a = |x|.
 * - |x| < 1e-9: x. |x| ≥ 20: ±1 (1 − tanh(20) ≈ 8.5e-18 < half an ulp of 1; Math.tanh gives 1 too).
 * - otherwise, on a = |x| (so exactly odd): E = expm1(−2a) by Cody–Waite reduction −2a = k·ln2/16 + r (|r| ≤ ln2/32),
 *   expm1(r) by Taylor through r⁷, 2^(k/16) from a table of correctly rounded literals and one of exact powers of two, E = 2^(k/16)·expm1(r) +
 *   (2^(k/16) − 1); tanh a = −E/(2 + E), sign restored. The worst case is k = −1 (|x| ≈ 0.011), where the table
 *   entry's rounding is amplified ~45×: measured max 2.6e-15 relative against Math.tanh.
 * One straight-line path matters: a Horner e^r through r¹² with a |x| < 0.25 Taylor branch measured
 * 20 ns (latency- and mispredict-bound); this one 4.8–5.2 ns against Math.tanh's 8.9–9.3 ns (2048
 * elements of 1.5·sin(i), Node 20). In the PPO this is a small win (bench/rl-ppo.bench.ts, D = 57,
 * same session: one 8-env act 100.5–103.3 → 95.9–100.7 µs, rollout and training within noise,
 * ~+1 %): the products dominate.
 */

// −2a = k·ln2/16 + r, |r| ≤ ln2/32 ≈ 0.0217; ln2/16 split with a 33-bit high part so k·LN2_16_HI is
// exact for |k| < 2^20 (here |k| ≤ 40·16/ln2 < 924).
const LN2_16_HI = 0.043321698780346196;
const LN2_16_LO = 4.650385693757748e-12;
const INV_LN2_16 = 23.083120654223414;

/** 2^(j/16), j = 0..15, correctly rounded (mpmath, 200 bits) — literals, so every engine reads the same bytes. */
const POW2_16 = new Float64Array([
  1.0, 1.0442737824274138, 1.0905077326652577, 1.1387886347566916, 1.189207115002721, 1.241857812073484,
  1.2968395546510096, 1.3542555469368927, 1.4142135623730951, 1.4768261459394993, 1.5422108254079407,
  1.6104903319492543, 1.681792830507429, 1.7562521603732995, 1.8340080864093424, 1.9152065613971474,
]);
/** POW2_INT[m + 64] = 2^m, exact, m = −64..63 (2a < 40 gives |m| ≤ 58). */
const POW2_INT = new Float64Array(128);
for (let m = 0, p = 1; m < 64; m++, p *= 2) {
  POW2_INT[64 + m] = p;
  POW2_INT[64 - m] = 1 / p;
}

// 1/n! for expm1(r) through r⁷ (truncation ≤ 0.0217⁸/8! ≈ 1.2e-18 relative to r).
const F2 = 1 / 2;
const F3 = 1 / 6;
const F4 = 1 / 24;
const F5 = 1 / 120;
const F6 = 1 / 720;
const F7 = 1 / 5040;

/** tanh(x), ≤ 1e-12 relative error, deterministic across JS engines (see the header). */
export function fastTanh(x: number): number {
  const a = x < 0 ? -x : x;
  if (!(a < 20)) return a === a ? (x < 0 ? -1 : 1) : x;
  if (a < 1e-9) return x; // tanh x = x(1 − x²/3 + …): relative error < 4e-19; keeps ±0 and subnormals
  const y = -2 * a;
  const k = Math.round(y * INV_LN2_16);
  const r = y - k * LN2_16_HI - k * LN2_16_LO;
  const r2 = r * r;
  // expm1(r), Estrin-style so the dependency chain is short (the loop is latency bound otherwise).
  const pr = r + r2 * (F2 + r * F3 + r2 * (F4 + r * F5 + r2 * (F6 + r * F7)));
  const ki = k | 0;
  const s = POW2_INT[64 + (ki >> 4)]! * POW2_16[ki & 15]!; // 2^(k/16)
  // expm1(−2a) = s·expm1(r) + (s − 1); s − 1 is exact (Sterbenz) near k = 0, where it matters.
  const em1 = s * pr + (s - 1);
  const t = -em1 / (2 + em1);
  return x < 0 ? -t : t; // on |x|, so exactly odd like Math.tanh
}
