/**
 * Batched, differentiable Heston pricing in tfjs (float32; runs on webgpu / webgl / wasm / cpu).
 *
 * Same formula as the Float64 reference (Lewis' integral on the line Im u = −1/2, little-trap
 * characteristic function, Black–Scholes control variate of the same expected total variance).
 * The control variate matters even more in float32: without it the price is F minus an integral
 * of size ~F and rounding leaves ~1e-5·S of absolute error; with it the integral is small and the
 * error is that of the float32 Black–Scholes term (~1e-7·S). Quadrature nodes are shared by
 * the whole batch and fixed per maturity: they come from the Float64 engine's own plan for the
 * slowest-decaying parameters of the seed box (low variance, sigma 1, rho −0.95, kappa 0.5) at
 * tolerance 1e-8, so every parameter set inside the box is integrated at least as well. Strike
 * sums are one batched matMul per maturity ([nt, B, N] × [nt, N, nk]).
 *
 * Everything is built from ops with registered gradients (atan2, exp, log, sin, cos, sqrt,
 * matMul), so losses through priceBatchTf are differentiable with tf.grad / optimizers. Readback
 * is always async (await t.data()), per the WebGPU rule in shared/DESIGN.md.
 */
import * as tf from '@tensorflow/tfjs';
import type { HestonParams } from './params.ts';
import { LewisControlVariateEngine, expectedTotalVariance, perMaturity } from './pricer.ts';
import { gaussLegendre } from '../math/gaussLegendre.ts';

/** Parameters whose integrand decays slowest in the seed box; the node plan is made for them. */
const HARD_CASE: HestonParams = { kappa: 0.5, theta: 0.008, sigma: 1, rho: -0.95, v0: 0.008 };

export interface QuadratureGrid {
  /** [nt, N] nodes and weights (zero-padded to a common N). */
  u: Float32Array;
  w: Float32Array;
  n: number;
}

/** Node plan per maturity (cached by the grid's key). */
const planCache = new Map<string, QuadratureGrid>();

export function batchQuadrature(maturities: ArrayLike<number>, kmax: number): QuadratureGrid {
  const key = `${Array.from(maturities).join(',')}|${kmax.toFixed(6)}`;
  const hit = planCache.get(key);
  if (hit) return hit;
  const engine = new LewisControlVariateEngine({ tolerance: 1e-8 });
  const per: { u: number[]; w: number[] }[] = [];
  for (let j = 0; j < maturities.length; j++) {
    const T = maturities[j]!;
    const { panels } = engine.plan(HARD_CASE, T, expectedTotalVariance(HARD_CASE, T), kmax);
    const u: number[] = [];
    const w: number[] = [];
    for (const [a, b, m] of panels) {
      const rule = gaussLegendre(m);
      const half = 0.5 * (b - a);
      for (let i = 0; i < m; i++) {
        u.push(a + half * (rule.nodes[i]! + 1));
        w.push(half * rule.weights[i]!);
      }
    }
    per.push({ u, w });
  }
  const n = Math.max(...per.map((p) => p.u.length));
  const nt = maturities.length;
  const U = new Float32Array(nt * n);
  const W = new Float32Array(nt * n);
  per.forEach((p, j) => {
    for (let i = 0; i < n; i++) {
      // Padding nodes sit at u = 1 with weight 0: finite integrand, no contribution.
      U[j * n + i] = i < p.u.length ? p.u[i]! : 1;
      W[j * n + i] = i < p.w.length ? p.w[i]! : 0;
    }
  });
  const grid = { u: U, w: W, n };
  planCache.set(key, grid);
  return grid;
}

export type OptionKind = 'call' | 'put' | 'otm';

export interface BatchPriceOptions {
  /** What to return (default 'call'). 'otm': put below the forward, call above. */
  kind?: OptionKind;
}

/**
 * Prices B parameter sets on strikes × maturities: params [B, 5] in PARAM_NAMES order
 * (kappa, theta, sigma, rho, v0) → [B, nk, nt] present values. Differentiable in params.
 */
