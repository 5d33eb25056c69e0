import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import { FileStore, fileNameToKey, keyToFileName } from '../../src/core/store/files.ts';
import { checkStore } from '../../src/core/store/check.ts';
import { seal, unseal, STORE_SCHEMA_VERSION } from '../../src/core/store/schema.ts';
import { QuotaError, namespaced } from '../../src/core/store/store.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'heston-lab-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A disk that fills up after `okWrites` temp files: writes half the bytes, then ENOSPC. */
function fullDiskAfter(okWrites: number) {
  let n = 0;
  return async (path: string, data: Uint8Array) => {
    if (n++ < okWrites) return writeFile(path, data, { flag: 'wx' });
    await writeFile(path, data.subarray(0, data.length >> 1), { flag: 'wx' });
    throw Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC' });
  };
}

describe('FileStore', () => {
  it('round-trips typed arrays, dates and maps, and lists keys by prefix, sorted', async () => {
    const s = new FileStore(dir);
    const iv = Float64Array.from([0.55, Number.NaN, 1e-300]);
    await s.set('surfaces/b', { iv, when: new Date(5), m: new Map([['k', 1]]) });
    await s.set('surfaces/a', 1);
    await s.set('runs/x', 'y');
    const got = await s.get<{ iv: Float64Array; when: Date; m: Map<string, number> }>('surfaces/b');
    expect(got!.iv).toBeInstanceOf(Float64Array);
    expect(Object.is(got!.iv[1], Number.NaN)).toBe(true);
    expect([...got!.iv]).toEqual([...iv]);
    expect(got!.when.getTime()).toBe(5);
    expect(got!.m.get('k')).toBe(1);
    expect(await s.keys('surfaces/')).toEqual(['surfaces/a', 'surfaces/b']);
    expect(await s.keys()).toEqual(['runs/x', 'surfaces/a', 'surfaces/b']);
    expect(await s.get('nope')).toBeUndefined();
    // A fresh instance on the same directory sees the same data (it is on disk, not in memory).
    expect(await new FileStore(dir).get('runs/x')).toBe('y');
  });

  it('keeps keys that differ only in case or in odd characters apart, and inside the directory', async () => {
    const s = new FileStore(dir);
    const keys = ['A', 'a', '../escape', 'x/y', 'x%2Fy', '.', '..', 'ünï cödé ✓'];
    for (const [i, k] of keys.entries()) await s.set(k, i);
    for (const [i, k] of keys.entries()) expect(await s.get(k)).toBe(i);
    expect(await s.keys()).toEqual([...keys].sort());
    expect(readdirSync(dir).length).toBe(keys.length);
    for (const k of keys) expect(fileNameToKey(keyToFileName(k))).toBe(k);
  });

  it('works through namespaced()', async () => {
    const s = namespaced(new FileStore(dir), 'ckpt');
    await s.set('m1', 1);
    expect(await s.keys()).toEqual(['m1']);
    expect(readdirSync(dir)).toEqual([keyToFileName('ckpt/m1')]);
  });

  it('a full disk raises QuotaError, keeps the old value and leaves no temporary files', async () => {
    await new FileStore(dir).set('k', { v: 1 });
    const s = new FileStore(dir, { writeFile: fullDiskAfter(0) });
    const err = await s.set('k', { v: 2, big: new Float64Array(1000) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QuotaError);
    expect((err as Error).message).toContain('could not save k');
    expect(await s.get('k')).toEqual({ v: 1 });
    expect(readdirSync(dir)).toEqual([keyToFileName('k')]);
  });

  it('setMany is all-or-nothing when the disk fills mid-way', async () => {
    const ok = new FileStore(dir);
    await ok.setMany([
      ['a', 1],
      ['b', 2],
    ]);
    const s = new FileStore(dir, { writeFile: fullDiskAfter(2) });
    await expect(
      s.setMany([
        ['a', 10],
        ['b', 20],
        ['c', 30],
      ]),
    ).rejects.toBeInstanceOf(QuotaError);
    expect([await ok.get('a'), await ok.get('b'), await ok.get('c')]).toEqual([1, 2, undefined]);
    expect(readdirSync(dir).sort()).toEqual([keyToFileName('a'), keyToFileName('b')].sort());
  });

  it('refuses a value it cannot serialise without touching the old one', async () => {
    const s = new FileStore(dir);
    await s.set('k', 1);
    await expect(s.set('k', { f: () => 1 })).rejects.toThrow(/^k: cannot store this value/);
    expect(await s.get('k')).toBe(1);
  });

  it('reports an unreadable or foreign file by key instead of returning garbage', async () => {
    const s = new FileStore(dir);
    writeFileSync(join(dir, keyToFileName('junk')), 'not v8 data');
    await expect(s.get('junk')).rejects.toThrow(/^junk: stored file .* is unreadable/);
    writeFileSync(join(dir, keyToFileName('raw')), serialize({ no: 'envelope' }));
    await expect(s.get('raw')).rejects.toThrow('raw: stored value has no schema version');
  });

  it('passes the same storage check the Diagnostics page runs on IndexedDB', async () => {
    const r = await checkStore({ store: new FileStore(dir), failingStore: new FileStore(dir, { writeFile: fullDiskAfter(1) }) });
    expect(r.steps.filter((s) => !s.ok)).toEqual([]);
    expect(r.steps.length).toBe(4);
  });
});

describe('schema envelope', () => {
  it('migrates values written under an older schema, step by step', async () => {
    const migrations = {
      1: (v: unknown) => ({ ...(v as object), addedIn2: true }),
      2: (v: unknown) => ({ ...(v as object), addedIn3: true }),
    };
    expect(unseal('k', seal({ a: 1 }, 1), migrations, 3)).toEqual({ a: 1, addedIn2: true, addedIn3: true });
    // A migration registered for an older schema never touches values already at the current one.
    const s = new FileStore(dir, { migrations: { [STORE_SCHEMA_VERSION - 1]: () => 'migrated' } });
    await s.set('current', { a: 1 });
    expect(await s.get('current')).toEqual({ a: 1 });
  });

  it('refuses newer or unmigratable schemas with a message naming the key', () => {
    expect(() => unseal('surfaces/x', seal(1, STORE_SCHEMA_VERSION + 1))).toThrow(`surfaces/x: written by a newer Heston Lab (schema ${STORE_SCHEMA_VERSION + 1}`);
    expect(() => unseal('surfaces/y', seal(1, 0))).toThrow('surfaces/y: written under schema 0, which this version');
  });
});
