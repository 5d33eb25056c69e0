/**
 * Surfaces and option quotes from CSV (cells from src/core/io/csv.ts). Four layouts, detected from the header:
 *  - grid:    first row maturities (years), first column k = ln(K/F) (or strikes when the corner
 *             cell says "strike"); cells are vols, an empty cell is a masked point. Optional
 *             leading "# key=value; key=value" lines carry spot, timestamp, iv unit, forwards.
 *  - long:    one row per option: expiry (date / epoch) or T (years), strike or k, call/put, IV,
 *             underlying price, timestamp.
 *  - deribit: Deribit's book summary export (instrument_name, mark_iv in percent,
 *             underlying_price, creation_timestamp, …): strike, expiry and type come from the
 *             instrument name (BTC-29DEC23-40000-C; Deribit options expire at 08:00 UTC).
 *  - tardis:  Tardis.dev options_chain (exchange, symbol, timestamp µs, type, strike_price,
 *             expiration µs, mark_iv, underlying_price, …); the latest row per option at or
 *             before `at` (default: the file's last timestamp) is used.
 * IV units are never guessed silently: a header (iv_pct / iv_decimal), a "# iv=percent" line or
 * the caller states them; otherwise they are inferred from the values AND the result carries a
 * warning saying so. Errors name the file, the row (as a spreadsheet numbers it) and the column.
 */
import { InputError } from '../errors.ts';
import { csvNumber as num, normHeader as norm, parseCsv, parseTimeMs, type ParsedCsv } from '../io/csv.ts';
import { optionFromName } from '../io/instruments.ts';
import { SEED_GRID, YEAR_MS, type Surface } from './types.ts';
import { quotesToSurface, type OptionQuote } from './fromQuotes.ts';
import { surfaceFromSpotGrid } from './resample.ts';
import { firstDuplicate, validateSurface } from './validate.ts';
import { checkIvUnit, inferIvUnit as unitFromValues, ivScale, MAX_DECIMAL_IV, parseIvUnit, type IvUnit, type IvUnitSource, type ReaderAssumptions } from './units.ts';

export type { IvUnit } from './units.ts';

export type CsvLayout = 'grid' | 'long' | 'deribit' | 'tardis';

export interface CsvReadOptions {
  /** How the file's vols are written; overrides what the file says. */
  ivUnit?: IvUnit;
  /** Target grid for quote layouts (default: the seed's k points and the file's expiries). */
  kGrid?: number[];
  tGrid?: number[];
  spot?: number;
  /** Milliseconds since the epoch (used when the file has no timestamp). */
  timestamp?: number;
  /** For files with many snapshots (Tardis): use quotes at or before this time (ms). */
  at?: number;
  source?: string;
  name?: string;
  maxGapK?: number;
  extrapolate?: boolean;
  /** Clock for files without any timestamp (default Date.now). */
  now?: () => number;
}

export interface CsvSurfaceResult {
  surface: Surface;
  layout: CsvLayout;
  /** Things the reader assumed or dropped, for the user to see (never silent). */
  warnings: string[];
  /** The unit, spot and timestamp it used, and where each came from. */
  assumptions: ReaderAssumptions;
}

const ALIASES = {
  expiry: ['expiry', 'expiration', 'expiration_date', 'expiry_date', 'maturity', 'maturity_date', 'expiration_timestamp'],
  tYears: ['t', 't_years', 'tyears', 'tenor', 'ttm', 'time_to_maturity', 'maturity_years', 'years'],
  strike: ['strike', 'strike_price', 'k_strike'],
  k: ['k', 'log_moneyness', 'logm', 'ln_k_f', 'k_forward'],
  type: ['type', 'option_type', 'call_put', 'cp', 'right', 'put_call', 'callput', 'side'],
  iv: ['iv', 'iv_pct', 'iv_percent', 'iv_decimal', 'implied_vol', 'implied_volatility', 'impliedvolatility', 'mark_iv', 'mid_iv', 'vol', 'sigma'],
  underlying: ['underlying_price', 'forward', 'underlying', 'f', 'price_underlying', 'index_price', 'spot'],
  timestamp: ['timestamp', 'time', 'ts', 'datetime', 'quote_time', 'creation_timestamp', 'date'],
  symbol: ['symbol', 'instrument_name', 'instrument'],
} as const;
type Field = keyof typeof ALIASES;

