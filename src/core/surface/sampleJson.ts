/**
 * The labelled surface sample the Pricer & Calibration page calibrates to by default
 * (public/samples/pricer-sample.json, written by scripts/fixtures/pricer-sample.ts): a surface as
 * JSON — kGrid, tGrid, iv row-major [nk × nt] in decimals with null where masked, spot, timestamp,
 * source, name — plus a description and, for a synthetic sample, the parameters it was priced at.
 * Read strictly: every problem is an InputError naming the file and the field.
 */
import { InputError } from '../errors.ts';
import { PARAM_NAMES, paramProblems, type HestonParams } from '../heston/params.ts';
import type { Surface } from './types.ts';
import { validateSurface } from './validate.ts';

export interface SurfaceSample {
  surface: Surface;
  name: string;
  description: string;
  /** The parameters a synthetic sample was generated with (absent for market data). */
  trueParams?: HestonParams;
}

function numbers(v: unknown, key: string, file: string): number[] {
  if (!Array.isArray(v) || v.length === 0) throw new InputError(`"${key}" must be a non-empty array of numbers`, file);
  return v.map((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new InputError(`"${key}"[${i}] must be a finite number, got ${JSON.stringify(x)}`, file);
    return x;
  });
}

function text(v: unknown, key: string, file: string, fallback?: string): string {
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'string') throw new InputError(`"${key}" must be a string`, file);
  return v;
}

export function readSurfaceSample(json: unknown, file: string): SurfaceSample {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InputError('must be a JSON object', file);
  const o = json as Record<string, unknown>;
  const kGrid = numbers(o.kGrid, 'kGrid', file);
  const tGrid = numbers(o.tGrid, 'tGrid', file);
  const cells = kGrid.length * tGrid.length;
  if (!Array.isArray(o.iv) || o.iv.length !== cells) {
    throw new InputError(`"iv" must hold ${cells} values (row-major kGrid × tGrid = ${kGrid.length} × ${tGrid.length}), got ${Array.isArray(o.iv) ? o.iv.length : typeof o.iv}`, file);
  }
  const iv = new Float64Array(cells);
  const mask = new Uint8Array(cells);
  o.iv.forEach((v, n) => {
    if (v === null) {
      iv[n] = NaN;
      mask[n] = 1;
    } else if (typeof v === 'number' && Number.isFinite(v) && v > 0) {
      iv[n] = v;
    } else {
      throw new InputError(`"iv"[${n}] (k=${kGrid[Math.floor(n / tGrid.length)]}, T=${tGrid[n % tGrid.length]}) must be a positive decimal vol or null (masked), got ${JSON.stringify(v)}`, file);
    }
  });
  const spot = o.spot;
  if (typeof spot !== 'number' || !(spot > 0)) throw new InputError(`"spot" must be a positive number, got ${JSON.stringify(spot)}`, file);
  const timestamp = o.timestamp;
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) throw new InputError(`"timestamp" must be milliseconds since the epoch, got ${JSON.stringify(timestamp)}`, file);
  const name = text(o.name, 'name', file, file);
  const surface: Surface = { kGrid, tGrid, iv, mask, spot, timestamp, source: text(o.source, 'source', file, `file:${file}`), name };
  validateSurface(surface, file);
  let trueParams: HestonParams | undefined;
  if (o.trueParams !== undefined) {
    const p = o.trueParams as Partial<HestonParams>;
    const problems = typeof p === 'object' && p !== null ? paramProblems(p) : ['must be an object of the five parameters'];
    if (problems.length) throw new InputError(`"trueParams": ${problems.join('; ')}`, file);
    trueParams = Object.fromEntries(PARAM_NAMES.map((q) => [q, p[q]!])) as unknown as HestonParams;
  }
  return { surface, name, description: text(o.description, 'description', file, ''), trueParams };
}
