/**
 * The Pricer page's bundled sample reader (moved out of Pricer.svelte): the shipped file reads
 * into a valid surface with its masked points, and a broken file is refused naming the field.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { readSurfaceSample } from '../../../src/core/surface/sampleJson.ts';

const shipped = JSON.parse(readFileSync('public/samples/pricer-sample.json', 'utf8'));

describe('readSurfaceSample', () => {
  it('reads the bundled pricer sample: nulls become masked points, true parameters kept', () => {
    const s = readSurfaceSample(shipped, 'pricer-sample.json');
    const cells = s.surface.kGrid.length * s.surface.tGrid.length;
    expect(s.surface.iv.length).toBe(cells);
    const nulls = (shipped.iv as (number | null)[]).filter((v) => v === null).length;
    expect(nulls).toBeGreaterThan(0);
    expect([...s.surface.mask!].filter((m) => m === 1).length).toBe(nulls);
    (shipped.iv as (number | null)[]).forEach((v, n) => {
      if (v === null) expect(s.surface.iv[n]).toBeNaN();
      else expect(s.surface.iv[n]).toBe(v);
    });
    expect(s.trueParams).toEqual(shipped.trueParams);
    expect(s.surface.spot).toBe(100);
    expect(s.name).toMatch(/Synthetic Heston sample/);
  });

  it('refuses a wrong shape, a non-positive vol and an out-of-bounds true parameter, naming each', () => {
    expect(() => readSurfaceSample({ ...shipped, iv: shipped.iv.slice(1) }, 'x.json')).toThrow(/x\.json.*"iv" must hold 54 values/);
    const bad = [...shipped.iv];
    bad[7] = -0.2;
    expect(() => readSurfaceSample({ ...shipped, iv: bad }, 'x.json')).toThrow(/"iv"\[7\] \(k=-0\.3, T=0\.1\) must be a positive decimal vol/);
    expect(() => readSurfaceSample({ ...shipped, trueParams: { ...shipped.trueParams, rho: -1.5 } }, 'x.json')).toThrow(/trueParams.*rho=-1\.5 is outside/);
    expect(() => readSurfaceSample({ ...shipped, spot: 0 }, 'x.json')).toThrow(/"spot" must be a positive number/);
    expect(() => readSurfaceSample([], 'x.json')).toThrow(/must be a JSON object/);
  });
});
