/**
 * The Node/CLI Store: a directory with one file per key. Values are serialised with
 * v8.serialize (the structured-clone format), so typed arrays, Maps and Dates come back as they
 * went in, wrapped in the same schema envelope as the browser store (schema.ts).
 *
 * Writes never touch the live file: the value goes to a temporary file in the same directory,
 * which is then renamed over the old one (rename is atomic on POSIX file systems), so a crash or
 * a full disk leaves the previous value readable. setMany writes every temporary file first and
 * renames only when all of them are complete; a failure before that point removes the temporaries
 * and changes nothing.
 */
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { LabError } from '../errors.ts';
import { QuotaError, type Store } from './store.ts';
import { seal, unseal, type Migrations } from './schema.ts';

const SUFFIX = '.v8';

/**
 * Key → file name: every byte outside [A-Za-z0-9_-] is %XX-escaped ('/' included, so namespaces
 * stay flat and no key can climb out of the directory; '.' too, so no name is '.' or '..').
 * Upper-case letters are escaped as well so that two keys differing only in case stay distinct on
 * case-insensitive file systems (macOS, Windows).
 */
export function keyToFileName(key: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(key)) {
    const c = String.fromCharCode(byte);
    out += /[a-z0-9_-]/.test(c) ? c : `%${byte.toString(16).padStart(2, '0')}`;
  }
  return out + SUFFIX;
}

export function fileNameToKey(name: string): string | undefined {
  if (!name.endsWith(SUFFIX)) return undefined;
  try {
    return decodeURIComponent(name.slice(0, -SUFFIX.length));
  } catch {
    return undefined;
  }
}

export interface FileStoreOptions {
  migrations?: Migrations;
  /** The function that writes a temporary file (replaceable to simulate a full disk in tests). */
  writeFile?: (path: string, data: Uint8Array) => Promise<void>;
}

let tmpCounter = 0;

export class FileStore implements Store {
  private readonly write: (path: string, data: Uint8Array) => Promise<void>;

  constructor(
    readonly dir: string,
    private readonly opts: FileStoreOptions = {},
  ) {
    this.write = opts.writeFile ?? ((path, data) => writeFile(path, data, { flag: 'wx' }));
  }

  private path(key: string): string {
    return join(this.dir, keyToFileName(key));
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.path(key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    let raw: unknown;
    try {
      raw = deserialize(bytes);
    } catch (e) {
      throw new LabError(`stored file ${this.path(key)} is unreadable (${(e as Error).message}); delete it`, key);
    }
    return unseal(key, raw, this.opts.migrations) as T;
  }

  async set(key: string, value: unknown): Promise<void> {
    await this.setMany([[key, value]]);
  }

  async setMany(entries: [string, unknown][]): Promise<void> {
    // Serialise everything first: a value that cannot be cloned fails before any file is written.
    const payloads = entries.map(([k, v]) => {
      try {
        return { key: k, bytes: serialize(seal(v)) };
      } catch (e) {
        throw new LabError(`cannot store this value: ${(e as Error).message}`, k);
      }
    });
    await mkdir(this.dir, { recursive: true });
    const temps: { tmp: string; final: string }[] = [];
    try {
      for (const p of payloads) {
        const final = this.path(p.key);
        const tmp = `${final}.tmp-${process.pid}-${++tmpCounter}`;
        temps.push({ tmp, final });
        await this.write(tmp, p.bytes);
      }
    } catch (e) {
      await Promise.all(temps.map((t) => rm(t.tmp, { force: true })));
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') throw new QuotaError(entries.map(([k]) => k).join(', '), e);
      throw e;
    }
    for (const t of temps) await rename(t.tmp, t.final);
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async keys(prefix = ''): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return names
      .map(fileNameToKey)
      .filter((k): k is string => k !== undefined && k.startsWith(prefix))
      .sort();
  }
}
