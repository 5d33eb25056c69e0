/**
 * The browser's Store: idb-keyval on one object store ('heston-lab' / 'kv'). Keys are strings
 * (namespace them with namespaced() from store.ts); values are structured clones wrapped in a
 * schema envelope (schema.ts). setMany is one IndexedDB transaction, so it lands whole or not at
 * all; a write refused for lack of space surfaces as QuotaError and, because the transaction is
 * rolled back, leaves everything stored before intact.
 */
import { createStore, del, get, keys, set, setMany, type UseStore } from 'idb-keyval';
import { QuotaError, type Store } from './store.ts';
import { seal, unseal, type Migrations } from './schema.ts';
import { checkStore } from './check.ts';

export interface IdbStoreOptions {
  dbName?: string;
  storeName?: string;
  /** A custom idb-keyval store (used by the storage check to inject a failing write). */
  useStore?: UseStore;
  migrations?: Migrations;
}

function isQuotaError(e: unknown): boolean {
  const name = (e as { name?: string })?.name;
  // Firefox used NS_ERROR_DOM_QUOTA_REACHED before adopting the standard name.
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED';
}

export class IdbStore implements Store {
  private readonly db: UseStore;
  private readonly migrations: Migrations | undefined;

  constructor(opts: IdbStoreOptions = {}) {
    if (typeof indexedDB === 'undefined') throw new Error('IndexedDB is not available here (use FileStore in Node)');
    this.db = opts.useStore ?? createStore(opts.dbName ?? 'heston-lab', opts.storeName ?? 'kv');
    this.migrations = opts.migrations;
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    const raw = await get(key, this.db);
    return raw === undefined ? undefined : (unseal(key, raw, this.migrations) as T);
  }

  async set(key: string, value: unknown): Promise<void> {
    try {
      await set(key, seal(value), this.db);
    } catch (e) {
      throw isQuotaError(e) ? new QuotaError(key, e) : e;
    }
  }

  async setMany(entries: [string, unknown][]): Promise<void> {
    try {
      await setMany(entries.map(([k, v]) => [k, seal(v)]), this.db);
    } catch (e) {
      throw isQuotaError(e) ? new QuotaError(entries.map(([k]) => k).join(', '), e) : e;
    }
  }

  async delete(key: string): Promise<void> {
    await del(key, this.db);
  }

  async keys(prefix = ''): Promise<string[]> {
    const all = await keys<IDBValidKey>(this.db);
    return all.filter((k): k is string => typeof k === 'string' && k.startsWith(prefix)).sort();
  }
}

/**
 * Wraps an idb-keyval store so that its next `failures` read-write transactions put their values,
 * then abort and reject with a QuotaExceededError — exactly what a full disk does — so the storage
 * check can prove that a refused write changes nothing.
 */
export function quotaFailingStore(inner: UseStore, failures = 1): UseStore {
  let left = failures;
  return ((mode, callback) => {
    if (mode !== 'readwrite' || left <= 0) return inner(mode, callback);
    left--;
    return inner(mode, (store) => {
      // The aborted transaction rejects the callback's own promise too; that rejection is expected.
      Promise.resolve(callback(store)).catch(() => undefined);
      store.transaction.abort();
      return Promise.reject(new DOMException('simulated: the quota for this origin is exhausted', 'QuotaExceededError'));
    });
  }) as UseStore;
}

/** The storage check (check.ts) on a scratch database, so the user's data is never touched. */
export async function checkIdbStore(dbName = 'heston-lab-selfcheck') {
  const db = createStore(dbName, 'kv');
  return checkStore({ store: new IdbStore({ useStore: db }), failingStore: new IdbStore({ useStore: quotaFailingStore(db) }) });
}
