/**
 * Saved checkpoints in a Store (IndexedDB in the browser): the bundle bytes exactly as
 * downloaded, keyed by content hash, plus a small index for listing. Every bundle is decoded
 * (and so fully verified) before it is stored, and bytes and index land in one setMany, so a
 * failed write leaves the library as it was.
 */
import type { Store } from '../store/store.ts';
import { decodeCheckpoint, type LoadedCheckpoint } from './checkpoint.ts';

export interface CheckpointEntry {
  hash: string;
  name: string;
  created: string;
  mode: string;
  epochs: number;
  grid: { kGrid: number[]; tGrid: number[] };
  bytes: number;
  /** Validation / evaluation R² per parameter, where the checkpoint carries them. */
  r2: Record<string, number> | null;
  savedAt: number;
  /** Where it came from: "trained", "file:name.hlckpt", "url:…", "bundled". */
  origin: string;
}

const INDEX = 'index';
const key = (hash: string) => `bundle/${hash}`;

function r2Of(ck: LoadedCheckpoint): Record<string, number> | null {
  const ev = ck.metrics.evaluation as { r2?: Record<string, number> } | undefined;
  const val = ck.metrics.val_r2 as Record<string, number> | null | undefined;
  return ev?.r2 ?? val ?? null;
}

export class CheckpointLibrary {
  private queue: Promise<unknown> = Promise.resolve();
  constructor(private readonly store: Store) {}

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  async list(): Promise<CheckpointEntry[]> {
    await this.queue;
    const idx = (await this.store.get<CheckpointEntry[]>(INDEX)) ?? [];
    return [...idx].sort((a, b) => b.savedAt - a.savedAt);
  }

  /** Verifies and stores a bundle; returns its entry (the existing one for a duplicate). */
  async add(bytes: Uint8Array, origin: string, fileName = origin): Promise<CheckpointEntry> {
    const ck = await decodeCheckpoint(bytes, fileName);
    return this.exclusive(async () => {
      const idx = (await this.store.get<CheckpointEntry[]>(INDEX)) ?? [];
      const dup = idx.find((e) => e.hash === ck.hash);
      if (dup) return dup;
      const entry: CheckpointEntry = {
        hash: ck.hash,
        name: ck.name,
        created: ck.created,
        mode: ck.provenance.mode,
        epochs: ck.provenance.epochs,
        grid: ck.grid,
        bytes: bytes.length,
        r2: r2Of(ck),
        savedAt: Date.now(),
        origin,
      };
      await this.store.setMany([
        [key(ck.hash), bytes],
        [INDEX, [...idx, entry]],
      ]);
      return entry;
    });
  }

  async bytes(hash: string): Promise<Uint8Array | undefined> {
    return this.store.get<Uint8Array>(key(hash));
  }

  async load(hash: string): Promise<LoadedCheckpoint | undefined> {
    const b = await this.bytes(hash);
    return b ? decodeCheckpoint(b, `stored checkpoint ${hash.slice(0, 12)}`) : undefined;
  }

  async delete(hash: string): Promise<void> {
    await this.exclusive(async () => {
      const idx = (await this.store.get<CheckpointEntry[]>(INDEX)) ?? [];
      await this.store.set(INDEX, idx.filter((e) => e.hash !== hash));
      await this.store.delete(key(hash));
    });
  }
}
