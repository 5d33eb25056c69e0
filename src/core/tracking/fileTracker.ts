/**
 * Node only (node:fs): the tracker on a directory in MLflow's FileStore layout — the directory
 * `mlflow ui --backend-store-uri ./mlruns` reads. Browser code must not import this module (as
 * with src/core/store/files.ts); tracker.ts stays browser-safe.
 *
 * - Files are written to a temporary name in the same folder and renamed into place (atomic on
 *   POSIX), so a reader or a crash never sees half a meta.yaml or param. Metric points are appended
 *   (one write per key per flush), as MLflow does: rewriting a history on every flush would cost
 *   O(n²); a crash mid-append can cut only the last line, which import reports.
 * - Experiment creation holds an exclusive-create lock file (`.heston-lab-experiments.lock`, a
 *   file because MLflow reads every sub-folder of the root as an experiment), so two CLI runs
 *   starting the same new experiment at once share it. A lock left by a dead process, or older
 *   than 30 s, is broken.
 * - RUNNING runs carry `heston-lab.owner = node:<host>:<pid>`; opening the store marks KILLED
 *   those whose process on this host is gone (process.kill(pid, 0) fails with ESRCH).
 */
import { appendFile, mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InputError } from '../errors.ts';
import { QuotaError } from '../store/store.ts';
import { LabTracker, type TrackerOptions } from './tracker.ts';
import { inProcessLocks, type TreeEntry, type TreeIo } from './tree.ts';

const LOCK_STALE_MS = 30000;
let tmpCounter = 0;

function isQuota(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** `--tracking-uri`: a path, or a file: URI (file:///abs/mlruns, file:mlruns, file://localhost/abs). */
export function trackingDir(uri: string, cwd = process.cwd()): string {
  if (/^file:/i.test(uri)) {
    if (/^file:\/\//i.test(uri)) {
      try {
        return fileURLToPath(uri);
      } catch (e) {
        throw new InputError(`cannot read the file URI: ${(e as Error).message}`, '--tracking-uri');
      }
    }
    return resolve(cwd, decodeURIComponent(uri.slice('file:'.length)));
  }
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(uri)) {
    throw new InputError(`only a directory or a file: URI can be used here (no tracking server), got "${uri}"`, '--tracking-uri');
  }
  return resolve(cwd, uri);
}

/** 'node:<host>:<pid>' → alive? undefined for another host (a shared disk: cannot tell). */
export function nodeOwnerAlive(owner: string): boolean | undefined {
  const m = /^node:(.*):(\d+)$/.exec(owner);
  if (!m) return undefined;
  if (m[1] !== hostname()) return undefined;
  try {
    process.kill(Number(m[2]), 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

export class FileTree implements TreeIo {
  private readonly local = inProcessLocks();

  constructor(readonly root: string) {}

  private abs(path: string) {
    return path === '' ? this.root : join(this.root, ...path.split('/'));
  }

  async read(path: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.abs(path)));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return undefined;
      throw e;
    }
  }

  async write(path: string, bytes: Uint8Array): Promise<void> {
    const final = this.abs(path);
    const tmp = `${final}.tmp-${process.pid}-${++tmpCounter}`;
    try {
      await mkdir(dirname(final), { recursive: true });
      await writeFile(tmp, bytes, { flag: 'wx' });
      await rename(tmp, final);
    } catch (e) {
      await rm(tmp, { force: true });
      if (isQuota(e)) throw new QuotaError(path, e);
      throw e;
    }
  }

  async appendMany(entries: [string, Uint8Array][]): Promise<void> {
    for (const [path, bytes] of entries) {
      const abs = this.abs(path);
      try {
        await mkdir(dirname(abs), { recursive: true });
        // One write of whole lines; O_APPEND keeps concurrent appends from interleaving mid-line.
        await appendFile(abs, bytes);
      } catch (e) {
        if (isQuota(e)) throw new QuotaError(path, e);
        throw e;
      }
    }
  }

  async list(dir: string): Promise<TreeEntry[]> {
    try {
      const ents = await readdir(this.abs(dir), { withFileTypes: true });
      return ents
        .filter((e) => !/\.tmp-\d+-\d+$/.test(e.name) && !(dir === '' && e.name.startsWith('.heston-lab-')))
        .map((e) => ({ name: e.name, isDir: e.isDirectory() }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw e;
    }
  }

  async remove(path: string): Promise<void> {
    await rm(this.abs(path), { recursive: true, force: true });
  }

  withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.local(name, async () => {
      const lock = join(this.root, `.heston-lab-${name}.lock`);
      await mkdir(this.root, { recursive: true });
      const owner = `node:${hostname()}:${process.pid}`;
      for (let attempt = 0; ; attempt++) {
        try {
          const fh = await open(lock, 'wx');
          await fh.writeFile(owner);
          await fh.close();
          break;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
          if (await this.lockIsStale(lock)) {
            await rm(lock, { force: true });
            continue;
          }
          if (attempt > 2000) throw new Error(`${lock} is held by another process for over a minute; delete it if no heston-lab command is running`);
          await new Promise((r) => setTimeout(r, 5 + Math.floor(attempt % 7) * 3));
        }
      }
      try {
        return await fn();
      } finally {
        await rm(lock, { force: true });
      }
    });
  }

  private async lockIsStale(lock: string): Promise<boolean> {
    try {
      const [text, st] = await Promise.all([readFile(lock, 'utf8'), stat(lock)]);
      if (Date.now() - st.mtimeMs > LOCK_STALE_MS) return true;
      return text !== '' && nodeOwnerAlive(text) === false;
    } catch {
      return false; // vanished meanwhile: just retry
    }
  }
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'lab';
  }
}

/** The tracker on a FileStore directory (created if missing); sweeps dead processes' runs. */
export async function openFileTracker(dir: string, opts: Partial<TrackerOptions> = {}): Promise<LabTracker> {
  const root = resolve(dir);
  return LabTracker.open(new FileTree(root), {
    user: currentUser(),
    sourceName: 'heston-lab',
    // MLflow's own habit: absolute file URIs, so `mlflow ui` finds artifacts wherever it starts.
    artifactLocation: (id) => pathToFileURL(join(root, id)).href,
    ...opts,
    owner: `node:${hostname()}:${process.pid}`,
    isOwnerAlive: nodeOwnerAlive,
  });
}