function findColumns(header: string[]): Partial<Record<Field, number>> {
  const h = header.map(norm);
  const out: Partial<Record<Field, number>> = {};
  for (const f of Object.keys(ALIASES) as Field[]) {
    for (const alias of ALIASES[f]) {
      const idx = h.indexOf(alias);
      if (idx >= 0) {
        out[f] = idx;
        break;
      }
    }
  }
  return out;
}

export function detectCsvLayout(header: string[]): CsvLayout {
  const h = new Set(header.map(norm));
  if (h.has('exchange') && h.has('symbol') && h.has('strike_price') && h.has('expiration')) return 'tardis';
  if (h.has('instrument_name') && h.has('mark_iv') && !h.has('strike') && !h.has('strike_price')) return 'deribit';
  const cols = findColumns(header);
  if (cols.iv !== undefined && (cols.strike !== undefined || cols.k !== undefined || cols.symbol !== undefined)) return 'long';
  return 'grid';
}

// ---------------------------------------------------------------------------------------------
// Small value parsers

function parseType(cell: string, where: string): boolean {
  const c = cell.trim().toLowerCase();
  if (c === 'c' || c === 'call' || c === 'calls') return true;
  if (c === 'p' || c === 'put' || c === 'puts') return false;
  throw new InputError(`"${cell}" is not call or put`, where);
}

function ivUnitFromText(s: string | undefined, where: string): IvUnit | undefined {
  return s === undefined ? undefined : parseIvUnit(s, where);
}

/** Unit from the values, with the warning that says it was inferred. */
function inferIvUnit(values: number[], what: string, warnings: string[]): IvUnit {
  const unit = unitFromValues(values);
  warnings.push(`${what}: the IV unit is not stated; read as ${unit === 'percent' ? `PERCENT (median value above ${MAX_DECIMAL_IV})` : `DECIMALS (median value at most ${MAX_DECIMAL_IV})`} — add "# iv=percent" or "# iv=decimal" (or choose the unit) to be sure`);
  return unit;
}

function metaNumber(meta: Record<string, string>, key: string, where: string): number | undefined {
  return meta[key] === undefined ? undefined : num(meta[key], `${where}: header line '${key}'`);
}

// ---------------------------------------------------------------------------------------------
// Grid layout

/** The grid layout, as this lab writes it (and as a spreadsheet user would type it). */
export function surfaceToCsv(s: Surface): string {
  const clean = (x: string) => x.replace(/[;\r\n]/g, ',');
  const head = [`# heston-lab surface; k=ln(K/F); iv=decimal; spot=${s.spot}; timestamp=${new Date(s.timestamp).toISOString()}; source=${clean(s.source)}`];
  if (s.name) head[0] += `; name=${clean(s.name)}`;
  if (s.forward) head.push(`# forward=${s.forward.join(' ')}`);
  const nt = s.tGrid.length;
  const lines = [...head, ['k\\T', ...s.tGrid.map(String)].join(',')];
  s.kGrid.forEach((k, i) => {
    const cells = [String(k)];
    for (let j = 0; j < nt; j++) {
      const idx = i * nt + j;
      cells.push(s.mask?.[idx] === 1 ? '' : String(s.iv[idx]));
    }
    lines.push(cells.join(','));
  });
  return lines.join('\n') + '\n';
}

