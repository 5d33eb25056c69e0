/**
 * The surface library: named, tagged surfaces kept in a Store (IndexedDB in the browser, files in
 * Node, memory in tests), under the namespace it is given.
 *
 * Layout: `index` holds every entry's metadata and a small summary (enough for the list and a
 * thumbnail), `surface/<id>` holds the surface itself. add() writes both with one setMany, so an
 * entry and its index land together or not at all; a QuotaError propagates and the in-memory
 * view is only updated after the write succeeded. delete() first removes the entry from the
 * index (the surface disappears from the list at once) and then its data, so a failure halfway
 * leaves at worst an unlisted orphan, never a listed entry without data.
 *
 * Duplicates: every entry records a content hash (grids, vols, mask, spot, timestamp). add()
 * returns the existing id instead of storing a copy when the hash — or the caller's dedupKey,
 * e.g. "deribit:BTC:1700000000000" — is already present.
 */
import { InputError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import type { Surface } from './types.ts';
import { ivRange, maskedCount, validateSurface } from './validate.ts';

export interface LibraryEntry {
  id: string;
  name: string;
  tags: string[];
  /** True for generated surfaces (shown with a "synthetic" label). */
  synthetic: boolean;
  source: string;
  /** The surface's own timestamp (ms). */
  timestamp: number;
  /** When it entered the library (ms). */
  addedAt: number;
  hash: string;
  dedupKey?: string;
  nk: number;
  nt: number;
  kGrid: number[];
  tGrid: number[];
  ivMin: number;
  ivMax: number;
  masked: number;
  spot: number;
  /** Vols downsampled to at most 8 × 8 (NaN where masked), row-major, for list thumbnails. */
  thumb: { nk: number; nt: number; iv: number[] };
}

export interface AddMeta {
  name?: string;
  tags?: string[];
  synthetic?: boolean;
  dedupKey?: string;
}

const INDEX = 'index';
const SEEDED = 'seeded';
const dataKey = (id: string) => `surface/${id}`;

/** The library name of a file's surface: the name it carries, else the file name without extension. */
export function importedSurfaceName(s: Surface, fileName: string): string {
  return s.name ?? fileName.replace(/\.(npz|csv|tsv|txt)$/i, '');
}

/** A file name stem safe on every OS for a surface's download. */
export function surfaceFileStem(s: Surface, fallback: string): string {
  return (s.name ?? fallback).replace(/[^\w.-]+/g, '_');
}

/** 53-bit content hash (cyrb53) of the bytes that define a surface; hex. */
export function surfaceHash(s: Surface): string {
  const parts: ArrayBufferView[] = [Float64Array.from(s.kGrid), Float64Array.from(s.tGrid), s.iv, s.mask ?? new Uint8Array(0), Float64Array.of(s.spot, s.timestamp)];
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (const p of parts) {
    const u = new Uint8Array(p.buffer, p.byteOffset, p.byteLength);
    for (let i = 0; i < u.length; i++) {
      h1 = Math.imul(h1 ^ u[i]!, 2654435761);
      h2 = Math.imul(h2 ^ u[i]!, 1597334677);
    }
    h1 = Math.imul(h1 ^ 0x9e37, 2246822507);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}

export function thumbnail(s: Surface, max = 8): LibraryEntry['thumb'] {
  const nk = s.kGrid.length;
  const nt = s.tGrid.length;
  const rk = Math.min(nk, max);
  const rt = Math.min(nt, max);
  const iv: number[] = [];
  for (let a = 0; a < rk; a++) {
    const i = rk === 1 ? 0 : Math.round((a * (nk - 1)) / (rk - 1));
    for (let b = 0; b < rt; b++) {
      const j = rt === 1 ? 0 : Math.round((b * (nt - 1)) / (rt - 1));
      const idx = i * nt + j;
      iv.push(s.mask?.[idx] === 1 ? NaN : s.iv[idx]!);
    }
  }
  return { nk: rk, nt: rt, iv };
}

function cleanTags(tags: readonly string[]): string[] {
  return [...new Set(tags.map((t) => String(t).trim()).filter(Boolean))].sort();
}

export class SurfaceLibrary {
  private readonly store: Store;
  private index: LibraryEntry[] | undefined;
  /** Serialises read-modify-write of the index within this page / process. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;

  constructor(store: Store, opts: { now?: () => number } = {}) {
    this.store = store;
    this.now = opts.now ?? Date.now;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async loadIndex(): Promise<LibraryEntry[]> {
    if (!this.index) this.index = (await this.store.get<LibraryEntry[]>(INDEX)) ?? [];
    return this.index;
  }

  /** Every entry, newest first, without loading any vols. */
  async list(): Promise<LibraryEntry[]> {
    await this.queue;
    const idx = await this.loadIndex();
    return [...idx].sort((a, b) => b.addedAt - a.addedAt || a.name.localeCompare(b.name));
  }

  async entry(id: string): Promise<LibraryEntry | undefined> {
    return (await this.list()).find((e) => e.id === id);
  }

  /** Adds a surface (validated first); returns its id, or the existing id for a duplicate. */
  async add(surface: Surface, meta: AddMeta = {}): Promise<string> {
    return (await this.addEntry(surface, meta)).id;
  }

  async addEntry(surface: Surface, meta: AddMeta = {}): Promise<{ id: string; duplicate: boolean }> {
    validateSurface(surface, meta.name ?? surface.name ?? surface.source);
    return this.exclusive(async () => {
      const idx = await this.loadIndex();
      const hash = surfaceHash(surface);
      const dup = idx.find((e) => e.hash === hash || (meta.dedupKey !== undefined && e.dedupKey === meta.dedupKey));
      if (dup) return { id: dup.id, duplicate: true };
      const addedAt = this.now();
      let id = `${addedAt.toString(36)}-${hash.slice(-8)}`;
      while (idx.some((e) => e.id === id)) id += 'x';
      const { min, max } = ivRange(surface);
      const entry: LibraryEntry = {
        id,
        name: (meta.name ?? surface.name ?? surface.source).trim() || id,
        tags: cleanTags(meta.tags ?? []),
        synthetic: meta.synthetic ?? surface.source.startsWith('synthetic'),
        source: surface.source,
        timestamp: surface.timestamp,
        addedAt,
        hash,
        nk: surface.kGrid.length,
        nt: surface.tGrid.length,
        kGrid: [...surface.kGrid],
        tGrid: [...surface.tGrid],
        ivMin: min,
        ivMax: max,
        masked: maskedCount(surface),
        spot: surface.spot,
        thumb: thumbnail(surface),
      };
      if (meta.dedupKey !== undefined) entry.dedupKey = meta.dedupKey;
      const record: Surface = { ...surface, name: entry.name };
      const next = [...idx, entry];
      await this.store.setMany([
        [dataKey(id), record],
        [INDEX, next],
      ]);
      this.index = next;
      return { id, duplicate: false };
    });
  }

  /** The surface, with the library's current name; undefined when the id is unknown. */
  async get(id: string): Promise<Surface | undefined> {
    const e = await this.entry(id);
    if (!e) return undefined;
    const s = await this.store.get<Surface>(dataKey(id));
    return s ? { ...s, name: e.name } : undefined;
  }

  private async update(id: string, patch: (e: LibraryEntry) => LibraryEntry): Promise<void> {
    await this.exclusive(async () => {
      const idx = await this.loadIndex();
      const at = idx.findIndex((e) => e.id === id);
      if (at < 0) throw new InputError(`no surface with id "${id}" in the library`);
      const next = [...idx];
      next[at] = patch(idx[at]!);
      await this.store.set(INDEX, next);
      this.index = next;
    });
  }

  async rename(id: string, name: string): Promise<void> {
    const n = name.trim();
    if (!n) throw new InputError('a name cannot be empty', 'name');
    await this.update(id, (e) => ({ ...e, name: n }));
  }

  async setTags(id: string, tags: string[]): Promise<void> {
    await this.update(id, (e) => ({ ...e, tags: cleanTags(tags) }));
  }

  async delete(id: string): Promise<void> {
    await this.exclusive(async () => {
      const idx = await this.loadIndex();
      if (!idx.some((e) => e.id === id)) return;
      const next = idx.filter((e) => e.id !== id);
      await this.store.set(INDEX, next);
      this.index = next;
      await this.store.delete(dataKey(id));
    });
  }

  /**
   * On the very first open, fills the library with the bundled samples (`load` fetches them).
   * Runs once per store: deleting the samples later does not bring them back.
   */
  async seedOnce(load: () => Promise<{ surface: Surface; meta: AddMeta }[]>): Promise<number> {
    if (await this.store.get(SEEDED)) return 0;
    const samples = await load();
    let added = 0;
    for (const { surface, meta } of samples) {
      const r = await this.addEntry(surface, meta);
      if (!r.duplicate) added++;
    }
    await this.store.set(SEEDED, true);
    return added;
  }
}
