/**
 * CSV at the format level: text to trimmed cells (papaparse), leading "# key=value; …" lines as
 * metadata, and the cell parsers every CSV reader shares (numbers, times). What the cells MEAN —
 * surfaces, option quotes — is read above this, in src/core/surface/csv.ts and the packages that
 * need CSV (smile quotes). Errors name the file, the row (as a spreadsheet numbers it) and the
 * column.
 */
import Papa from 'papaparse';
import { InputError } from '../errors.ts';
import { parseExpiryCode } from './instruments.ts';

export interface ParsedCsv {
  rows: string[][];
  /** File line number (1-based) of rows[0]. */
  firstLine: number;
  meta: Record<string, string>;
}

export function parseCsv(text: string, where: string): ParsedCsv {
  if (typeof text !== 'string') throw new InputError('expected CSV text', where);
  if (text.includes('\u0000')) throw new InputError('this is a binary file, not CSV text', where);
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  const meta: Record<string, string> = {};
  let skip = 0;
  while (skip < lines.length && (lines[skip]!.trim().startsWith('#') || lines[skip]!.trim() === '')) {
    for (const part of lines[skip]!.replace(/^\s*#/, '').split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0) meta[part.slice(0, eq).trim().toLowerCase()] = part.slice(eq + 1).trim();
    }
    skip++;
  }
  const body = lines.slice(skip).join('\n');
  if (!body.trim()) throw new InputError('the file holds no CSV rows', where);
  const res = Papa.parse<string[]>(body, { skipEmptyLines: 'greedy', dynamicTyping: false, delimitersToGuess: [',', ';', '\t'] });
  const fatal = res.errors.find((e) => e.type === 'Quotes');
  if (fatal) throw new InputError(`${fatal.message}`, `${where}: row ${(fatal.row ?? 0) + skip + 1}`);
  return { rows: res.data.map((r) => r.map((c) => (c ?? '').trim())), firstLine: skip + 1, meta };
}

/** A header cell folded for matching: trimmed, lower case, runs of spaces and dashes as "_". */
export function normHeader(h: string): string {
  return h.trim().toLowerCase().replace(/[\s-]+/g, '_');
}

/** A number cell; empty or non-numeric text is an InputError naming `where`. */
export function csvNumber(cell: string | undefined, where: string): number {
  const c = (cell ?? '').trim();
  const v = Number(c);
  if (c === '' || !Number.isFinite(v)) throw new InputError(`"${c}" is not a number`, where);
  return v;
}

/** Epoch numbers in s, ms, µs or ns (by magnitude), or an ISO date / date-time (UTC if no zone). */
export function parseTimeMs(cell: string, where: string): number {
  const c = cell.trim();
  if (/^-?\d+(\.\d+)?$/.test(c)) {
    const v = Number(c);
    const a = Math.abs(v);
    if (a < 1e11) return v * 1000;
    if (a < 1e14) return v;
    if (a < 1e17) return v / 1000;
    return v / 1e6;
  }
  const iso = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(c);
  if (iso) {
    const withT = c.replace(' ', 'T');
    const ms = Date.parse(iso[1] === undefined ? `${withT}T00:00:00Z` : iso[4] === undefined ? `${withT}Z` : withT);
    if (Number.isFinite(ms)) return ms;
  }
  const d = parseDeribitDate(c);
  if (d !== undefined) return d;
  throw new InputError(`"${c}" is not a time (expected an ISO date like 2024-03-29T08:00:00Z or epoch s/ms/µs)`, where);
}

/** "29DEC23" → 2023-12-29T08:00:00Z (Deribit's expiry time); undefined for anything else, 30FEB24 included. */
export function parseDeribitDate(s: string): number | undefined {
  if (!/^\d{1,2}[A-Z]{3}\d{2}$/i.test(s)) return undefined;
  try {
    return parseExpiryCode(s.toUpperCase());
  } catch {
    return undefined;
  }
}

