/**
 * One persistence interface for the whole lab. The browser uses IndexedDB (idb.ts), the CLI a
 * directory of files (files.ts), tests memory (this file). Values are anything structured-clone
 * can carry (typed arrays included). Implementations must make set() atomic per key: a failed
 * write leaves the previous value readable.
 */
export interface Store {
  get<T = unknown>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  /** Writes several keys so that either all land or none does. */
  setMany(entries: [string, unknown][]): Promise<void>;
  delete(key: string): Promise<void>;
  /** Keys starting with prefix, sorted. */
  keys(prefix?: string): Promise<string[]>;
}

/** Raised when the browser or disk refuses a write for lack of space; nothing was changed. */
export class QuotaError extends Error {
  constructor(what: string, cause?: unknown) {
    super(`storage is full: could not save ${what}. Nothing already stored was changed; delete surfaces or checkpoints you no longer need, or export them first.`);
    this.name = 'QuotaError';
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}

/** A view of `store` in which every key lives under `namespace/`. */
export function namespaced(store: Store, namespace: string): Store {
  const p = `${namespace}/`;
  return {
    get: (k) => store.get(p + k),
    set: (k, v) => store.set(p + k, v),
    setMany: (entries) => store.setMany(entries.map(([k, v]) => [p + k, v])),
    delete: (k) => store.delete(p + k),
    keys: async (prefix = '') => (await store.keys(p + prefix)).map((k) => k.slice(p.length)),
  };
}

export class MemoryStore implements Store {
  private readonly map = new Map<string, unknown>();
  async get<T>(key: string): Promise<T | undefined> {
    return this.map.has(key) ? (structuredClone(this.map.get(key)) as T) : undefined;
  }
  async set(key: string, value: unknown): Promise<void> {
    this.map.set(key, structuredClone(value));
  }
  async setMany(entries: [string, unknown][]): Promise<void> {
    const cloned = entries.map(([k, v]) => [k, structuredClone(v)] as const);
    for (const [k, v] of cloned) this.map.set(k, v);
  }
  async delete(key: string): Promise<void> {
    this.map.delete(key);
  }
  async keys(prefix = ''): Promise<string[]> {
    return [...this.map.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
}
