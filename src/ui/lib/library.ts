/**
 * The page-side surface library: one SurfaceLibrary over the browser store (IndexedDB, namespace
 * "surfaces"), a `libraryVersion` store that bumps after every change so any page listing
 * surfaces refreshes, the bundled samples on first open, and file import (parsing happens in the
 * surface worker; the page only reads bytes and stores results).
 */
import { writable } from 'svelte/store';
import type { IvUnit, ReaderAssumptions } from '../../core/surface/units.ts';
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

/**
 * How CSV vols are read on import, for the Import button and drag-and-drop alike: 'auto' takes
 * the file's own statement (a "# iv=percent" line, an iv_pct / iv_decimal header, Deribit's
 * documented percent) and otherwise guesses from the median with a warning; 'percent' and
 * 'decimal' override the guess. Kept for the next visit (localStorage).
 */
export type ImportUnit = 'auto' | IvUnit;
const UNIT_KEY = 'heston-lab/import-iv-unit';
function storedUnit(): ImportUnit {
  const v = typeof localStorage === 'undefined' ? null : localStorage.getItem(UNIT_KEY);
  return v === 'percent' || v === 'decimal' ? v : 'auto';
}
export const importUnit = writable<ImportUnit>(storedUnit());
importUnit.subscribe((u) => {
  if (typeof localStorage !== 'undefined') localStorage.setItem(UNIT_KEY, u);
});

export interface ImportResult {
  file: string;
  ok: boolean;
  id?: string;
  duplicate?: boolean;
  layout?: string;
  warnings: string[];
  error?: string;
  /** What the reader took for granted (vol unit, spot, timestamp, and where each came from). */
  assumptions?: ReaderAssumptions;
  /** The unit this import was read with ('auto' = the file's statement or the guess). */
  unitChoice: ImportUnit;
  /** Kept so the file can be re-read with another unit. */
  source: File;
}

async function importOne(l: SurfaceLibrary, f: File, choice: ImportUnit): Promise<ImportResult> {
  try {
    const bytes = new Uint8Array(await f.arrayBuffer());
    const parsed = await surfaceWorker().run('parseFile', { name: f.name, bytes, opts: choice === 'auto' ? {} : { ivUnit: choice } });
    const r = await l.addEntry(parsed.surface, { name: importedSurfaceName(parsed.surface, f.name) });
    return { file: f.name, ok: true, id: r.id, duplicate: r.duplicate, layout: parsed.layout, warnings: parsed.warnings, assumptions: parsed.assumptions, unitChoice: choice, source: f };
  } catch (e) {
    // The list line names the file; the reader's message often starts with it too (say it once).
    return { file: f.name, ok: false, warnings: [], error: errorMessageAbout(e, f.name), unitChoice: choice, source: f };
  }
}

/** Imports each file on its own (one bad file never stops the others), vols read as `unit`. */
export async function importFiles(files: File[], unit: ImportUnit = storedUnit()): Promise<ImportResult[]> {
  const l = await library();
  const results: ImportResult[] = [];
  for (const f of files) results.push(await importOne(l, f, unit));
  if (results.some((r) => r.ok && !r.duplicate)) touchLibrary();
  return results;
}

/**
 * Reads an imported file again with another vol unit: the entry the first read added is
 * replaced (an entry that was already in the library before is left alone).
 */
export async function reimportAs(r: ImportResult, unit: IvUnit): Promise<ImportResult> {
  const l = await library();
  if (r.ok && r.id && !r.duplicate) await l.delete(r.id);
  const again = await importOne(l, r.source, unit);
  touchLibrary();
  return again;
}

/**
 * Whether offering "re-read in the other unit" makes sense: a text file (its unit may be guessed
 * or stated wrongly), or a failed import whose error is about the unit.
 */
export function canReread(r: ImportResult): boolean {
  if (!r.ok) return /\bunit\b|percent|decimal/i.test(r.error ?? '');
  return /\.(csv|tsv|txt)$/i.test(r.file);
}

/** The vol unit as a person reads it, with where the reader got it. */
export function describeUnit(a: ReaderAssumptions): string {
  const from = { option: 'chosen at import', file: 'stated in the file', format: 'the format’s own', inferred: 'GUESSED from the values: check it' }[a.ivUnit.from];
  return `${a.ivUnit.unit === 'percent' ? 'percent' : 'decimals'} (${from})`;
}

export function describeSpot(a: ReaderAssumptions): string {
  const from = { option: 'chosen', file: 'from the file', underlying: 'the quotes’ underlying price', default: 'not in the file: assumed' }[a.spot.from];
  return `${a.spot.value} (${from})`;
}

export function describeTimestamp(a: ReaderAssumptions): string {
  const from = { option: 'chosen', file: 'from the file', quotes: 'from the quotes', 'import-time': 'not in the file: the import time' }[a.timestamp.from];
  return `${new Date(a.timestamp.value).toISOString().slice(0, 16).replace('T', ' ')} UTC (${from})`;
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
