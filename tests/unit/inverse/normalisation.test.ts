import { describe, expect, it } from 'vitest';
import { computeNormalisation, decodeParams, decodeSurface, encodeParamsInto, encodeSurfaceInto } from '../../../src/core/inverse/normalisation.ts';
import { toySurfaces } from './fixtures.ts';
import { PARAM_NAMES } from '../../../src/core/heston/params.ts';

describe('inverse normalisation', () => {
  const ds = toySurfaces(200, 5);
  const all = Int32Array.from({ length: ds.n }, (_, i) => i);
  const norm = computeNormalisation(ds.iv, ds.mask, ds.params, 30, all);

  it('z-scores each cell over the unmasked training values only', () => {
    // cell 0 is masked in every toy surface: it has no statistics, so mean 0 and std 1.
    expect(norm.ivMean[0]).toBe(0);
    expect(norm.ivStd[0]).toBe(1);
    let s = 0;
    for (let i = 0; i < ds.n; i++) s += ds.iv[i * 30 + 7]!;
    expect(norm.ivMean[7]).toBeCloseTo(s / ds.n, 12);
  });

  it('feeds masked cells as 0 with the mask channel set, never their stored value', () => {
    const out = new Float32Array(60);
    const iv = Float64Array.from(ds.iv as Float64Array).subarray(0, 30);
    iv[0] = 1e6; // garbage under the mask must not reach the network
    iv[3] = NaN; // a non-finite value is treated as missing
    encodeSurfaceInto(iv, ds.mask, 0, norm, out, 0);
    expect([out[0], out[1]]).toEqual([0, 1]);
    expect([out[6], out[7]]).toEqual([0, 1]);
    expect(out[5]).toBe(0);
    expect(out[2]).toBeCloseTo((iv[1]! - norm.ivMean[1]!) / norm.ivStd[1]!, 5);
    const recon = Float32Array.from({ length: 30 }, (_, c) => out[2 * c]!);
    expect(decodeSurface(recon, norm)[1]).toBeCloseTo(iv[1]!, 6);
  });

  it('round-trips parameters through log / identity transforms and z-scores', () => {
    const z = new Float32Array(5);
    encodeParamsInto(ds.params, 17, norm, z, 0);
    const back = decodeParams(z, norm);
    PARAM_NAMES.forEach((p, j) => expect(back[p]).toBeCloseTo(ds.params[17 * 5 + j]!, 5));
    expect(norm.paramTransform).toEqual(['log', 'log', 'log', 'identity', 'log']);
  });
});
