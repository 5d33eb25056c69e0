/**
 * The Heston characteristic function in Albrecher et al.'s "Little Heston Trap" form (2007), with
 * its analytic derivatives with respect to (kappa, theta, sigma, rho, v0) in the spirit of Cui,
 * del Baño Rollin & Germano (2017): the derivatives of the exponent are obtained by the chain rule
 * through the same intermediate quantities, so one evaluation yields φ and ∇ ln φ together.
 *
 * Convention: φ(z) = E[exp(i z X_T)] with X_T = ln(S_T / F_T), F_T the forward. Rates and
 * dividends only enter through F_T (hestonCf adds them back for ln S_T). For the pricer z is
 * complex (z = u − i/2 on Lewis' line), so everything below is plain complex arithmetic on
 * (re, im) pairs kept in locals: no allocation per evaluation.
 *
 * Stable form: with ξ = κ − σρ·iz, s = iz + z², d = √(ξ² + σ² s) (principal root), P = d + ξ and
 * M = d − ξ (P·M = σ² s, so the smaller of the two is recomputed from the larger — no
 * cancellation when σ is small or when Re ξ < 0), e = exp(−dT), Q = P + M e:
 *     B = −s (1 − e) / Q
 *     A = κθ [ −T·M/σ² − 2 ln(Q / 2d) / σ² ]       (ln(Q/2d) = ln((1 − g e)/(1 − g)), g = −M/P)
 *     ln φ = A + v0 B.
 * ln(Q/2d) = log1p(−M(1 − e)/2d) is taken with a series when its argument is small, so the σ² in
 * the denominator never amplifies rounding.
 */
import type { HestonParams } from './params.ts';

/** Output layout of cfExponent: [re, im] of ln φ, then [re, im] of ∂ln φ/∂p for p in PARAM_NAMES order. */
export const CF_OUT_LENGTH = 12;

/**
 * Writes ln φ(z) (and, when grad is true, its five parameter derivatives) into out. The exponent
 * is returned rather than φ so callers can combine it with other exponential factors.
 */