function readGrid(p: ParsedCsv, where: string, opts: CsvReadOptions, warnings: string[]): { surface: Surface; assumptions: ReaderAssumptions } {
  const rowName = (r: number) => `${where}: row ${p.firstLine + r}`;
  const header = p.rows[0]!;
  if (header.length < 2) throw new InputError('the first row must hold maturities (years) after a corner cell, e.g. "k\\T,0.05,0.1"', rowName(0));
  if (p.rows.length < 2) throw new InputError('no rows of vols under the maturities', where);
  const corner = header[0]!.toLowerCase();
  const tGrid = header.slice(1).map((c, j) => num(c, `${rowName(0)}, column ${j + 2} (maturity in years)`));
  const nt = tGrid.length;
  const kind = (p.meta.k ?? '').toLowerCase();
  const rowsAreStrikes = kind === 'strike' || (kind === '' && /strike|^k\s*\(strike\)|^K$/.test(header[0]!)) || corner.startsWith('strike');
  const rowsAreSpotK = kind.replace(/\s/g, '') === 'ln(k/s)';
  const rowKeys: number[] = [];
  const raw: number[] = [];
  const missing: boolean[] = [];
  for (let r = 1; r < p.rows.length; r++) {
    const row = p.rows[r]!;
    if (row.length !== nt + 1) throw new InputError(`has ${row.length} cells but the header has ${nt + 1}`, rowName(r));
    rowKeys.push(num(row[0], `${rowName(r)}, column 1 (${rowsAreStrikes ? 'strike' : 'k'})`));
    for (let j = 0; j < nt; j++) {
      const c = row[j + 1]!;
      if (c === '' || /^(nan|na|null|-)$/i.test(c)) {
        raw.push(NaN);
        missing.push(true);
      } else {
        raw.push(num(c, `${rowName(r)}, column ${j + 2} (T=${tGrid[j]})`));
        missing.push(false);
      }
    }
  }
  // One grid point per row and per column: a repeated strike or maturity would be two vols for
  // one point (issue 15: duplicate maturities were accepted). Named as a spreadsheet shows them.
  const dupT = firstDuplicate(tGrid);
  if (dupT) throw new InputError(`maturity ${tGrid[dupT.index]} repeats column ${dupT.earlier + 2}; each maturity must appear once`, `${rowName(0)}, column ${dupT.index + 2}`);
  const dupK = firstDuplicate(rowKeys);
  if (dupK) throw new InputError(`${rowsAreStrikes ? 'strike' : 'k'} ${rowKeys[dupK.index]} repeats row ${p.firstLine + dupK.earlier + 1}; each ${rowsAreStrikes ? 'strike' : 'k'} must appear once`, `${rowName(dupK.index + 1)}, column 1`);
  const fileUnit = ivUnitFromText(p.meta.iv, `${where}: header line 'iv'`);
  const unitFrom: IvUnitSource = opts.ivUnit ? 'option' : fileUnit ? 'file' : 'inferred';
  const unit = opts.ivUnit ?? fileUnit ?? inferIvUnit(raw.filter((v) => Number.isFinite(v)), where, warnings);
  const mask = Uint8Array.from(missing, (m) => (m ? 1 : 0));
  checkIvUnit(raw, unit, unitFrom, (c) => `row ${p.firstLine + 1 + Math.floor(c / nt)}, column ${(c % nt) + 2} (T=${tGrid[c % nt]})`, where, mask);
  const scale = ivScale(unit);
  const iv = Float64Array.from(raw, (v) => v * scale);
  const metaSpot = metaNumber(p.meta, 'spot', where);
  let spot = opts.spot ?? metaSpot;
  let spotFrom: ReaderAssumptions['spot']['from'] = opts.spot !== undefined ? 'option' : 'file';
  if (spot === undefined) {
    if (rowsAreStrikes) throw new InputError('strikes need a spot: add a line "# spot=67234.5" above the table (or pass the spot)', where);
    warnings.push(`${where}: no spot given; set to 1 (add "# spot=…" to record it)`);
    spot = 1;
    spotFrom = 'default';
  }
  let timestamp = opts.timestamp ?? (p.meta.timestamp !== undefined ? parseTimeMs(p.meta.timestamp, `${where}: header line 'timestamp'`) : undefined);
  let tsFrom: ReaderAssumptions['timestamp']['from'] = opts.timestamp !== undefined ? 'option' : 'file';
  if (timestamp === undefined) {
    timestamp = (opts.now ?? Date.now)();
    tsFrom = 'import-time';
    warnings.push(`${where}: no timestamp given; stamped with the import time (add "# timestamp=2024-03-29T08:00:00Z" to record it)`);
  }
  let forward: number[] | undefined;
  if (p.meta.forward !== undefined) {
    forward = p.meta.forward.split(/[\s,]+/).filter(Boolean).map((x, j) => num(x, `${where}: header line 'forward', value ${j + 1}`));
    if (forward.length !== nt) throw new InputError(`header line 'forward' has ${forward.length} values but there are ${nt} maturities`, where);
  }
  const source = opts.source ?? p.meta.source ?? `file:${where}`;
  const name = opts.name ?? p.meta.name;
  const base = { tGrid, iv, mask, spot, timestamp, source, ...(name ? { name } : {}) };
  let s: Surface;
  if (rowsAreStrikes || rowsAreSpotK) {
    const kSpot = rowsAreStrikes ? rowKeys.map((K, r) => {
      if (!(K > 0)) throw new InputError(`strike ${K} must be > 0`, `${rowName(r + 1)}, column 1`);
      return Math.log(K / spot!);
    }) : rowKeys;
    if (!forward) warnings.push(`${where}: no forwards given; ln(K/F) taken equal to ln(K/S) (zero carry)`);
    s = surfaceFromSpotGrid({ ...base, kSpotGrid: kSpot, forward: forward ?? tGrid.map(() => spot!) }, opts.kGrid ?? kSpot);
    if (!forward) delete s.forward;
  } else {
    s = { ...base, kGrid: rowKeys, ...(forward ? { forward } : {}) };
  }
  if (!s.mask!.some((m) => m === 1)) delete s.mask;
  validateSurface(s, where);
  return { surface: s, assumptions: { ivUnit: { unit, from: unitFrom }, spot: { value: spot, from: spotFrom }, timestamp: { value: timestamp, from: tsFrom } } };
}

