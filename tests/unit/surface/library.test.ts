import { describe, expect, it } from 'vitest';
import { MemoryStore, QuotaError, namespaced, type Store } from '../../../src/core/store/store.ts';
import { SurfaceLibrary, importedSurfaceName, surfaceFileStem, surfaceHash } from '../../../src/core/surface/library.ts';
import type { Surface } from '../../../src/core/surface/types.ts';
import { InputError } from '../../../src/core/errors.ts';

function surf(level: number, source = 'deribit:BTC'): Surface {
  return {
    kGrid: [-0.2, 0, 0.2],
    tGrid: [0.1, 0.5],
    iv: Float64Array.from({ length: 6 }, (_, i) => level + 0.01 * i),
    mask: Uint8Array.of(0, 0, 0, 0, 1, 0),
    spot: 100,
    timestamp: Date.UTC(2024, 0, 1),
    source,
  };
}

/** A store whose writes fail with QuotaError once `full` is set (as IndexedDB does when full). */
class FullStore extends MemoryStore {
  full = false;
  override async set(k: string, v: unknown) {
    if (this.full) throw new QuotaError(k);
    return super.set(k, v);
  }
  override async setMany(e: [string, unknown][]) {
    if (this.full) throw new QuotaError(e[0]![0]);
    return super.setMany(e);
  }
}

describe('SurfaceLibrary', () => {
  it('adds, lists (metadata only), gets, renames, tags and deletes', async () => {
    let t = 1000;
    const lib = new SurfaceLibrary(namespaced(new MemoryStore(), 'surfaces'), { now: () => t++ });
    const a = await lib.add(surf(0.5), { name: 'A', tags: ['btc', ' real ', 'btc'] });
    const b = await lib.add(surf(0.3, 'synthetic:heston'));
    const list = await lib.list();
    expect(list.map((e) => e.id)).toEqual([b, a]); // newest first
    expect(list[1]).toMatchObject({ name: 'A', tags: ['btc', 'real'], synthetic: false, nk: 3, nt: 2, masked: 1, ivMin: 0.5 });
    expect(list[1]!.ivMax).toBeCloseTo(0.55, 15);
    expect(list[0]!.synthetic).toBe(true);
    expect(list[1]!.thumb.iv.length).toBe(6);
    expect(Number.isNaN(list[1]!.thumb.iv[4]!)).toBe(true);
    const got = await lib.get(a);
    expect(Array.from(got!.iv)).toEqual(Array.from(surf(0.5).iv));
    await lib.rename(a, 'BTC close');
    await lib.setTags(a, ['x']);
    expect((await lib.get(a))!.name).toBe('BTC close');
    expect((await lib.entry(a))!.tags).toEqual(['x']);
    await lib.delete(a);
    expect((await lib.list()).map((e) => e.id)).toEqual([b]);
    expect(await lib.get(a)).toBeUndefined();
    await expect(lib.rename(a, 'y')).rejects.toThrow(InputError);
    await expect(lib.rename(b, '  ')).rejects.toThrow(/name cannot be empty/);
  });

  it('persists: a second library over the same store sees the entries', async () => {
    const store = new MemoryStore();
    const id = await new SurfaceLibrary(namespaced(store, 's')).add(surf(0.4), { name: 'kept' });
    const again = new SurfaceLibrary(namespaced(store, 's'));
    expect((await again.list()).map((e) => e.name)).toEqual(['kept']);
    expect((await again.get(id))!.spot).toBe(100);
  });

  it('never stores a duplicate (same content, or same dedupKey)', async () => {
    const store = new MemoryStore();
    const lib = new SurfaceLibrary(store);
    const id = await lib.add(surf(0.4), { dedupKey: 'deribit:BTC:1' });
    expect(await lib.addEntry(surf(0.4))).toEqual({ id, duplicate: true });
    expect(await lib.addEntry(surf(0.45), { dedupKey: 'deribit:BTC:1' })).toEqual({ id, duplicate: true });
    expect((await lib.list()).length).toBe(1);
    expect((await store.keys()).length).toBe(2);
    expect(surfaceHash(surf(0.4))).not.toBe(surfaceHash(surf(0.41)));
  });

  it('serialises concurrent adds (no entry lost from the index)', async () => {
    const lib = new SurfaceLibrary(new MemoryStore());
    await Promise.all(Array.from({ length: 10 }, (_, i) => lib.add(surf(0.2 + i / 100))));
    expect((await lib.list()).length).toBe(10);
  });

  it('reports a full store without losing or half-writing anything', async () => {
    const store = new FullStore();
    const lib = new SurfaceLibrary(store);
    const id = await lib.add(surf(0.4), { name: 'first' });
    store.full = true;
    await expect(lib.add(surf(0.5))).rejects.toThrow(QuotaError);
    await expect(lib.rename(id, 'renamed')).rejects.toThrow(QuotaError);
    expect((await lib.list()).map((e) => e.name)).toEqual(['first']);
    expect((await store.keys()).sort()).toEqual(['index', `surface/${id}`]);
    const fresh = new SurfaceLibrary(store);
    expect((await fresh.list()).map((e) => e.name)).toEqual(['first']);
    store.full = false;
    await lib.add(surf(0.5)); // usable again once space is freed
    expect((await lib.list()).length).toBe(2);
  });

  it('refuses an invalid surface with the problem named', async () => {
    const bad = surf(0.4);
    bad.iv[0] = -1;
    await expect(new SurfaceLibrary(new MemoryStore()).add(bad, { name: 'bad one' })).rejects.toThrow(/bad one: iv_surface: row 0.*must be > 0/);
  });

  it('seeds the bundled samples once', async () => {
    const store = new MemoryStore();
    const lib = new SurfaceLibrary(store);
    const load = async () => [{ surface: surf(0.3, 'synthetic:heston'), meta: { name: 'sample', synthetic: true } }];
    expect(await lib.seedOnce(load)).toBe(1);
    await lib.delete((await lib.list())[0]!.id);
    expect(await lib.seedOnce(load)).toBe(0);
    expect(await lib.list()).toEqual([]);
  });
});

describe('library file names', () => {
  const s = (name?: string): Surface => ({ kGrid: [0], tGrid: [0.1], iv: new Float64Array([0.5]), spot: 1, timestamp: Date.UTC(2024, 0, 1), source: 't', ...(name ? { name } : {}) });
  it('names an imported surface after itself, else after its file without the extension', () => {
    expect(importedSurfaceName(s('mine'), 'x.npz')).toBe('mine');
    expect(importedSurfaceName(s(), 'BTC_iv_1.NPZ')).toBe('BTC_iv_1');
    expect(importedSurfaceName(s(), 'book.summary.csv')).toBe('book.summary');
  });
  it('makes download names safe on every OS', () => {
    expect(surfaceFileStem(s('deribit BTC 2024-12-20 08:00Z'), 'id1')).toBe('deribit_BTC_2024-12-20_08_00Z');
    expect(surfaceFileStem(s(), 'id1')).toBe('id1');
  });
});
