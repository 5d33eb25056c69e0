/**
 * A file tree, as the tracking layer sees one: MLflow's FileStore layout lives on it (layout.ts).
 * Three implementations: a directory on disk (fileTree.ts, Node only), the lab's Store
 * (StoreTree: IndexedDB in the browser, so an export is a copy of what is stored) and memory
 * (MemoryTree: zips on their way in or out, tests).
 *
 * Paths are '/'-separated and relative to the tree's root. write() replaces a file atomically (a
 * failed write leaves the previous bytes); appendMany() adds bytes at the end of several files at
 * once (metric lines) — atomically as a batch where the medium allows (Store: one transaction).
 */
import type { Store } from '../store/store.ts';

export interface TreeEntry {
  name: string;
  isDir: boolean;
}

export interface TreeIo {
  read(path: string): Promise<Uint8Array | undefined>;
  write(path: string, bytes: Uint8Array): Promise<void>;
  appendMany(entries: [string, Uint8Array][]): Promise<void>;
  /** Children of a folder, sorted by name; [] when it does not exist. */
  list(dir: string): Promise<TreeEntry[]>;
  /** Removes a file or a whole folder. */
  remove(path: string): Promise<void>;
  /** Runs fn while holding a named lock shared with every writer of this tree. */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Picks up files written by someone else since the tree was opened (no-op on disk). */
  refresh?(): Promise<void>;
}

export const utf8 = new TextEncoder();
export const fromUtf8 = (b: Uint8Array) => new TextDecoder('utf-8').decode(b);

export function joinPath(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}

/** Folder → children names, kept in step with the files of a flat key-value tree. */
class PathIndex {
  private readonly dirs = new Map<string, Set<string>>();
  private readonly files = new Set<string>();

  add(path: string): void {
    if (this.files.has(path)) return;
    this.files.add(path);
    const parts = path.split('/');
    for (let i = 0; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      let set = this.dirs.get(dir);
      if (!set) this.dirs.set(dir, (set = new Set()));
      set.add(parts[i]);
    }
  }

  has(path: string): boolean {
    return this.files.has(path);
  }

  /** Every file at or under path. */
  under(path: string): string[] {
    return [...this.files].filter((f) => f === path || f.startsWith(path + '/') || path === '');
  }

  list(dir: string): TreeEntry[] {
    const set = this.dirs.get(dir);
    if (!set) return [];
    return [...set].sort().map((name) => ({ name, isDir: this.dirs.has(joinPath(dir, name)) }));
  }

  clear(): void {
    this.dirs.clear();
    this.files.clear();
  }

  rebuild(paths: Iterable<string>): void {
    this.clear();
    for (const p of paths) this.add(p);
  }
}

interface WebLocks {
  request<T>(name: string, cb: () => Promise<T>): Promise<T>;
}

/**
 * The Web Locks API where there is one (every tab and worker of the origin shares its locks, so a
 * page and a worker creating the same experiment at once end up with one), else an in-process mutex.
 */
export function originLocks() {
  const locks = (globalThis as { navigator?: { locks?: WebLocks } }).navigator?.locks;
  const local = inProcessLocks();
  if (!locks || typeof locks.request !== 'function') return local;
  return <T>(name: string, fn: () => Promise<T>): Promise<T> => locks.request(`heston-lab/tracking/${name}`, fn);
}

