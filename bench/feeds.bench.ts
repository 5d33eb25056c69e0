/**
 * Feeds benchmark: the CPU cost of what runs on every snapshot / series load, with no network
 * (parsing the wire formats, building a surface from a full-size book, combining and aligning).
 * Run: npx tsx bench/feeds.bench.ts — prints one JSON object.
 */
import { parseBookSummary } from '../src/core/feeds/deribit.ts';
import { snapshotFromBook } from '../src/core/feeds/snapshot.ts';
import { parseKline } from '../src/core/feeds/binance.ts';
import { combineSeries, seriesFromCsv, seriesToCsv } from '../src/core/feeds/series.ts';
import { asofBackward } from '../src/core/feeds/alignment.ts';

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const code = (ms: number) => {
  const d = new Date(ms);
  return `${d.getUTCDate()}${MONTHS[d.getUTCMonth()]}${String(d.getUTCFullYear()).slice(2)}`;
};

/** Median wall time of `reps` runs, ms. */
function time(reps: number, fn: () => void): number {
  fn();
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return +ts[Math.floor(reps / 2)]!.toFixed(3);
}

// A Deribit-sized BTC book: 12 expiries × 50 strikes × call/put = 1200 rows.
const now = Date.UTC(2024, 11, 20, 8);
const rows: Record<string, unknown>[] = [];
for (let e = 0; e < 12; e++) {
  const exp = now + Math.round(7 * 1.45 ** e) * 86_400_000;
  const F = 97000 * (1 + 0.01 * e);
  for (let s = 0; s < 50; s++) {
    const K = Math.round((F * Math.exp(-0.8 + (1.6 * s) / 49)) / 1000) * 1000;
    for (const side of ['C', 'P']) rows.push({ instrument_name: `BTC-${code(exp)}-${K}-${side}`, underlying_price: F, mark_iv: 50 + 20 * Math.log(K / F) ** 2, mark_price: 0.01, creation_timestamp: now });
  }
}
const bookJson = JSON.stringify({ jsonrpc: '2.0', result: rows });
const parseBookMs = time(30, () => parseBookSummary(JSON.parse(bookJson).result, 'bench'));
const parsed = parseBookSummary(rows, 'bench');
const snapshotMs = time(30, () => snapshotFromBook(parsed, 97000, now, { currency: 'BTC' }));

// 1500-row kline pages (one futures page), 30 pages = 45 000 hourly candles (~5 years).
const H = 3_600_000;
const n = 45_000;
const raw = Array.from({ length: n }, (_, i) => [i * H, '97000.10', '97100.00', '96900.00', '97050.55', '1234.567', i * H + H - 1, '119876543.21', 5000, '600.1', '58000000.1', '0']);
const rawJson = JSON.stringify(raw);
const jsonParseKlinesMs = time(5, () => JSON.parse(rawJson));
const parseKlinesMs = time(5, () => JSON.parse(rawJson).map((r: unknown, i: number) => parseKline(r, () => `row ${i}`, 'bench')));
const klines = raw.map((r, i) => parseKline(r, `row ${i}`, 'bench'));
const funding = Array.from({ length: n / 8 }, (_, i) => ({ fundingTime: i * 8 * H, fundingRate: 1e-4, markPrice: NaN }));
const oi = Array.from({ length: n }, (_, i) => ({ timestamp: i * H, sumOpenInterest: 8e4, sumOpenInterestValue: 8e9 }));
const combineMs = time(5, () => combineSeries('BTCUSDT', '1h', klines, klines, funding, oi));
const table = combineSeries('BTCUSDT', '1h', klines, klines, funding, oi);
const csv = seriesToCsv(table);
const csvRoundTripMs = time(5, () => seriesFromCsv(seriesToCsv(table)));

// As-of alignment: 45 000 hourly rows against 17 520 half-hourly snapshots (one year of a 30-min schedule).
const snaps = Array.from({ length: 17_520 }, (_, i) => i * 1_800_000 + 60_000);
const asofMs = time(10, () => asofBackward(table.time, snaps, 3_600_000));

console.log(
  JSON.stringify({
    benchmark: 'feeds',
    book_rows: rows.length,
    parse_book_summary_ms: parseBookMs,
    snapshot_from_book_ms: snapshotMs,
    kline_rows: n,
    json_parse_klines_ms: jsonParseKlinesMs,
    parse_klines_ms: parseKlinesMs,
    combine_series_ms: combineMs,
    series_csv_bytes: csv.length,
    series_csv_round_trip_ms: csvRoundTripMs,
    asof_rows: table.time.length,
    asof_snapshots: snaps.length,
    asof_backward_ms: asofMs,
  }),
);
