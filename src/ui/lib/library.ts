/**
 * The page-side surface library: one SurfaceLibrary over the browser store (IndexedDB, namespace
 * "surfaces"), a `libraryVersion` store that bumps after every change so any page listing
 * surfaces refreshes, the bundled samples on first open, and file import (parsing happens in the
 * surface worker; the page only reads bytes and stores results).
 */
import { writable } from 'svelte/store';
import { IdbStore } from '../../core/store/idb.ts';
import { namespaced } from '../../core/store/store.ts';
import { SurfaceLibrary, importedSurfaceName, surfaceFileStem, type LibraryEntry } from '../../core/surface/library.ts';
import type { Surface } from '../../core/surface/types.ts';
import { errorMessage, errorMessageAbout } from '../../core/errors.ts';
import type { SurfaceJobs } from '../../../workers/surface.worker.ts';
import { jobClient, type JobClient } from './jobClient.ts';

export type { LibraryEntry };

let lib: SurfaceLibrary | undefined;
let worker: JobClient<SurfaceJobs> | undefined;
let seeding: Promise<void> | undefined;

/** Bumps after every change to the library (add, rename, tag, delete, import). */
export const libraryVersion = writable(0);
export function touchLibrary(): void {
  libraryVersion.update((v) => v + 1);
}

export function surfaceWorker(): JobClient<SurfaceJobs> {
  worker ??= jobClient<SurfaceJobs>(new Worker(new URL('../../../workers/surface.worker.ts', import.meta.url), { type: 'module' }));
  return worker;
}

/** The library, with the bundled samples added on the very first open. */
export async function library(): Promise<SurfaceLibrary> {
  lib ??= new SurfaceLibrary(namespaced(new IdbStore(), 'surfaces'));
  seeding ??= lib
    .seedOnce(loadSamples)
    .then((n) => {
      if (n) touchLibrary();
    })
    .catch((e) => console.warn(`bundled samples not loaded: ${errorMessage(e)}`));
  await seeding;
  return lib;
}

export async function listSurfaces(): Promise<LibraryEntry[]> {
  return (await library()).list();
}

export async function getSurface(id: string): Promise<Surface | undefined> {
  return (await library()).get(id);
}

interface SampleManifest {
  samples: { file: string; name: string; tags?: string[]; synthetic: boolean; description?: string }[];
}

async function loadSamples() {
  const base = new URL('samples/', document.baseURI);
  const res = await fetch(new URL('index.json', base));
  if (!res.ok) throw new Error(`samples/index.json: HTTP ${res.status}`);
  const manifest = (await res.json()) as SampleManifest;
  const out = [];
  for (const s of manifest.samples) {
    const r = await fetch(new URL(s.file, base));
    if (!r.ok) throw new Error(`samples/${s.file}: HTTP ${r.status}`);
    const parsed = await surfaceWorker().run('parseFile', { name: s.file, bytes: new Uint8Array(await r.arrayBuffer()) });
    out.push({ surface: parsed.surface, meta: { name: s.name, tags: s.tags ?? [], synthetic: s.synthetic } });
  }
  return out;
}

export interface ImportResult {
  file: string;
  ok: boolean;
  id?: string;
  duplicate?: boolean;
  layout?: string;
  warnings: string[];
  error?: string;
}

/** Imports each file on its own: one bad file never stops the others. */
export async function importFiles(files: File[]): Promise<ImportResult[]> {
  const l = await library();
  const results: ImportResult[] = [];
  for (const f of files) {
    try {
      const bytes = new Uint8Array(await f.arrayBuffer());
      const parsed = await surfaceWorker().run('parseFile', { name: f.name, bytes });
      const r = await l.addEntry(parsed.surface, { name: importedSurfaceName(parsed.surface, f.name) });
      results.push({ file: f.name, ok: true, id: r.id, duplicate: r.duplicate, layout: parsed.layout, warnings: parsed.warnings });
    } catch (e) {
      // The list line names the file; the reader's message often starts with it too (say it once).
      results.push({ file: f.name, ok: false, warnings: [], error: errorMessageAbout(e, f.name) });
    }
  }
  if (results.some((r) => r.ok && !r.duplicate)) touchLibrary();
  return results;
}

/** Offers bytes as a download. */
export function download(name: string, data: Uint8Array | string, type = 'application/octet-stream'): void {
  const blob = new Blob([typeof data === 'string' ? data : (data as Uint8Array<ArrayBuffer>)], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export async function exportSurface(id: string, format: 'npz' | 'csv'): Promise<void> {
  const s = await getSurface(id);
  if (!s) throw new Error(`no surface ${id}`);
  const base = surfaceFileStem(s, id);
  if (format === 'npz') download(`${base}.npz`, await surfaceWorker().run('toNpz', { surface: s }));
  else download(`${base}.csv`, await surfaceWorker().run('toCsv', { surface: s }), 'text/csv');
}
