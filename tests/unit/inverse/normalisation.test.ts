import { describe, expect, it } from 'vitest';
import { computeNormalisation, decodeParams, decodeSurface, encodeParamsInto, encodeSurfaceInto, hasBoundedOutputs, inverse } from '../../../src/core/inverse/normalisation.ts';
import { toySurfaces } from './fixtures.ts';
import { PARAM_BOUNDS, PARAM_NAMES, paramProblems } from '../../../src/core/heston/params.ts';

describe('inverse normalisation', () => {
  const ds = toySurfaces(200, 5);
  const all = Int32Array.from({ length: ds.n }, (_, i) => i);
  const norm = computeNormalisation(ds.iv, ds.mask, ds.params, 30, all);

  it('z-scores the log IV of each cell over the unmasked training values only, and keeps each cell\'s range', () => {
    // cell 0 is masked in every toy surface: it has no statistics, so mean 0, std 1, range [0, 0], masked share 1.
    expect(norm.ivMean[0]).toBe(0);
    expect(norm.ivStd[0]).toBe(1);
    expect([norm.ivMin![0], norm.ivMax![0], norm.maskedShare![0]]).toEqual([0, 0, 1]);
    let s = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < ds.n; i++) {
      const v = ds.iv[i * 30 + 7]!;
      s += Math.log(v);
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(norm.input).toBe('logIv');
    expect(norm.ivMean[7]).toBeCloseTo(s / ds.n, 12);
    expect([norm.ivMin![7], norm.ivMax![7], norm.maskedShare![7]]).toEqual([lo, hi, 0]);
  });

  it('feeds masked, non-finite and non-positive cells as 0 with the mask channel set, never their stored value', () => {
    const out = new Float32Array(60);
    const iv = Float64Array.from(ds.iv as Float64Array).subarray(0, 30);
    iv[0] = 1e6; // garbage under the mask must not reach the network
    iv[3] = NaN; // a non-finite value is treated as missing
    iv[4] = -0.1; // so is a vol that is not positive (it has no log)
    encodeSurfaceInto(iv, ds.mask, 0, norm, out, 0);
    expect([out[0], out[1]]).toEqual([0, 1]);
    expect([out[6], out[7]]).toEqual([0, 1]);
    expect([out[8], out[9]]).toEqual([0, 1]);
    expect(out[5]).toBe(0);
    expect(out[2]).toBeCloseTo((Math.log(iv[1]!) - norm.ivMean[1]!) / norm.ivStd[1]!, 5);
    const recon = Float32Array.from({ length: 30 }, (_, c) => out[2 * c]!);
    expect(decodeSurface(recon, norm)[1]).toBeCloseTo(iv[1]!, 6);
  });

  it('round-trips parameters through the bounded transforms and z-scores', () => {
    const z = new Float32Array(5);
    encodeParamsInto(ds.params, 17, norm, z, 0);
    const back = decodeParams(z, norm);
    // float32 z-scores: ~1e-7 relative in the transformed coordinate, a few 1e-6 relative after the sigmoid.
    PARAM_NAMES.forEach((p, j) => expect(back[p] / ds.params[17 * 5 + j]! - 1).toBeLessThan(1e-5));
    expect(norm.paramTransform).toEqual(['logLogit', 'logLogit', 'logLogit', 'logit', 'logLogit']);
    expect(norm.paramBounds).toEqual(PARAM_NAMES.map((p) => [PARAM_BOUNDS[p].lo, PARAM_BOUNDS[p].hi]));
    expect(hasBoundedOutputs(norm)).toBe(true);
  });

  it('maps ANY head output into the model domain and any reconstruction to a positive vol, by construction (issue 15)', () => {
    // Outputs a network can produce on a surface unlike its training data: huge, tiny, of either sign.
    for (const v of [-1e6, -300, -40, -3, 0, 3, 40, 300, 1e6]) {
      const p = decodeParams(new Float32Array(5).fill(v), norm);
      expect(paramProblems(p), JSON.stringify({ v, p })).toEqual([]);
      expect(Math.abs(p.rho)).toBeLessThanOrEqual(0.999);
      const r = decodeSurface(new Float32Array(30).fill(v), norm);
      // exp(·) of a finite value is positive; ±1e6 std saturates to 0 or Infinity, which only a
      // recon beyond ~700 std could reach — the finite ones must all be > 0.
      for (const x of r) if (Number.isFinite(x) && Math.abs(v) < 1e3) expect(x).toBeGreaterThan(0);
    }
    // The inverse transform itself never leaves [lo, hi], whatever u.
    expect(inverse(1e9, 'logit', [-0.999, 0.999])).toBeLessThanOrEqual(0.999);
    expect(inverse(-1e9, 'logLogit', [1e-4, 5])).toBeGreaterThanOrEqual(1e-4);
  });
});