export function cfExponent(p: HestonParams, T: number, zr: number, zi: number, grad: boolean, out: Float64Array): void {
  const { kappa, theta, sigma, rho, v0 } = p;
  const s2 = sigma * sigma;
  // iz
  const izr = -zi;
  const izi = zr;
  // ξ = κ − σρ·iz
  const xr = kappa - sigma * rho * izr;
  const xi = -sigma * rho * izi;
  // s = iz + z²
  const sr = izr + zr * zr - zi * zi;
  const si = izi + 2 * zr * zi;
  // d = sqrt(ξ² + σ² s), principal branch (Re d ≥ 0), computed without cancellation.
  const d2r = xr * xr - xi * xi + s2 * sr;
  const d2i = 2 * xr * xi + s2 * si;
  const mod = Math.sqrt(d2r * d2r + d2i * d2i);
  let dr: number;
  let di: number;
  if (d2r >= 0) {
    dr = Math.sqrt(0.5 * (mod + d2r));
    di = dr === 0 ? 0 : d2i / (2 * dr);
  } else {
    const t = Math.sqrt(0.5 * (mod - d2r));
    di = d2i >= 0 ? t : -t;
    dr = d2i / (2 * di);
  }
  // P = d + ξ, M = d − ξ; P·M = σ² s. mr/mi hold m = M/σ² (the quantity A needs).
  let pr = dr + xr;
  let pi = di + xi;
  let Mr = dr - xr;
  let Mi = di - xi;
  let mr: number;
  let mi: number;
  const ss2r = s2 * sr;
  const ss2i = s2 * si;
  if (pr * pr + pi * pi >= Mr * Mr + Mi * Mi) {
    // m = s / P, M = σ² m
    const den = pr * pr + pi * pi;
    mr = (sr * pr + si * pi) / den;
    mi = (si * pr - sr * pi) / den;
    Mr = s2 * mr;
    Mi = s2 * mi;
  } else {
    const den = Mr * Mr + Mi * Mi;
    pr = (ss2r * Mr + ss2i * Mi) / den;
    pi = (ss2i * Mr - ss2r * Mi) / den;
    mr = Mr / s2;
    mi = Mi / s2;
  }
  // e = exp(−dT)
  const ea = Math.exp(-dr * T);
  const er = ea * Math.cos(-di * T);
  const ei = ea * Math.sin(-di * T);
  const omer = 1 - er;
  const omei = -ei;
  // Q = P + M e
  const qr = pr + Mr * er - Mi * ei;
  const qi = pi + Mr * ei + Mi * er;
  const qden = qr * qr + qi * qi;
  // B = −s (1 − e) / Q
  const nr = -(sr * omer - si * omei);
  const ni = -(sr * omei + si * omer);
  const Br = (nr * qr + ni * qi) / qden;
  const Bi = (ni * qr - nr * qi) / qden;
  // w = −m (1 − e) / (2d); W = σ² w; ℓ = log1p(W)/σ²
  const dden = 4 * (dr * dr + di * di);
  const tr = -(mr * omer - mi * omei);
  const ti = -(mr * omei + mi * omer);
  const wr = (2 * (tr * dr + ti * di)) / dden;
  const wi = (2 * (ti * dr - tr * di)) / dden;
  const Wr = s2 * wr;
  const Wi = s2 * wi;
  let lr: number;
  let li: number;
  if (Wr * Wr + Wi * Wi < 1e-8) {
    // log1p(W)/σ² = w (1 − W/2 + W²/3 − W³/4 + W⁴/5), |W| < 1e-4 so the remainder is < 1e-20.
    let cr = 1 / 5;
    let ci = 0;
    for (const c of [-1 / 4, 1 / 3, -1 / 2, 1]) {
      const nr2 = cr * Wr - ci * Wi + c;
      ci = cr * Wi + ci * Wr;
      cr = nr2;
    }
    lr = wr * cr - wi * ci;
    li = wr * ci + wi * cr;
  } else {
    lr = (0.5 * Math.log((1 + Wr) * (1 + Wr) + Wi * Wi)) / s2;
    li = Math.atan2(Wi, 1 + Wr) / s2;
  }
  const kt = kappa * theta;
  const Ar = kt * (-T * mr - 2 * lr);
  const Ai = kt * (-T * mi - 2 * li);
  out[0] = Ar + v0 * Br;
  out[1] = Ai + v0 * Bi;
  if (!grad) return;

  // Derivatives. dξ/dκ = 1, dξ/dσ = −ρ·iz, dξ/dρ = −σ·iz; dd = (ξ dξ + σ dσ s)/d.
  const ddenInv = 1 / (dr * dr + di * di);
  const c = kt / s2;
  for (let k = 0; k < 3; k++) {
    // k = 0: kappa, 1: sigma, 2: rho
    let dxr: number;
    let dxi: number;
    let nsr = 0;
    let nsi = 0;
    if (k === 0) {
      dxr = 1;
      dxi = 0;
    } else if (k === 1) {
      dxr = -rho * izr;
      dxi = -rho * izi;
      nsr = sigma * sr;
      nsi = sigma * si;
    } else {
      dxr = -sigma * izr;
      dxi = -sigma * izi;
    }
    // numerator ξ·dξ + σ s (for sigma)
    const numr = xr * dxr - xi * dxi + nsr;
    const numi = xr * dxi + xi * dxr + nsi;
    const ddr = (numr * dr + numi * di) * ddenInv;
    const ddi = (numi * dr - numr * di) * ddenInv;
    const dPr = ddr + dxr;
    const dPi = ddi + dxi;
    const dMr = ddr - dxr;
    const dMi = ddi - dxi;
    // de = −T dd e
    const der = -T * (ddr * er - ddi * ei);
    const dei = -T * (ddr * ei + ddi * er);
    // dQ = dP + dM e + M de
    const dQr = dPr + (dMr * er - dMi * ei) + (Mr * der - Mi * dei);
    const dQi = dPi + (dMr * ei + dMi * er) + (Mr * dei + Mi * der);
    // dQ/Q
    const gqr = (dQr * qr + dQi * qi) / qden;
    const gqi = (dQi * qr - dQr * qi) / qden;
    // dB = (s de − B dQ)/Q = (s de)/Q − B·(dQ/Q)
    const sder = sr * der - si * dei;
    const sdei = sr * dei + si * der;
    const dBr = (sder * qr + sdei * qi) / qden - (Br * gqr - Bi * gqi);
    const dBi = (sdei * qr - sder * qi) / qden - (Br * gqi + Bi * gqr);
    // dΛ = −dM T − 2 (dQ/Q − dd/d)
    const gdr = (ddr * dr + ddi * di) * ddenInv;
    const gdi = (ddi * dr - ddr * di) * ddenInv;
    const dLr = -dMr * T - 2 * (gqr - gdr);
    const dLi = -dMi * T - 2 * (gqi - gdi);
    let dAr = c * dLr;
    let dAi = c * dLi;
    if (k === 0) {
      dAr += Ar / kappa;
      dAi += Ai / kappa;
    } else if (k === 1) {
      dAr -= (2 * Ar) / sigma;
      dAi -= (2 * Ai) / sigma;
    }
    const slot = k === 0 ? 2 : k === 1 ? 6 : 8;
    out[slot] = dAr + v0 * dBr;
    out[slot + 1] = dAi + v0 * dBi;
  }
  // theta: A/θ; v0: B
  out[4] = kappa * (-T * mr - 2 * lr);
  out[5] = kappa * (-T * mi - 2 * li);
  out[10] = Br;
  out[11] = Bi;
}

/**
 * φ(u) = E[exp(i u ln S_T)] for complex u = uRe + i·uIm, with spot, r and q (continuous rates):
 * the textbook form, for users and tests. The pricer uses cfExponent directly.
 */
export function hestonCf(
  p: HestonParams,
  T: number,
  uRe: number,
  uIm: number,
  opts: { spot?: number; r?: number; q?: number } = {},
): { re: number; im: number } {
  const out = new Float64Array(CF_OUT_LENGTH);
  cfExponent(p, T, uRe, uIm, false, out);
  const lnF = Math.log(opts.spot ?? 1) + ((opts.r ?? 0) - (opts.q ?? 0)) * T;
  // exp(i u lnF) = exp(i uRe lnF − uIm lnF)
  const er = out[0]! - uIm * lnF;
  const ei = out[1]! + uRe * lnF;
  const m = Math.exp(er);
  return { re: m * Math.cos(ei), im: m * Math.sin(ei) };
}
