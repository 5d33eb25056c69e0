import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { numpyPython } from '../../support/python.ts';
import { readNpy, writeNpy, toNumbers, type NdArray } from '../../../src/core/io/npy.ts';
import { readNpz, writeNpz } from '../../../src/core/io/npz.ts';
import { InputError } from '../../../src/core/errors.ts';

const DIR = 'tests/fixtures/npy';
interface Described { dtype: string; shape: number[]; values: (number | string)[] }
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as {
  npy: Record<string, Described>;
  npz: Record<string, Record<string, Described>>;
  refused: Record<string, string>;
};

function expectMatches(a: NdArray, d: Described) {
  expect(a.shape).toEqual(d.shape);
  expect(a.dtype).toBe(d.dtype);
  expect(a.data.length).toBe(d.values.length);
  if (d.dtype.startsWith('int') || d.dtype.startsWith('uint')) {
    // Compared as decimal strings so int64 values beyond 2^53 are checked exactly.
    expect(Array.from(a.data as ArrayLike<number | bigint>, (x) => String(x))).toEqual(d.values);
  } else {
    // float32 fixtures were cast from float64 by numpy; reading must give exactly those float32 values.
    const nums = d.values.map((v) => (typeof v === 'string' ? Number(v.replace('inf', 'Infinity').replace('nan', 'NaN')) : v));
    const want = d.dtype === 'float32' ? Float32Array.from(nums) : Float64Array.from(nums);
    expect(Array.from(a.data as Float64Array)).toEqual(Array.from(want));
  }
}

describe('readNpy on files written by numpy', () => {
  for (const [name, d] of Object.entries(manifest.npy)) {
    it(`reads ${name} (${d.dtype} ${JSON.stringify(d.shape)})`, () => {
      expectMatches(readNpy(readFileSync(join(DIR, name)), name), d);
    });
  }
  it('covers both byte orders, both memory orders and all three format versions', () => {
    const names = Object.keys(manifest.npy);
    expect(names.filter((n) => n.endsWith('_be.npy') && n.startsWith('f_')).length).toBeGreaterThanOrEqual(4);
    expect(readFileSync(join(DIR, 'v2_f8.npy'))[6]).toBe(2);
    expect(readFileSync(join(DIR, 'v3_f8.npy'))[6]).toBe(3);
  });
});

describe('readNpz on archives written by numpy', () => {
  for (const [name, members] of Object.entries(manifest.npz)) {
    it(`reads ${name}`, () => {
      const arrays = readNpz(readFileSync(join(DIR, name)), name);
      expect(Object.keys(arrays).sort()).toEqual(Object.keys(members).sort());
      for (const [key, d] of Object.entries(members)) expectMatches(arrays[key]!, d);
    });
  }
  it('reads a Fortran-ordered big-endian float32 member into C order', () => {
    const a = readNpz(readFileSync(join(DIR, 'snapshot_f32_fortran.npz')));
    const ref = readNpz(readFileSync(join(DIR, 'snapshot_savez.npz')));
    expect(a.iv_surface!.shape).toEqual([5, 6]);
    const got = toNumbers(a.iv_surface!);
    const want = toNumbers(ref.iv_surface!);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 6); // float32 rounding
  });
});

describe('refused files', () => {
  for (const [name, why] of Object.entries(manifest.refused)) {
    it(`refuses ${name} (${why}) with an InputError naming the file`, () => {
      const bytes = readFileSync(join(DIR, name));
      const read = () => (name.endsWith('.npz') ? readNpz(bytes, name) : readNpy(bytes, name));
      expect(read).toThrow(InputError);
      expect(read).toThrow(new RegExp(`${name.replace('.', '\\.')}.*${why === 'pickle' ? 'pickle' : why === 'object' ? 'object arrays' : why}`));
    });
  }
  it('checks CRC-32 like numpy: one flipped bit in a vol is reported, not used', () => {
    const bytes = Uint8Array.from(readFileSync(join(DIR, 'snapshot_savez.npz')));
    // The last byte of iv_surface's data (stored, uncompressed) sits just before the next member.
    const at = Buffer.from(bytes).indexOf(Buffer.from('k_grid.npy')) - 30 - 1;
    bytes[at] ^= 0x01;
    expect(() => readNpz(bytes, 's.npz')).toThrow(/s\.npz: member 'iv_surface' fails its CRC-32 check/);
  });
  it('names the member key for a bad member inside an .npz', () => {
    expect(() => readNpz(readFileSync(join(DIR, 'object_member.npz')), 'x.npz')).toThrow(/x\.npz: bad: object arrays/);
  });
});