export function priceBatchTf(
  params: tf.Tensor2D,
  strikes: ArrayLike<number>,
  maturities: ArrayLike<number>,
  spot: number,
  r: number | ArrayLike<number> = 0,
  q: number | ArrayLike<number> = 0,
  opts: BatchPriceOptions = {},
): tf.Tensor3D {
  const nk = strikes.length;
  const nt = maturities.length;
  const rr = perMaturity(r, nt, 'r');
  const qq = perMaturity(q, nt, 'q');
  const F = Float64Array.from({ length: nt }, (_, j) => spot * Math.exp((rr[j]! - qq[j]!) * maturities[j]!));
  const D = Float64Array.from({ length: nt }, (_, j) => Math.exp(-rr[j]! * maturities[j]!));
  let kmax = 0;
  for (let i = 0; i < nk; i++) for (let j = 0; j < nt; j++) kmax = Math.max(kmax, Math.abs(Math.log(strikes[i]! / F[j]!)));
  const quad = batchQuadrature(maturities, kmax);
  const N = quad.n;
  // Per maturity: cos/sin(u k) · w / (u² + 1/4), [nt, N, nk] (float64 on the CPU, then float32).
  const cosM = new Float32Array(nt * N * nk);
  const sinM = new Float32Array(nt * N * nk);
  for (let j = 0; j < nt; j++) {
    for (let n = 0; n < N; n++) {
      const u = quad.u[j * N + n]!;
      const wq = quad.w[j * N + n]! / (u * u + 0.25);
      for (let i = 0; i < nk; i++) {
        const k = Math.log(strikes[i]! / F[j]!);
        cosM[(j * N + n) * nk + i] = wq * Math.cos(u * k);
        sinM[(j * N + n) * nk + i] = wq * Math.sin(u * k);
      }
    }
  }
  const kind = opts.kind ?? 'call';
  return tf.tidy(() => {
    const B = params.shape[0];
    const col = (c: number) => params.slice([0, c], [B, 1]).reshape([B, 1, 1]);
    const kappa = col(0);
    const theta = col(1);
    const sigma = col(2);
    const rho = col(3);
    const v0 = col(4);
    const u = tf.tensor3d(quad.u, [1, nt, N]);
    const T = tf.tensor3d(Float32Array.from(maturities), [1, nt, 1]);
    const s = u.square().add(0.25); // iz + z² at z = u − i/2
    const s2 = sigma.square();
    const sr = sigma.mul(rho);
    // ξ = κ − σρ/2 − iσρu
    const xr = kappa.sub(sr.mul(0.5));
    const xi = sr.mul(u).neg();
    // d = sqrt(ξ² + σ² s), principal branch via polar form.
    const d2r = xr.square().sub(xi.square()).add(s2.mul(s));
    const d2i = xr.mul(xi).mul(2);
    const mod = d2r.square().add(d2i.square()).sqrt().sqrt();
    const ang = tf.atan2(d2i, d2r).mul(0.5);
    const dr = mod.mul(ang.cos());
    const di = mod.mul(ang.sin());
    // P = d + ξ; M = σ² s / P (Re ξ > 0 in the box, so |P| ≥ |M| and this is the stable one).
    const pr = dr.add(xr);
    const pi = di.add(xi);
    const pden = pr.square().add(pi.square());
    const Mr = s2.mul(s).mul(pr).div(pden);
    const Mi = s2.mul(s).mul(pi).neg().div(pden);
    // e = exp(−dT)
    const ea = dr.mul(T).neg().exp();
    const er = ea.mul(di.mul(T).cos());
    const ei = ea.mul(di.mul(T).sin()).neg();
    const omr = tf.scalar(1).sub(er);
    const omi = ei.neg();
    // Q = P + M e
    const qr = pr.add(Mr.mul(er)).sub(Mi.mul(ei));
    const qi = pi.add(Mr.mul(ei)).add(Mi.mul(er));
    const qden = qr.square().add(qi.square());
    // B = −s (1 − e)/Q
    const nr = s.mul(omr).neg();
    const ni = s.mul(omi).neg();
    const Br = nr.mul(qr).add(ni.mul(qi)).div(qden);
    const Bi = ni.mul(qr).sub(nr.mul(qi)).div(qden);
    // W = −M (1 − e)/(2d); L = log(1 + W)
    const tr = Mr.mul(omr).sub(Mi.mul(omi)).neg();
    const ti = Mr.mul(omi).add(Mi.mul(omr)).neg();
    const dden = dr.square().add(di.square()).mul(2);
    const Wr = tr.mul(dr).add(ti.mul(di)).div(dden);
    const Wi = ti.mul(dr).sub(tr.mul(di)).div(dden);
    const onePlusWr = Wr.add(1);
    const Lr = onePlusWr.square().add(Wi.square()).log().mul(0.5);
    const Li = tf.atan2(Wi, onePlusWr);
    // A = κθ/σ² (−M T − 2 L)
    const c = kappa.mul(theta).div(s2);
    const Ar = c.mul(Mr.mul(T).neg().sub(Lr.mul(2)));
    const Ai = c.mul(Mi.mul(T).neg().sub(Li.mul(2)));
    const lr = Ar.add(v0.mul(Br));
    const li = Ai.add(v0.mul(Bi));
    const m = lr.exp();
    // Control variate: w = E∫v = θT + (v0 − θ)(1 − e^{−κT})/κ, φ_BS(u − i/2) = exp(−w s/2).
    const w = theta.mul(T).add(v0.sub(theta).mul(tf.scalar(1).sub(kappa.mul(T).neg().exp())).div(kappa)); // [B, nt, 1]
    const phBs = w.mul(s).mul(-0.5).exp();
    const dr_ = phBs.sub(m.mul(li.cos())).transpose([1, 0, 2]); // [nt, B, N]: φ_BS − φ
    const di_ = m.mul(li.sin()).neg().transpose([1, 0, 2]);
    const I = tf.matMul(dr_, tf.tensor3d(cosM, [nt, N, nk])).add(tf.matMul(di_, tf.tensor3d(sinM, [nt, N, nk]))); // [nt, B, nk]
    // C = C_BS(w) + √(F K)/π · D · I
    const scale = new Float32Array(nt * nk);
    const fwd = new Float32Array(nt * nk);
    const par = new Float32Array(nt * nk); // D (F − K)
    for (let j = 0; j < nt; j++) {
      for (let i = 0; i < nk; i++) {
        scale[j * nk + i] = (D[j]! * Math.sqrt(F[j]! * strikes[i]!)) / Math.PI;
        fwd[j * nk + i] = D[j]! * F[j]!;
        par[j * nk + i] = D[j]! * (F[j]! - strikes[i]!);
      }
    }
    // Black–Scholes call with total variance w: D (F Φ(d1) − K Φ(d2)), [nt, B, nk].
    const sw = w.transpose([1, 0, 2]).sqrt(); // [nt, B, 1]
    const lnFK = new Float32Array(nt * nk);
    const dK = new Float32Array(nt * nk);
    for (let j = 0; j < nt; j++) for (let i = 0; i < nk; i++) {
      lnFK[j * nk + i] = Math.log(F[j]! / strikes[i]!);
      dK[j * nk + i] = D[j]! * strikes[i]!;
    }
    const d1 = tf.tensor3d(lnFK, [nt, 1, nk]).div(sw).add(sw.mul(0.5));
    const bsCall = tf.tensor3d(fwd, [nt, 1, nk]).mul(normCdfTf(d1)).sub(tf.tensor3d(dK, [nt, 1, nk]).mul(normCdfTf(d1.sub(sw))));
    const calls = bsCall.add(I.mul(tf.tensor3d(scale, [nt, 1, nk])));
    let out: tf.Tensor3D;
    if (kind === 'call') out = calls as tf.Tensor3D;
    else if (kind === 'put') out = calls.sub(tf.tensor3d(par, [nt, 1, nk])) as tf.Tensor3D;
    else {
      const isPut = new Float32Array(nt * nk);
      for (let j = 0; j < nt; j++) for (let i = 0; i < nk; i++) isPut[j * nk + i] = strikes[i]! < F[j]! ? 1 : 0;
      out = calls.sub(tf.tensor3d(par, [nt, 1, nk]).mul(tf.tensor3d(isPut, [nt, 1, nk]))) as tf.Tensor3D;
    }
    return out.transpose([1, 2, 0]) as tf.Tensor3D; // [B, nk, nt]
  });
}

