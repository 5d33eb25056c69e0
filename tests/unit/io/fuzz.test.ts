/**
 * Fuzz-style robustness: many truncated and corrupted .npy / .npz / .csv files, made from valid
 * ones with a seeded Rng (so a failure reproduces). Each must either parse (when the damage is
 * harmless, e.g. a flipped bit in a vol) or throw an InputError — never another exception type —
 * and return promptly. The time bound is a hang detector (10^3 × the ~1 ms a read takes), not a
 * performance assertion.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Rng } from '../../../src/core/math/rng.ts';
import { readNpy, writeNpy } from '../../../src/core/io/npy.ts';
import { readNpz } from '../../../src/core/io/npz.ts';
import { readSurfaceCsv, surfaceToCsv } from '../../../src/core/surface/csv.ts';
import { surfaceFromNpz, surfaceToNpz } from '../../../src/core/surface/files.ts';
import { surfaceProblems } from '../../../src/core/surface/validate.ts';
import { InputError } from '../../../src/core/errors.ts';
import type { Surface } from '../../../src/core/surface/types.ts';

const HANG_MS = 2000;

function mutate(rng: Rng, src: Uint8Array): Uint8Array {
  const b = Uint8Array.from(src);
  switch (rng.int(5)) {
    case 0: // truncate
      return b.subarray(0, rng.int(b.length));
    case 1: { // flip 1–8 bits
      const n = 1 + rng.int(8);
      for (let i = 0; i < n; i++) b[rng.int(b.length)] ^= 1 << rng.int(8);
      return b;
    }
    case 2: { // overwrite a run with random bytes
      const at = rng.int(b.length);
      const len = 1 + rng.int(16);
      for (let i = at; i < Math.min(b.length, at + len); i++) b[i] = rng.int(256);
      return b;
    }
    case 3: { // delete a run
      const at = rng.int(b.length);
      const len = 1 + rng.int(32);
      const out = new Uint8Array(b.length - Math.min(len, b.length - at));
      out.set(b.subarray(0, at));
      out.set(b.subarray(at + len), at);
      return out;
    }
    default: { // set a byte to an extreme value (sizes, counts, lengths)
      b[rng.int(b.length)] = rng.int(2) ? 0xff : 0;
      return b;
    }
  }
}

function expectInputErrorOrResult(read: () => unknown, label: string): unknown {
  const t0 = performance.now();
  let result: unknown;
  try {
    result = read();
  } catch (e) {
    if (!(e instanceof InputError)) throw new Error(`${label}: threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
  }
  const ms = performance.now() - t0;
  expect(ms, `${label} took ${ms} ms`).toBeLessThan(HANG_MS);
  return result;
}

const surface: Surface = {
  kGrid: [-0.4, -0.2, 0, 0.2, 0.4],
  tGrid: [0.05, 0.1, 0.25, 0.5, 1, 2],
  iv: Float64Array.from({ length: 30 }, (_, i) => 0.4 + 0.01 * i),
  mask: Uint8Array.from({ length: 30 }, (_, i) => (i === 7 ? 1 : 0)),
  spot: 67000,
  forward: [67010, 67020, 67050, 67100, 67200, 67400],
  timestamp: Date.UTC(2024, 0, 1),
  source: 'deribit:BTC',
};

describe('fuzz: corrupted files give InputError or a valid result, promptly', () => {
  it('.npy (400 mutations of numpy-written and lab-written arrays)', () => {
    const seeds = [
      readFileSync('tests/fixtures/npy/c_f8_be.npy'),
      readFileSync('tests/fixtures/npy/f_i8_le.npy'),
      readFileSync('tests/fixtures/npy/v3_f8.npy'),
      writeNpy({ dtype: 'float32', shape: [5, 6], data: new Float32Array(30).fill(0.5) }),
    ];
    const rng = new Rng(20240601);
    for (let n = 0; n < 400; n++) {
      const bytes = mutate(rng, seeds[n % seeds.length]!);
      expectInputErrorOrResult(() => readNpy(bytes, 'fuzz.npy'), `npy #${n}`);
    }
  });

  it('.npz surfaces (500 mutations, stored and deflated, numpy- and lab-written)', () => {
    const seeds = [
      surfaceToNpz(surface),
      surfaceToNpz(surface, { compress: true }),
      readFileSync('tests/fixtures/npy/snapshot_savez.npz'),
      readFileSync('tests/fixtures/npy/snapshot_compressed.npz'),
    ];
    for (const sd of seeds) expect(surfaceProblems(surfaceFromNpz(sd, 'seed.npz'))).toEqual([]);
    const rng = new Rng(7);
    let parsed = 0;
    for (let n = 0; n < 500; n++) {
      const bytes = mutate(rng, seeds[n % seeds.length]!);
      const s = expectInputErrorOrResult(() => surfaceFromNpz(bytes, 'fuzz.npz'), `npz #${n}`) as Surface | undefined;
      if (s) {
        parsed++;
        expect(surfaceProblems(s)).toEqual([]);
      }
      expectInputErrorOrResult(() => readNpz(bytes, 'fuzz.npz'), `raw npz #${n}`);
    }
    // Some mutations (a flipped bit in a vol, in padding) are harmless; most are not.
    expect(parsed).toBeGreaterThan(0);
    expect(parsed).toBeLessThan(500);
  });

  it('.csv grid, long, Deribit and Tardis layouts (800 mutations)', () => {
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    const long = ['expiry,strike,type,iv_pct,underlying_price,timestamp'];
    for (const K of [30000, 35000, 40000, 45000]) for (const t of ['call', 'put']) long.push(`2024-03-29T08:00:00Z,${K},${t},${50 + K / 5000},38000,2024-01-01T00:00:00Z`);
    const deribit = ['instrument_name,underlying_price,mark_iv,creation_timestamp'];
    for (const K of [30000, 35000, 40000, 45000]) for (const cp of ['C', 'P']) deribit.push(`BTC-29MAR24-${K}-${cp},38000,${50 + K / 5000},1704067200000`);
    const tardis = ['exchange,symbol,timestamp,local_timestamp,type,strike_price,expiration,mark_iv,underlying_price'];
    for (const K of [30000, 35000, 40000, 45000]) for (const t of ['call', 'put']) tardis.push(`deribit,BTC-29MAR24-${K}-${t[0]!.toUpperCase()},1704067200000000,1704067200000100,${t},${K},1711699200000000,${0.5 + K / 500000},38000`);
    const seeds = [enc.encode(surfaceToCsv(surface)), enc.encode(long.join('\n')), enc.encode(deribit.join('\n')), enc.encode(tardis.join('\n'))];
    // Every seed file is valid before it is damaged (else the test would prove nothing).
    for (const sd of seeds) expect(surfaceProblems(readSurfaceCsv(dec.decode(sd), 'seed.csv', { now: () => Date.UTC(2024, 0, 1) }).surface)).toEqual([]);
    const rng = new Rng(99);
    let parsed = 0;
    for (let n = 0; n < 800; n++) {
      const text = dec.decode(mutate(rng, seeds[n % seeds.length]!));
      const r = expectInputErrorOrResult(() => readSurfaceCsv(text, 'fuzz.csv', { now: () => Date.UTC(2024, 0, 1) }), `csv #${n}`) as { surface: Surface } | undefined;
      if (r) {
        parsed++;
        expect(surfaceProblems(r.surface)).toEqual([]);
      }
    }
    expect(parsed).toBeGreaterThan(0);
    expect(parsed).toBeLessThan(800);
  });
});