describe('writeNpy / writeNpz', () => {
  const arrays: Record<string, NdArray> = {
    a: { dtype: 'float64', shape: [2, 3], data: Float64Array.of(1, 2, 3, 4.5, -0, Number.NaN) },
    b: { dtype: 'float32', shape: [3], data: Float32Array.of(0.1, 0.2, 0.3) },
    c: { dtype: 'int64', shape: [2], data: BigInt64Array.of(-(2n ** 62n), 2n ** 62n + 1n) },
    d: { dtype: 'int32', shape: [], data: Int32Array.of(-7) },
    m: { dtype: 'bool', shape: [2, 2], data: Uint8Array.of(1, 0, 0, 1) },
  };
  it('round-trips every dtype through .npy and .npz (stored and deflated)', () => {
    for (const [k, a] of Object.entries(arrays)) {
      const back = readNpy(writeNpy(a), k);
      expect(back.shape).toEqual(a.shape);
      expect(Array.from(back.data as ArrayLike<unknown>)).toEqual(Array.from(a.data as ArrayLike<unknown>));
    }
    for (const compress of [false, true]) {
      const back = readNpz(writeNpz(arrays, { compress }));
      expect(Object.keys(back).sort()).toEqual(Object.keys(arrays).sort());
      expect(Array.from(back.c!.data as BigInt64Array)).toEqual(Array.from(arrays.c!.data as BigInt64Array));
    }
  });
  it('aligns the data to 64 bytes as numpy does and is deterministic', () => {
    const bytes = writeNpy(arrays.a!);
    const headerLen = bytes[8]! | (bytes[9]! << 8);
    expect((10 + headerLen) % 64).toBe(0);
    expect(writeNpz(arrays)).toEqual(writeNpz(arrays));
  });
  it('refuses a shape that does not match the data', () => {
    expect(() => writeNpy({ dtype: 'float64', shape: [4], data: new Float64Array(3) })).toThrow(/3 elements but shape \(4\)/);
  });

  const python = numpyPython();
  it.skipIf(python === null)('files the lab writes load in numpy with the same values', () => {
    const dir = mkdtempSync(join(tmpdir(), 'npz-'));
    try {
      writeFileSync(join(dir, 'a.npz'), writeNpz(arrays, { compress: true }));
      writeFileSync(join(dir, 'b.npy'), writeNpy(arrays.a!));
      const script = `import numpy as np, json, sys
z = np.load(sys.argv[1] + '/a.npz', allow_pickle=False)
b = np.load(sys.argv[1] + '/b.npy', allow_pickle=False)
out = {k: {'dtype': z[k].dtype.name, 'shape': list(z[k].shape), 'v': [repr(x) for x in z[k].reshape(-1).tolist()]} for k in z.files}
out['npy'] = {'dtype': b.dtype.name, 'shape': list(b.shape), 'v': [repr(x) for x in b.reshape(-1).tolist()]}
print(json.dumps(out))`;
      const r = spawnSync(python!, ['-c', script, dir], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout);
      expect(out.a).toEqual({ dtype: 'float64', shape: [2, 3], v: ['1.0', '2.0', '3.0', '4.5', '-0.0', 'nan'] });
      expect(out.npy).toEqual(out.a);
      expect(out.b.dtype).toBe('float32');
      expect(out.c.v).toEqual([String(-(2n ** 62n)), String(2n ** 62n + 1n)]);
      expect(out.d).toEqual({ dtype: 'int32', shape: [], v: ['-7'] });
      expect(out.m).toEqual({ dtype: 'bool', shape: [2, 2], v: ['True', 'False', 'False', 'True'] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

it('fixture set is complete (every file is described in the manifest)', () => {
  const described = new Set([...Object.keys(manifest.npy), ...Object.keys(manifest.npz), ...Object.keys(manifest.refused), 'manifest.json', 'snapshot_f32_fortran.npz']);
  for (const f of readdirSync(DIR)) expect(described.has(f), f).toBe(true);
});