/** An in-process mutex per lock name (a page, a worker or one Node process). */
export function inProcessLocks() {
  const tails = new Map<string, Promise<unknown>>();
  return async function withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const prev = tails.get(name) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    tails.set(name, run.catch(() => undefined));
    return run;
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export class MemoryTree implements TreeIo {
  readonly files = new Map<string, Uint8Array>();
  private readonly index = new PathIndex();
  readonly withLock = inProcessLocks();

  constructor(files?: Iterable<[string, Uint8Array]>) {
    if (files) for (const [p, b] of files) this.put(p, b);
  }

  private put(path: string, bytes: Uint8Array) {
    this.files.set(path, bytes.slice());
    this.index.add(path);
  }

  async read(path: string) {
    const b = this.files.get(path);
    return b?.slice();
  }
  async write(path: string, bytes: Uint8Array) {
    this.put(path, bytes);
  }
  async appendMany(entries: [string, Uint8Array][]) {
    for (const [p, b] of entries) this.put(p, concat([this.files.get(p) ?? new Uint8Array(0), b]));
  }
  async list(dir: string) {
    return this.index.list(dir);
  }
  async remove(path: string) {
    for (const f of this.index.under(path)) this.files.delete(f);
    this.index.rebuild(this.files.keys());
  }
}

/** A file's first part in a StoreTree: its bytes, and the last appended chunk they already hold. */
interface StoredHead {
  bytes: Uint8Array;
  /** Chunks with seq ≤ through are inside `bytes` (a compaction folded them in); -1: none. */
  through: number;
}

/** Fold a file's appended chunks into its head once there are this many (reads cost one get per chunk). */
const COMPACT_CHUNKS = 32;

/**
 * The tree inside a Store (keys under the store's namespace): a file is `f/<path>` → its head
 * {bytes, through}; an append adds a chunk `a/<path>\0<seq>` instead of rewriting the file, so
 * logging metric points costs one small write however long the history is, and a write refused
 * for quota (QuotaError, nothing changed) never touches what was stored before. Reading a file
 * with many chunks folds them into its head in ONE write (the head records the last chunk it
 * holds, so a crash before the old chunks are deleted duplicates nothing). Chunks never change
 * once written, so they are cached.
 */
export class StoreTree implements TreeIo {
  private readonly index = new PathIndex();
  /** path → seqs of its chunks, ascending. */
  private readonly chunks = new Map<string, number[]>();
  private readonly chunkCache = new Map<string, Uint8Array>();
  private loaded = false;
  readonly withLock = originLocks();

  constructor(private readonly store: Store) {}

  async refresh(): Promise<void> {
    const keys = await this.store.keys('');
    const paths = new Set<string>();
    this.chunks.clear();
    for (const k of keys) {
      if (k.startsWith('f/')) paths.add(k.slice(2));
      else if (k.startsWith('a/')) {
        const [p, seq] = k.slice(2).split('\0');
        paths.add(p);
        let list = this.chunks.get(p);
        if (!list) this.chunks.set(p, (list = []));
        list.push(Number(seq));
      }
    }
    for (const list of this.chunks.values()) list.sort((a, b) => a - b);
    this.index.rebuild(paths);
    this.loaded = true;
  }

  private async ready() {
    if (!this.loaded) await this.refresh();
  }

  private chunkKey(path: string, seq: number) {
    return `a/${path}\0${String(seq).padStart(9, '0')}`;
  }

  private nextSeq(path: string): number {
    const list = this.chunks.get(path);
    return list && list.length ? list[list.length - 1] + 1 : 0;
  }

  async read(path: string): Promise<Uint8Array | undefined> {
    await this.ready();
    if (!this.index.has(path)) return undefined;
    const head = await this.store.get<StoredHead>(`f/${path}`);
    const through = head?.through ?? -1;
    const seqs = (this.chunks.get(path) ?? []).filter((s) => s > through);
    const parts: Uint8Array[] = head ? [head.bytes] : [];
    for (const seq of seqs) {
      const key = this.chunkKey(path, seq);
      let c = this.chunkCache.get(key);
      if (!c) {
        c = await this.store.get<Uint8Array>(key);
        if (c) this.chunkCache.set(key, c);
      }
      if (c) parts.push(c);
    }
    const bytes = concat(parts);
    if (seqs.length >= COMPACT_CHUNKS) await this.compact(path, bytes, seqs[seqs.length - 1]).catch(() => undefined);
    return bytes;
  }

  /**
   * Drops chunks a head already holds, except the newest: its key keeps the sequence going
   * after a refresh (a new chunk must get a seq above `through`, or reads would skip it).
   */
  private async dropFolded(path: string, through: number): Promise<void> {
    const all = this.chunks.get(path) ?? [];
    const folded = all.filter((s) => s <= through);
    for (const seq of folded.slice(0, -1)) {
      const key = this.chunkKey(path, seq);
      await this.store.delete(key);
      this.chunkCache.delete(key);
    }
    this.chunks.set(path, [...folded.slice(-1), ...all.filter((s) => s > through)]);
  }

  private async compact(path: string, bytes: Uint8Array, through: number): Promise<void> {
    await this.store.set(`f/${path}`, { bytes, through } satisfies StoredHead);
    await this.dropFolded(path, through);
  }

  async write(path: string, bytes: Uint8Array): Promise<void> {
    await this.ready();
    // The new head replaces earlier appends too: it claims every chunk so far.
    const through = this.nextSeq(path) - 1;
    await this.store.set(`f/${path}`, { bytes: bytes.slice(), through } satisfies StoredHead);
    this.index.add(path);
    await this.dropFolded(path, through);
  }

  async appendMany(entries: [string, Uint8Array][]): Promise<void> {
    await this.ready();
    const seqs = new Map<string, number[]>();
    const writes: [string, unknown][] = entries.map(([p, b]) => {
      const mine = seqs.get(p) ?? [];
      const seq = mine.length ? mine[mine.length - 1] + 1 : this.nextSeq(p);
      mine.push(seq);
      seqs.set(p, mine);
      return [this.chunkKey(p, seq), b.slice()];
    });
    // One transaction: a QuotaError leaves every chunk stored before, and none of these.
    await this.store.setMany(writes);
    for (const [p, added] of seqs) {
      this.chunks.set(p, [...(this.chunks.get(p) ?? []), ...added]);
      this.index.add(p);
    }
  }

  async list(dir: string): Promise<TreeEntry[]> {
    await this.ready();
    return this.index.list(dir);
  }

  async remove(path: string): Promise<void> {
    await this.ready();
    for (const f of this.index.under(path)) {
      await this.store.delete(`f/${f}`);
      for (const seq of this.chunks.get(f) ?? []) await this.store.delete(this.chunkKey(f, seq));
    }
    await this.refresh();
  }
}
