/**
 * Option quotes for smile forecasting: the seed's `option_features` table, one record per
 * (timestamp, contract), and its long CSV layout.
 *
 * CSV layout (one row per timestamp × contract; header names as below, any column order, case
 * and surrounding spaces ignored; leading "# key=value; …" lines are metadata):
 *   ts_utc       quote time: ISO 8601 (no zone = UTC) or epoch seconds / ms / µs (by magnitude)
 *   underlying   symbol (SPY, BTC …)
 *   expiry       ISO timestamp, or a bare date YYYY-MM-DD read as that day at the session's
 *                `expiryTime` in its zone (SPY: 16:00 America/New_York; crypto: 08:00 UTC)
 *   strike       > 0, the underlying's price unit
 *   right        C / P (call / put accepted)
 *   iv           implied vol, in decimals (0.21) or percent (21) — see below
 *   spot_price   underlying price > 0
 *   bid, ask, mark   optional option prices (empty = unknown)
 * IV units are never guessed: the caller's flag ('pct' | 'decimal'), or a "# iv_unit=…" line
 * (the writer adds one), says which; without either, a file whose vols stay ≤ 3 (300 %) is read as
 * decimals and one with any vol above 3 is refused with a message naming --iv-unit, because 3 is
 * above any decimal vol SPY or BTC has printed and below any percent vol that is not tiny.
 * Errors name the file, the row (as a spreadsheet numbers it) and the column.
 */
import Papa from 'papaparse';
import { InputError } from '../errors.ts';
import { parseCsv, parseTimeMs } from '../io/csv.ts';
import { DEFAULT_SESSION, parseClock, zonedToUtc, type SessionConfig } from './session.ts';

export type OptionRight = 'C' | 'P';
export type SmileIvUnit = 'pct' | 'decimal';

export interface QuoteRecord {
  /** Quote time, ms UTC. */
  tsMs: number;
  underlying: string;
  /** Expiry instant, ms UTC. */
  expiryMs: number;
  strike: number;
  right: OptionRight;
  /** Implied vol as a decimal (0.21 = 21 %). */
  iv: number;
  /** Underlying price at tsMs. */
  spot: number;
  bid?: number;
  ask?: number;
  mark?: number;
}

/** The key that identifies a contract: the seed groups by (maturity, strike, right). */
export function contractKey(q: Pick<QuoteRecord, 'underlying' | 'expiryMs' | 'strike' | 'right'>): string {
  return `${q.underlying}|${q.expiryMs}|${q.strike}|${q.right}`;
}

/** "SPY 2026-01-16T21:00Z 590 C", for messages. */
export function describeContract(q: Pick<QuoteRecord, 'underlying' | 'expiryMs' | 'strike' | 'right'>): string {
  return `${q.underlying} ${new Date(q.expiryMs).toISOString().replace(':00.000Z', 'Z')} ${q.strike} ${q.right}`;
}

export const IV_UNIT_LIMIT = 3;

export const QUOTE_COLUMNS = ['ts_utc', 'underlying', 'expiry', 'strike', 'right', 'iv', 'spot_price'] as const;
export const OPTIONAL_QUOTE_COLUMNS = ['bid', 'ask', 'mark'] as const;

export interface ReadQuotesOptions {
  /** How the file writes vols; overrides a "# iv_unit=" line. */
  ivUnit?: SmileIvUnit;
  /** Gives the time of day (and zone) assumed for bare-date expiries. */
  session?: SessionConfig;
}

export interface ReadQuotesResult {
  quotes: QuoteRecord[];
  ivUnit: SmileIvUnit;
  /** "# key=value" metadata lines of the file (e.g. synthetic=true). */
  meta: Record<string, string>;
}

export function parseIvUnit(s: string, where: string): SmileIvUnit {
  const v = s.trim().toLowerCase();
  if (v === 'pct' || v === 'percent' || v === '%') return 'pct';
  if (v === 'decimal' || v === 'dec') return 'decimal';
  throw new InputError(`iv unit must be pct or decimal (got "${s}")`, where);
}

/** Expiry cell: a full timestamp, or a bare date at the session's expiry time in its zone. */
export function parseExpiry(cell: string, session: SessionConfig, where: string): number {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(cell.trim());
  if (d) {
    const ms = zonedToUtc(Number(d[1]), Number(d[2]), Number(d[3]), parseClock(session.expiryTime, 'session expiryTime'), session.tz);
    if (!Number.isFinite(ms) || new Date(Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]))).getUTCDate() !== Number(d[3])) {
      throw new InputError(`"${cell}" is not a date`, where);
    }
    return ms;
  }
  return parseTimeMs(cell, where);
}

function parseRight(cell: string, where: string): OptionRight {
  const c = cell.trim().toLowerCase();
  if (c === 'c' || c === 'call') return 'C';
  if (c === 'p' || c === 'put') return 'P';
  throw new InputError(`"${cell}" is not an option right (expected C or P)`, where);
}

function positive(cell: string, where: string, allowZero = false): number {
  const v = Number(cell);
  if (cell === '' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) throw new InputError(`"${cell}" is not a ${allowZero ? 'non-negative' : 'positive'} number`, where);
  return v;
}

