/**
 * The seed's snapshot_iv_surface, rebuilt: one Deribit book summary → one Surface on the lab's
 * (k, T) grid. Expiry → T in years (ACT/365 from the snapshot time), each row's forward is its
 * underlying_price (Deribit quotes options on the expiry's future, or a synthetic one), mark_iv
 * percent → decimal, then surface/fromQuotes picks the OTM side per strike, interpolates in total
 * variance and masks grid points with no quote nearby. The seed took the nearest instrument per
 * grid point, with k against the ATM strike and calls only; this uses both sides and k = ln(K/F).
 */
import { LabError } from '../errors.ts';
import type { JobContext } from '../jobs.ts';
import { quotesToSurface, type OptionQuote } from '../surface/fromQuotes.ts';
import { SEED_GRID, YEAR_MS, type Surface } from '../surface/types.ts';
import type { BookSummaryRow, DeribitClient } from './deribit.ts';


export interface SnapshotOptions {
  currency: string;
  kGrid?: number[];
  tGrid?: number[];
  /** Grid points farther than this in k from every quote of an expiry are masked (default DEFAULT_MAX_GAP_K, surface/fromQuotes.ts). */
  maxGapK?: number;
  /** Hold vols flat in T outside the quoted expiries instead of masking them. */
  extrapolate?: boolean;
  /** Expiries closer than this are dropped: their marks are dominated by noise (default 1 hour). */
  minTYears?: number;
}

export interface SkippedRow {
  instrument: string;
  reason: string;
}

export interface SnapshotResult {
  surface: Surface;
  /** Quotes that went into the surface. */
  used: number;
  expiries: number;
  skipped: SkippedRow[];
}

export function bookToQuotes(rows: BookSummaryRow[], timestamp: number, currency: string, minTYears = 1 / (365 * 24)): { quotes: OptionQuote[]; skipped: SkippedRow[] } {
  const quotes: OptionQuote[] = [];
  const skipped: SkippedRow[] = [];
  for (const r of rows) {
    const i = r.instrument;
    const skip = (reason: string) => skipped.push({ instrument: r.instrumentName, reason });
    if (i.kind !== 'option' || i.base !== currency || i.linear) {
      skip(`not a ${currency} inverse option`);
      continue;
    }
    const tYears = (i.expiry! - timestamp) / YEAR_MS;
    if (!(tYears >= minTYears)) {
      skip(tYears <= 0 ? 'expired' : 'expires within the minimum maturity');
      continue;
    }
    if (!(r.markIvPct > 0)) {
      skip('mark_iv missing or zero');
      continue;
    }
    if (!(r.underlyingPriceUsd > 0)) {
      skip('underlying_price missing');
      continue;
    }
    quotes.push({ tYears, strike: i.strike!, isCall: i.isCall!, iv: r.markIvPct / 100, forward: r.underlyingPriceUsd });
  }
  return { quotes, skipped };
}

/** Builds the surface from an already fetched book. `spot` is the index price (USD). */
export function snapshotFromBook(rows: BookSummaryRow[], spot: number, timestamp: number, opts: SnapshotOptions): SnapshotResult {
  const kGrid = opts.kGrid ?? SEED_GRID.kGrid;
  const tGrid = opts.tGrid ?? SEED_GRID.tGrid;
  const { quotes, skipped } = bookToQuotes(rows, timestamp, opts.currency, opts.minTYears);
  if (quotes.length === 0) {
    const why = skipped.length ? ` (${rows.length} rows, none usable: ${[...new Set(skipped.map((s) => s.reason))].join('; ')})` : ' (the book is empty)';
    throw new LabError(`no usable option quotes${why}`, `deribit ${opts.currency} snapshot`);
  }
  const surface = quotesToSurface(quotes, {
    kGrid,
    tGrid,
    spot,
    timestamp,
    source: `deribit:${opts.currency}`,
    name: `deribit ${opts.currency} ${new Date(timestamp).toISOString().slice(0, 16).replace('T', ' ')}Z`,
    maxGapK: opts.maxGapK,
    extrapolate: opts.extrapolate,
  });
  return { surface, used: quotes.length, expiries: new Set(quotes.map((q) => q.tYears)).size, skipped };
}

/**
 * Fetches the index price and the option book summary and builds the snapshot. The snapshot's
 * time is the book's creation_timestamp (the moment Deribit computed the marks), or the
 * client's clock when the rows lack it.
 */
export async function takeDeribitSnapshot(client: DeribitClient, opts: SnapshotOptions, ctx: JobContext = {}): Promise<SnapshotResult> {
  const currency = opts.currency.toUpperCase();
  ctx.onProgress?.({ done: 0, total: 3, message: `${currency}: index price` });
  const index = await client.indexPrice(`${currency.toLowerCase()}_usd`, ctx);
  ctx.onProgress?.({ done: 1, total: 3, message: `${currency}: option book` });
  const rows = await client.bookSummary(currency, ctx);
  let ts = -Infinity;
  for (const r of rows) if (Number.isFinite(r.creationTimestamp) && r.creationTimestamp > ts) ts = r.creationTimestamp;
  const timestamp = Number.isFinite(ts) ? ts : client.config.clock.now();
  const result = snapshotFromBook(rows, index.indexPriceUsd, timestamp, { ...opts, currency });
  ctx.onProgress?.({ done: 3, total: 3, message: `${currency}: ${result.used} quotes over ${result.expiries} expiries` });
  return result;
}