/** Standard normal CDF in tfjs (erf has a registered gradient). */
function normCdfTf(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.erf(x.mul(Math.SQRT1_2)).add(1).mul(0.5));
}

/**
 * Black–Scholes normalised OTM price b(x, s) = e^{x/2}Φ(x/s + s/2) − e^{−x/2}Φ(x/s − s/2) for
 * x = −|ln(K/F)| and s = σ√T, elementwise (float32).
 */
export function bsNormalisedOtmTf(x: tf.Tensor, s: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const h = x.div(s);
    const t = s.mul(0.5);
    return x.mul(0.5).exp().mul(normCdfTf(h.add(t))).sub(x.mul(-0.5).exp().mul(normCdfTf(h.sub(t))));
  });
}

/**
 * Differentiable implied vol on a ln(K/F) grid: OTM normalised prices b [.., nk, nt] → σ, by
 * `steps` Newton steps on b(x, s) from the start vols ivStart (e.g. the market's IV, which is
 * where a physics loss needs it). Gradients flow through the Newton steps. float32: expect
 * ~1e-4 relative accuracy, enough for a loss, not for reference values (use blackScholes.ts).
 */
export function impliedVolNewtonTf(b: tf.Tensor, kGrid: ArrayLike<number>, tGrid: ArrayLike<number>, ivStart: tf.Tensor, steps = 3): tf.Tensor {
  return tf.tidy(() => {
    const nk = kGrid.length;
    const nt = tGrid.length;
    const { xs, sq } = otmGrid(kGrid, tGrid);
    const x = tf.tensor2d(xs, [nk, nt]);
    const sqrtT = tf.tensor2d(sq, [nk, nt]);
    let s = ivStart.mul(sqrtT);
    for (let n = 0; n < steps; n++) {
      const bs = bsNormalisedOtmTf(x, s);
      const vega = x.mul(0.5).exp().mul(x.div(s).add(s.mul(0.5)).square().mul(-0.5).exp()).mul(1 / Math.sqrt(2 * Math.PI));
      s = s.sub(bs.sub(b).div(vega.maximum(1e-12))).maximum(1e-4);
    }
    return s.div(sqrtT);
  });
}