export function readQuotesCsv(text: string, file: string, opts: ReadQuotesOptions = {}): ReadQuotesResult {
  const session = opts.session ?? DEFAULT_SESSION;
  const p = parseCsv(text, file);
  const header = p.rows[0]!.map((h) => h.trim().toLowerCase());
  const col: Record<string, number> = {};
  for (const name of [...QUOTE_COLUMNS, ...OPTIONAL_QUOTE_COLUMNS]) {
    const i = header.indexOf(name);
    if (i >= 0) col[name] = i;
    else if ((QUOTE_COLUMNS as readonly string[]).includes(name)) {
      throw new InputError(`no "${name}" column (the quote layout needs ${QUOTE_COLUMNS.join(', ')}; optional ${OPTIONAL_QUOTE_COLUMNS.join(', ')})`, `${file}: header`);
    }
  }
  const fileUnit = p.meta.iv_unit ?? p.meta.iv;
  let unit: SmileIvUnit | undefined = opts.ivUnit ?? (fileUnit ? parseIvUnit(fileUnit, `${file}: # iv_unit`) : undefined);
  const quotes: QuoteRecord[] = [];
  const rowOf: number[] = [];
  let maxIv = 0;
  let maxIvRow = 0;
  for (let r = 1; r < p.rows.length; r++) {
    const row = p.rows[r]!;
    const line = p.firstLine + r;
    const at = (c: string) => `${file}: row ${line}, column ${c}`;
    const cell = (c: string) => (col[c] === undefined ? '' : (row[col[c]!] ?? '').trim());
    if (row.length < header.length && row.every((c) => c === '')) continue;
    const tsMs = parseTimeMs(cell('ts_utc'), at('ts_utc'));
    const underlying = cell('underlying');
    if (!underlying) throw new InputError('empty underlying', at('underlying'));
    const expiryMs = parseExpiry(cell('expiry'), session, at('expiry'));
    if (!(expiryMs > tsMs)) throw new InputError(`expiry ${new Date(expiryMs).toISOString()} is not after ts_utc ${new Date(tsMs).toISOString()}`, at('expiry'));
    const iv = positive(cell('iv'), at('iv'));
    if (iv > maxIv) {
      maxIv = iv;
      maxIvRow = line;
    }
    const q: QuoteRecord = { tsMs, underlying, expiryMs, strike: positive(cell('strike'), at('strike')), right: parseRight(cell('right'), at('right')), iv, spot: positive(cell('spot_price'), at('spot_price')) };
    for (const c of OPTIONAL_QUOTE_COLUMNS) if (cell(c) !== '') q[c] = positive(cell(c), at(c), true);
    quotes.push(q);
    rowOf.push(line);
  }
  if (quotes.length === 0) throw new InputError('the file holds a header but no quotes', file);
  if (unit === undefined) {
    if (maxIv > IV_UNIT_LIMIT) {
      throw new InputError(
        `vols up to ${maxIv} (row ${maxIvRow}) exceed ${IV_UNIT_LIMIT} (300 %), so they look like percent; say which with --iv-unit pct (or --iv-unit decimal if they really are decimals)`,
        `${file}: column iv`,
      );
    }
    unit = 'decimal';
  }
  if (unit === 'pct') for (const q of quotes) q.iv /= 100;
  // One quote per (time, contract): two would make the "next step" ambiguous.
  const order = quotes.map((_, i) => i).sort((a, b) => compareQuotes(quotes[a]!, quotes[b]!));
  for (let i = 1; i < order.length; i++) {
    const a = quotes[order[i - 1]!]!;
    const b = quotes[order[i]!]!;
    if (compareQuotes(a, b) === 0) throw new InputError(`two quotes for ${describeContract(b)} at ${new Date(b.tsMs).toISOString()} (rows ${rowOf[order[i - 1]!]} and ${rowOf[order[i]!]})`, file);
  }
  return { quotes: order.map((i) => quotes[i]!), ivUnit: unit, meta: p.meta };
}

/** Time, then underlying, expiry, strike, right. */
export function compareQuotes(a: QuoteRecord, b: QuoteRecord): number {
  return a.tsMs - b.tsMs || (a.underlying < b.underlying ? -1 : a.underlying > b.underlying ? 1 : 0) || a.expiryMs - b.expiryMs || a.strike - b.strike || (a.right === b.right ? 0 : a.right === 'C' ? -1 : 1);
}

/** ISO 8601 UTC, with milliseconds only when there are some. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/**
 * The long layout, vols in decimals, times ISO UTC, numbers at full float64
 * precision (String(x) round-trips exactly); `meta` becomes "# key=value" lines.
 */
export function writeQuotesCsv(quotes: readonly QuoteRecord[], meta: Record<string, string> = {}): string {
  const head = Object.entries({ iv_unit: 'decimal', ...meta })
    .map(([k, v]) => `# ${k}=${v.replace(/[;\n]/g, ',')}`)
    .join('\n');
  // Optional price columns only when some quote has them (the bundled sample has none).
  const optional = OPTIONAL_QUOTE_COLUMNS.filter((c) => quotes.some((q) => q[c] !== undefined));
  const body = Papa.unparse(
    {
      fields: [...QUOTE_COLUMNS, ...optional],
      data: quotes.map((q) => [isoTime(q.tsMs), q.underlying, isoTime(q.expiryMs), String(q.strike), q.right, String(q.iv), String(q.spot), ...optional.map((c) => (q[c] === undefined ? '' : String(q[c])))]),
    },
    { newline: '\n' },
  );
  return `${head}\n${body}\n`;
}