// ---------------------------------------------------------------------------------------------
// Quote layouts (long, deribit, tardis)

export interface QuotesFromCsv {
  quotes: OptionQuote[];
  spot: number;
  timestamp: number;
  layout: CsvLayout;
  warnings: string[];
  assumptions: ReaderAssumptions;
  /** Currency / underlying when the rows say (instrument names). */
  underlying?: string;
}

interface RawQuote {
  key: string;
  ts: number | undefined;
  expiryMs?: number;
  tYears?: number;
  strike?: number;
  k?: number;
  isCall: boolean;
  iv: number;
  underlying?: number;
  row: number;
}

export function quotesFromCsv(text: string, fileName = 'quotes.csv', opts: CsvReadOptions = {}): QuotesFromCsv {
  const p = parseCsv(text, fileName);
  return quotesFromParsed(p, fileName, opts, detectCsvLayout(p.rows[0] ?? []));
}

function quotesFromParsed(p: ParsedCsv, where: string, opts: CsvReadOptions, layout: CsvLayout): QuotesFromCsv {
  const warnings: string[] = [];
  const header = p.rows[0]!;
  const hn = header.map(norm);
  const cols = findColumns(header);
  const colName = (c: number | undefined) => (c === undefined ? '?' : header[c]!);
  const cell = (row: string[], c: number | undefined) => (c === undefined ? '' : (row[c] ?? '').trim());
  const at = (r: number, c: number | undefined) => `${where}: row ${p.firstLine + r}, column '${colName(c)}'`;
  if (cols.iv === undefined) throw new InputError(`no IV column (expected one of: ${ALIASES.iv.join(', ')})`, `${where}: row ${p.firstLine}`);
  // Tardis' timestamp is the exchange time; prefer it over local_timestamp (findColumns does).
  const ivHeader = hn[cols.iv]!;
  let unit: IvUnit | undefined = opts.ivUnit ?? ivUnitFromText(p.meta.iv, `${where}: header line 'iv'`);
  let unitFrom: IvUnitSource = opts.ivUnit ? 'option' : 'file';
  if (!unit && (ivHeader === 'iv_pct' || ivHeader === 'iv_percent')) unit = 'percent';
  if (!unit && ivHeader === 'iv_decimal') unit = 'decimal';
  // Deribit's API documents mark_iv in percent (e.g. 71.47).
  if (!unit && layout === 'deribit') {
    unit = 'percent';
    unitFrom = 'format';
  }
  const raw: RawQuote[] = [];
  let skippedEmpty = 0;
  let underlyingName: string | undefined;
  for (let r = 1; r < p.rows.length; r++) {
    const row = p.rows[r]!;
    if (row.length === 1 && row[0] === '') continue;
    if (row.length < header.length) throw new InputError(`has ${row.length} cells but the header has ${header.length}`, `${where}: row ${p.firstLine + r}`);
    const ivCell = cell(row, cols.iv);
    if (ivCell === '' || /^(nan|null|none)$/i.test(ivCell)) {
      skippedEmpty++;
      continue;
    }
    const iv = num(ivCell, at(r, cols.iv));
    if (iv <= 0) {
      skippedEmpty++;
      continue;
    }
    const sym = cols.symbol !== undefined ? optionFromName(cell(row, cols.symbol)) : undefined;
    if (sym) underlyingName ??= sym.base;
    let isCall: boolean;
    if (cols.type !== undefined && cell(row, cols.type) !== '') isCall = parseType(cell(row, cols.type), at(r, cols.type));
    else if (sym) isCall = sym.isCall;
    else throw new InputError(`no call/put type (add a column "type" with call or put)`, at(r, cols.type));
    const q: RawQuote = { key: '', ts: undefined, isCall, iv, row: r };
    if (cols.strike !== undefined && cell(row, cols.strike) !== '') q.strike = num(cell(row, cols.strike), at(r, cols.strike));
    else if (cols.k !== undefined && cell(row, cols.k) !== '') q.k = num(cell(row, cols.k), at(r, cols.k));
    else if (sym) q.strike = sym.strike;
    else throw new InputError('no strike or k', at(r, cols.strike ?? cols.k));
    if (q.strike !== undefined && !(q.strike > 0)) throw new InputError(`strike ${q.strike} must be > 0`, at(r, cols.strike));
    if (cols.tYears !== undefined && cell(row, cols.tYears) !== '') q.tYears = num(cell(row, cols.tYears), at(r, cols.tYears));
    else if (cols.expiry !== undefined && cell(row, cols.expiry) !== '') q.expiryMs = parseTimeMs(cell(row, cols.expiry), at(r, cols.expiry));
    else if (sym) q.expiryMs = sym.expiry;
    else throw new InputError('no expiry or T', at(r, cols.expiry ?? cols.tYears));
    if (cols.timestamp !== undefined && cell(row, cols.timestamp) !== '') q.ts = parseTimeMs(cell(row, cols.timestamp), at(r, cols.timestamp));
    if (cols.underlying !== undefined && cell(row, cols.underlying) !== '') {
      q.underlying = num(cell(row, cols.underlying), at(r, cols.underlying));
      if (!(q.underlying > 0)) throw new InputError(`underlying price ${q.underlying} must be > 0`, at(r, cols.underlying));
    }
    q.key = `${q.expiryMs ?? `T${q.tYears}`}|${q.strike ?? `k${q.k}`}|${q.isCall ? 'C' : 'P'}`;
    raw.push(q);
  }
  if (raw.length === 0) throw new InputError(`no rows with an implied vol${skippedEmpty ? ` (${skippedEmpty} rows had an empty or zero IV)` : ''}`, where);
  if (skippedEmpty) warnings.push(`${where}: ${skippedEmpty} rows with an empty or zero IV were skipped`);

  // The snapshot time: the latest quote at or before `at`.
  const stamped = raw.filter((q) => q.ts !== undefined);
  let timestamp = opts.at ?? (stamped.length ? Math.max(...stamped.map((q) => q.ts!)) : undefined) ?? opts.timestamp;
  if (p.meta.timestamp !== undefined && timestamp === undefined) timestamp = parseTimeMs(p.meta.timestamp, `${where}: header line 'timestamp'`);
  if (timestamp === undefined) {
    if (raw.some((q) => q.expiryMs !== undefined)) throw new InputError('rows give expiry dates but no timestamp, so times to expiry are unknown: add a "timestamp" column or a "# timestamp=…" line', where);
    timestamp = (opts.now ?? Date.now)();
    warnings.push(`${where}: no timestamp given; stamped with the import time`);
  }
  const latest = new Map<string, RawQuote>();
  let later = 0;
  for (const q of raw) {
    if (q.ts !== undefined && q.ts > timestamp) {
      later++;
      continue;
    }
    const prev = latest.get(q.key);
    if (!prev || (q.ts ?? -Infinity) >= (prev.ts ?? -Infinity)) latest.set(q.key, q);
  }
  if (later) warnings.push(`${where}: ${later} rows after the snapshot time ${new Date(timestamp).toISOString()} were ignored`);
  const chosen = [...latest.values()];
  if (chosen.length === 0) throw new InputError(`no quotes at or before the snapshot time ${new Date(timestamp).toISOString()} (the file's first quote is later)`, where);

  const ivs = chosen.map((q) => q.iv);
  if (!unit) {
    unit = inferIvUnit(ivs, where, warnings);
    unitFrom = 'inferred';
  }
  checkIvUnit(ivs, unit, unitFrom, (c) => `row ${p.firstLine + chosen[c]!.row}, column '${colName(cols.iv)}'`, where);
  const scale = ivScale(unit);

  const tsFrom: ReaderAssumptions['timestamp']['from'] = opts.at !== undefined ? 'option' : stamped.length ? 'quotes' : opts.timestamp !== undefined ? 'option' : p.meta.timestamp !== undefined ? 'file' : 'import-time';
  let spot = opts.spot ?? metaNumber(p.meta, 'spot', where);
  const spotFrom: ReaderAssumptions['spot']['from'] = opts.spot !== undefined ? 'option' : spot !== undefined ? 'file' : 'underlying';
  let expired = 0;
  const quotes: OptionQuote[] = [];
  const withT = chosen
    .map((q) => ({ q, T: q.tYears ?? (q.expiryMs! - timestamp!) / YEAR_MS }))
    .filter(({ T }) => {
      if (T > 0) return true;
      expired++;
      return false;
    })
    .sort((a, b) => a.T - b.T);
  if (expired) warnings.push(`${where}: ${expired} expired options (T ≤ 0 at the snapshot time) were dropped`);
  if (withT.length === 0) throw new InputError('every option has expired at the snapshot time', where);
  if (spot === undefined) {
    const nearest = withT.find(({ q }) => q.underlying !== undefined);
    if (!nearest) throw new InputError('no underlying price: add an "underlying_price" column or a "# spot=…" line', where);
    spot = nearest.q.underlying!;
    warnings.push(`${where}: spot taken as the nearest expiry's underlying price (${spot})`);
  }
  for (const { q, T } of withT) {
    const F = q.underlying ?? spot;
    const strike = q.strike ?? F * Math.exp(q.k!);
    quotes.push({ tYears: T, strike, isCall: q.isCall, iv: q.iv * scale, forward: F });
  }
  if (withT.some(({ q }) => q.underlying === undefined)) warnings.push(`${where}: rows without an underlying price use the spot as their forward`);
  const assumptions: ReaderAssumptions = { ivUnit: { unit, from: unitFrom }, spot: { value: spot, from: spotFrom }, timestamp: { value: timestamp, from: tsFrom } };
  const out: QuotesFromCsv = { quotes, spot, timestamp, layout, warnings, assumptions };
  if (underlyingName) out.underlying = underlyingName;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Entry points

/** Reads any of the four layouts into a validated surface. */
export function readSurfaceCsv(text: string, fileName = 'surface.csv', opts: CsvReadOptions = {}): CsvSurfaceResult {
  const p = parseCsv(text, fileName);
  const layout = detectCsvLayout(p.rows[0] ?? []);
  if (layout === 'grid') {
    const warnings: string[] = [];
    const g = readGrid(p, fileName, opts, warnings);
    return { surface: g.surface, assumptions: g.assumptions, layout, warnings };
  }
  const q = quotesFromParsed(p, fileName, opts, layout);
  const expiries = [...new Set(q.quotes.map((x) => x.tYears))].sort((a, b) => a - b);
  const source = opts.source ?? p.meta.source ?? `${layout === 'long' ? 'file' : layout}:${q.underlying ? `${q.underlying}:` : ''}${fileName}`;
  const surface = quotesToSurface(q.quotes, {
    kGrid: opts.kGrid ?? SEED_GRID.kGrid,
    tGrid: opts.tGrid ?? expiries,
    spot: q.spot,
    timestamp: q.timestamp,
    source,
    ...(opts.name ?? p.meta.name ? { name: (opts.name ?? p.meta.name)! } : {}),
    ...(opts.maxGapK !== undefined ? { maxGapK: opts.maxGapK } : {}),
    ...(opts.extrapolate !== undefined ? { extrapolate: opts.extrapolate } : {}),
  });
  return { surface, layout, warnings: q.warnings, assumptions: q.assumptions };
}

/** The grid layout (or any layout) as a Surface; warnings are dropped — use readSurfaceCsv to show them. */
export function surfaceFromCsv(text: string, fileName = 'surface.csv', opts: CsvReadOptions = {}): Surface {
  return readSurfaceCsv(text, fileName, opts).surface;
}
