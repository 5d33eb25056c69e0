/**
 * Market-data commands: a Deribit surface snapshot to .npz, a Binance series to CSV, and the
 * as-of alignment of a series with a directory of snapshots (the seed's align_binance_deribit).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { InputError } from '../../src/core/errors.ts';
import { alignBinanceDeribit, parseDuration } from '../../src/core/feeds/alignment.ts';
import { BinanceClient, intervalMs } from '../../src/core/feeds/binance.ts';
import { DeribitClient } from '../../src/core/feeds/deribit.ts';
import { loadBinanceData, seriesFromCsv, seriesToCsv } from '../../src/core/feeds/series.ts';
import { takeDeribitSnapshot } from '../../src/core/feeds/snapshot.ts';
import { SEED_GRID } from '../../src/core/surface/types.ts';
import { DEFAULT_MAX_GAP_K } from '../../src/core/surface/fromQuotes.ts';
import { buildRealMarketData, realMarketDataToNpz } from '../../src/core/market/realMarketData.ts';
import { surfaceFromNpz, surfaceToNpz } from '../../src/core/surface/files.ts';
import type { Surface } from '../../src/core/surface/types.ts';
import { parseGridText } from '../../src/core/surface/validate.ts';
import { numberOption, parse, requireOption, writeAtomicSync, type CommandDef } from '../io.ts';

function gridOption(text: string | undefined, flag: string, dflt: number[]): number[] {
  return text === undefined ? dflt : parseGridText(text, flag);
}

function isoOption(text: string | undefined, flag: string): number {
  const v = requireOption(text, flag);
  const t = Date.parse(v);
  if (!Number.isFinite(t)) throw new InputError(`${flag} must be an ISO date (2024-12-01 or 2024-12-01T08:00Z), got "${v}"`);
  return t;
}

const deribitSnapshot: CommandDef = {
  name: 'deribit snapshot',
  summary: 'Deribit option book → one IV surface snapshot (.npz, the seed’s keys)',
  usage: [
    `deribit snapshot --currency BTC|ETH --out FILE.npz [--base-url URL] [--k-grid ${SEED_GRID.kGrid.join(',')}] [--t-grid ${SEED_GRID.tGrid.join(',')}] [--max-gap-k ${DEFAULT_MAX_GAP_K}] [--timeout-ms 15000]`,
    '  k = ln(K/F) per expiry, T in years; mark_iv (percent) is interpolated in total variance; grid points without nearby quotes are masked.',
    '  --base-url defaults to https://www.deribit.com/api/v2 (a mirror or proxy with the same paths works).',
  ].join('\n'),
  async run(argv, ctx) {
    const { values } = parse(argv, { currency: { type: 'string' }, out: { type: 'string' }, 'base-url': { type: 'string' }, 'k-grid': { type: 'string' }, 't-grid': { type: 'string' }, 'max-gap-k': { type: 'string' }, 'timeout-ms': { type: 'string' } });
    const currency = requireOption(values.currency, '--currency').toUpperCase();
    if (!/^[A-Z]{2,6}$/.test(currency)) throw new InputError(`--currency must be a coin like BTC or ETH, got "${values.currency}"`);
    const out = requireOption(values.out, '--out');
    const client = new DeribitClient({ ...(values['base-url'] ? { baseUrl: values['base-url'] } : {}), timeoutMs: numberOption(values['timeout-ms'], '--timeout-ms', 15_000) });
    const r = await takeDeribitSnapshot(
      client,
      {
        currency,
        kGrid: gridOption(values['k-grid'], '--k-grid', SEED_GRID.kGrid),
        tGrid: gridOption(values['t-grid'], '--t-grid', SEED_GRID.tGrid),
        maxGapK: numberOption(values['max-gap-k'], '--max-gap-k', DEFAULT_MAX_GAP_K),
      },
      ctx,
    );
    writeAtomicSync(out, surfaceToNpz(r.surface));
    const masked = r.surface.mask ? r.surface.mask.reduce((a, m) => a + m, 0) : 0;
    return { out, timestamp: new Date(r.surface.timestamp).toISOString(), spot: r.surface.spot, quotes: r.used, expiries: r.expiries, skipped: r.skipped.length, masked, points: r.surface.iv.length };
  },
};

const binanceSeries: CommandDef = {
  name: 'binance series',
  summary: 'Binance spot + USD-M futures + funding + open interest → one aligned CSV',
  usage: [
    'binance series --symbol BTCUSDT --interval 1h --start ISO --end ISO --out FILE.csv [--base-url URL] [--futures-base-url URL]',
    '  columns: time (candle close, ms UTC), close_spot, volume_spot, close_fut, funding_rate, open_interest; empty = unknown.',
    '  --base-url replaces both https://api.binance.com and https://fapi.binance.com (a proxy serving both paths);',
    '  --futures-base-url overrides the futures one alone. HTTP 451 means Binance refuses your location.',
  ].join('\n'),
  async run(argv, ctx) {
    const { values } = parse(argv, { symbol: { type: 'string' }, interval: { type: 'string' }, start: { type: 'string' }, end: { type: 'string' }, out: { type: 'string' }, 'base-url': { type: 'string' }, 'futures-base-url': { type: 'string' } });
    const symbol = requireOption(values.symbol, '--symbol').toUpperCase();
    const interval = requireOption(values.interval, '--interval');
    intervalMs(interval);
    const start = isoOption(values.start, '--start');
    const end = isoOption(values.end, '--end');
    const out = requireOption(values.out, '--out');
    const base = values['base-url'];
    const client = new BinanceClient({
      ...(base ? { spotBaseUrl: base, futuresBaseUrl: base } : {}),
      ...(values['futures-base-url'] ? { futuresBaseUrl: values['futures-base-url'] } : {}),
    });
    const t = await loadBinanceData(client, { symbol, interval, start, end }, ctx);
    writeAtomicSync(out, seriesToCsv(t));
    const missing = (xs: number[]) => xs.filter((x) => !Number.isFinite(x)).length;
    return { out, symbol, interval, rows: t.time.length, first: t.time.length ? new Date(t.time[0]!).toISOString() : null, last: t.time.length ? new Date(t.time.at(-1)!).toISOString() : null, missingFunding: missing(t.fundingRate), missingOpenInterest: missing(t.openInterest) };
  },
};

const align: CommandDef = {
  name: 'align',
  summary: 'Series CSV × directory of surface .npz → per-step aligned market data (as-of, backward)',
  usage: [
    'align --series FILE.csv --surfaces DIR --tolerance 15m --out FILE.npz|FILE.csv [--drop-unaligned] [--shitcoin FILE.csv]',
    '  each row takes the latest snapshot at or before its time, if within --tolerance (15m, 1h, 90s …).',
    '  .npz: RealMarketData (btc_prices, btc_fut_prices, btc_funding, btc_oi, btc_iv_surface [n, NK, NT], k_grid, t_grid, surface_index …);',
    '        --shitcoin adds shit_prices, shit_volumes, shit_funding from a second series CSV on the same candles.',
    '  .csv: the series with iv_file, iv_timestamp and iv_age_s columns (the seed’s aligned DataFrame).',
  ].join('\n'),
  async run(argv) {
    const { values } = parse(argv, { series: { type: 'string' }, surfaces: { type: 'string' }, tolerance: { type: 'string' }, out: { type: 'string' }, 'drop-unaligned': { type: 'boolean' }, shitcoin: { type: 'string' } });
    const seriesFile = requireOption(values.series, '--series');
    const dir = requireOption(values.surfaces, '--surfaces');
    const toleranceMs = parseDuration(requireOption(values.tolerance, '--tolerance'), '--tolerance');
    const out = requireOption(values.out, '--out');
    const readSeries = (file: string) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        throw new InputError(`cannot read: ${(e as Error).message}`, file);
      }
      return seriesFromCsv(text, basename(file));
    };
    const series = readSeries(seriesFile);
    const shitcoin = values.shitcoin !== undefined ? readSeries(values.shitcoin) : undefined;
    let files: string[];
    try {
      if (!statSync(dir).isDirectory()) throw new Error('not a directory');
      files = readdirSync(dir).filter((f) => f.endsWith('.npz')).sort();
    } catch (e) {
      throw new InputError(`cannot list: ${(e as Error).message}`, dir);
    }
    if (files.length === 0) throw new InputError('no .npz surface files here', dir);
    const surfaces: { id: string; surface: Surface }[] = files.map((f) => ({ id: f, surface: surfaceFromNpz(new Uint8Array(readFileSync(join(dir, f))), f) }));
    const ext = extname(out).toLowerCase();
    if (ext === '.csv') {
      const a = alignBinanceDeribit(series.time, surfaces.map((s) => ({ id: s.id, timestamp: s.surface.timestamp })), toleranceMs);
      const lines = seriesToCsv(series).trimEnd().split('\n');
      const head = lines.findIndex((l) => l.startsWith('time,'));
      lines[head] += ',iv_file,iv_timestamp,iv_age_s';
      for (let i = 0; i < series.time.length; i++) {
        const j = a.surfaceIndex[i]!;
        lines[head + 1 + i] += j < 0 ? ',,,' : `,${surfaces[j]!.id},${surfaces[j]!.surface.timestamp},${a.ageMs[i]! / 1000}`;
      }
      writeAtomicSync(out, lines.join('\n') + '\n');
      return { out, steps: series.time.length, matched: a.matched, unmatched: series.time.length - a.matched, surfaces: surfaces.length };
    }
    if (ext !== '.npz') throw new InputError('--out must end in .npz or .csv');
    const d = buildRealMarketData({ name: basename(out, ext), series, surfaces, toleranceMs, dropUnaligned: values['drop-unaligned'] ?? false, ...(shitcoin ? { shitcoin } : {}) });
    writeAtomicSync(out, realMarketDataToNpz(d));
    const matched = d.hasSurface.reduce((a, h) => a + h, 0);
    return { out, steps: d.times.length, matched, unmatched: d.times.length - matched, surfaces: surfaces.length, grid: [d.kGrid.length, d.tGrid.length] };
  },
};

export const feedCommands: CommandDef[] = [deribitSnapshot, binanceSeries, align];
