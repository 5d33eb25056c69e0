/**
 * The seed's load_binance_data: one aligned table per symbol with close_spot, volume_spot,
 * close_fut, funding_rate and open_interest, plus its CSV form.
 *
 * Row time is the candle's CLOSE time (openTime + interval): the instant close_spot is known.
 * The seed indexed by ccxt's open time, which makes every as-of merge downstream look one candle
 * into the future; closing time keeps the table causal.
 * Spot and futures candles are joined exactly (the seed's inner join); funding (every 8 h) and
 * open interest (a coarser, 30-day-only history) are carried forward as-of, so a rate is known
 * from its funding time until the next one — the seed's inner join would have dropped all but
 * one hourly row in eight.
 */
import Papa from 'papaparse';
import { InputError } from '../errors.ts';
import type { JobContext } from '../jobs.ts';
import { asofBackward } from './alignment.ts';
import { intervalMs, oiPeriodFor, type BinanceClient, type FundingRate, type Kline, type OpenInterestPoint } from './binance.ts';

export interface SeriesTable {
  symbol: string;
  interval: string;
  /** Candle close time, ms UTC. */
  time: number[];
  closeSpot: number[];
  volumeSpot: number[];
  closeFut: number[];
  /** Per-8h funding rate as a fraction (0.0001 = 1 bp), NaN before the first known rate. */
  fundingRate: number[];
  /** Open interest in contracts (base coin), NaN where Binance has no history. */
  openInterest: number[];
}

export const SERIES_COLUMNS = ['time', 'close_spot', 'volume_spot', 'close_fut', 'funding_rate', 'open_interest'] as const;

export function combineSeries(symbol: string, interval: string, spot: Kline[], fut: Kline[], funding: FundingRate[], oi: OpenInterestPoint[]): SeriesTable {
  const step = intervalMs(interval);
  const futByOpen = new Map(fut.map((k) => [k.openTime, k.close]));
  const rows = [...spot].sort((a, b) => a.openTime - b.openTime).filter((k, i, a) => futByOpen.has(k.openTime) && (i === 0 || a[i - 1]!.openTime !== k.openTime));
  const time = rows.map((k) => k.openTime + step);
  const fIdx = asofBackward(time, funding.map((f) => f.fundingTime), 8 * 3_600_000 + step, { left: 'series', right: 'funding' });
  // Open interest is a level: a point older than two of its periods is stale, not informative.
  const oiStep = oi.length > 1 ? Math.abs(oi[1]!.timestamp - oi[0]!.timestamp) : step;
  const oIdx = asofBackward(time, oi.map((p) => p.timestamp), 2 * Math.max(oiStep, step), { left: 'series', right: 'open interest' });
  return {
    symbol,
    interval,
    time,
    closeSpot: rows.map((k) => k.close),
    volumeSpot: rows.map((k) => k.volume),
    closeFut: rows.map((k) => futByOpen.get(k.openTime)!),
    fundingRate: Array.from(fIdx, (j) => (j < 0 ? NaN : funding[j]!.fundingRate)),
    openInterest: Array.from(oIdx, (j) => (j < 0 ? NaN : oi[j]!.sumOpenInterest)),
  };
}

/**
 * Fetches and combines one symbol over [start, end] (ms). The same symbol is used on spot and
 * USD-M futures (BTCUSDT / BTCUSDT perpetual), as in the seed.
 */
export async function loadBinanceData(client: BinanceClient, args: { symbol: string; futuresSymbol?: string; interval: string; start: number; end: number }, ctx: JobContext = {}): Promise<SeriesTable> {
  const { symbol, interval, start, end } = args;
  if (!(end > start)) throw new InputError(`end (${new Date(end).toISOString()}) must be after start (${new Date(start).toISOString()})`, 'end');
  const futSym = args.futuresSymbol ?? symbol;
  const report = (message: string, done: number) => ctx.onProgress?.({ done, total: 4, message });
  report('spot klines', 0);
  const spot = await client.klines('spot', symbol, interval, start, end, { signal: ctx.signal });
  report('futures klines', 1);
  const fut = await client.klines('futures', futSym, interval, start, end, { signal: ctx.signal });
  report('funding rates', 2);
  // One funding period earlier so the first rows already have a rate in force.
  const funding = await client.fundingRates(futSym, start - 8 * 3_600_000, end, { signal: ctx.signal });
  report('open interest', 3);
  const period = oiPeriodFor(interval);
  const oi = await client.openInterestHist(futSym, period, start, end + intervalMs(interval), { signal: ctx.signal });
  report('combined', 4);
  return combineSeries(symbol, interval, spot, fut, funding, oi);
}

function cell(x: number): string {
  return Number.isFinite(x) ? String(x) : '';
}

export function seriesToCsv(t: SeriesTable): string {
  const lines = [`# symbol=${t.symbol} interval=${t.interval}`, SERIES_COLUMNS.join(',')];
  for (let i = 0; i < t.time.length; i++) {
    lines.push([t.time[i]!, t.closeSpot[i]!, t.volumeSpot[i]!, t.closeFut[i]!, t.fundingRate[i]!, t.openInterest[i]!].map(cell).join(','));
  }
  return lines.join('\n') + '\n';
}

/**
 * Reads a series CSV (ours, or any with the same column names). `time` may be ms since the epoch
 * or an ISO date. Empty cells read as NaN; anything else that is not a number is an error naming
 * the row and column.
 */
export function seriesFromCsv(text: string, fileName = 'series.csv'): SeriesTable {
  let symbol = '';
  let interval = '';
  const meta = /^#\s*symbol=(\S*)\s+interval=(\S*)/.exec(text);
  if (meta) {
    symbol = meta[1]!;
    interval = meta[2]!;
  }
  const body = text.replace(/^#[^\n]*\n/gm, '');
  const parsed = Papa.parse<Record<string, string>>(body, { header: true, skipEmptyLines: true });
  const fields = parsed.meta.fields ?? [];
  if (!fields.includes('time') || !fields.includes('close_spot')) {
    throw new InputError(`needs at least the columns time and close_spot (found: ${fields.join(', ') || 'none'})`, fileName);
  }
  const out: SeriesTable = { symbol, interval, time: [], closeSpot: [], volumeSpot: [], closeFut: [], fundingRate: [], openInterest: [] };
  const cols: [keyof SeriesTable, string][] = [['closeSpot', 'close_spot'], ['volumeSpot', 'volume_spot'], ['closeFut', 'close_fut'], ['fundingRate', 'funding_rate'], ['openInterest', 'open_interest']];
  parsed.data.forEach((row, r) => {
    const line = r + 1; // 1-based data row, header and comment lines not counted
    const tRaw = (row.time ?? '').trim();
    const t = /^\d+(\.\d+)?$/.test(tRaw) ? Number(tRaw) : Date.parse(tRaw);
    if (!Number.isFinite(t)) throw new InputError(`time "${tRaw}" is neither ms since 1970 nor an ISO date`, `${fileName}: row ${line}`);
    out.time.push(t);
    for (const [key, col] of cols) {
      const v = (row[col] ?? '').trim();
      const x = v === '' ? NaN : Number(v);
      if (v !== '' && !Number.isFinite(x)) throw new InputError(`${col} "${v}" is not a number`, `${fileName}: row ${line}`);
      (out[key] as number[]).push(x);
    }
  });
  return out;
}