/**
 * OTM prices normalised by D·√(F K) on a ln(K/F) grid (spot 1, zero rates: the IV on a ln(K/F)
 * grid does not depend on them), [B, nk, nt]. Compare with bsNormalisedOtmTf of market vols.
 */
export function normalisedOtmBatchTf(params: tf.Tensor2D, kGrid: ArrayLike<number>, tGrid: ArrayLike<number>): tf.Tensor3D {
  return tf.tidy(() => {
    const strikes = Array.from(kGrid, (k) => Math.exp(k));
    const otm = priceBatchTf(params, strikes, tGrid, 1, 0, 0, { kind: 'otm' });
    const sc = new Float32Array(kGrid.length * tGrid.length);
    for (let i = 0; i < kGrid.length; i++) for (let j = 0; j < tGrid.length; j++) sc[i * tGrid.length + j] = 1 / Math.sqrt(strikes[i]!);
    return otm.mul(tf.tensor2d(sc, [kGrid.length, tGrid.length])) as tf.Tensor3D;
  });
}

/** Per grid point: x = −|k| (the OTM side's log-moneyness) and √T, as float32 [nk·nt]. */
function otmGrid(kGrid: ArrayLike<number>, tGrid: ArrayLike<number>): { xs: Float32Array; sq: Float32Array } {
  const nk = kGrid.length;
  const nt = tGrid.length;
  const xs = new Float32Array(nk * nt);
  const sq = new Float32Array(nk * nt);
  for (let i = 0; i < nk; i++)
    for (let j = 0; j < nt; j++) {
      xs[i * nt + j] = -Math.abs(kGrid[i]!);
      sq[i * nt + j] = Math.sqrt(tGrid[j]!);
    }
  return { xs, sq };
}
