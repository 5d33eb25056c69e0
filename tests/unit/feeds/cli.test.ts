import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, mkdirSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { feedCommands } from '../../../cli/commands/feeds.ts';
import { readNpz } from '../../../src/core/io/npz.ts';
import { surfaceFromNpz, surfaceToNpz } from '../../../src/core/surface/files.ts';
import { seriesFromCsv } from '../../../src/core/feeds/series.ts';
import { InputError } from '../../../src/core/errors.ts';
import { startReplayServer, type ReplayServer } from '../../support/replayServer.ts';
import { syntheticBook } from './book.ts';

const cmd = (name: string) => feedCommands.find((c) => c.name === name)!;
let srv: ReplayServer;
let dir: string;
beforeAll(async () => {
  srv = await startReplayServer();
  dir = mkdtempSync(join(tmpdir(), 'feeds-cli-'));
});
afterAll(async () => {
  await srv.close();
});

describe('CLI: deribit snapshot / binance series / align', () => {
  it('deribit snapshot writes a surface .npz with the seed’s keys', async () => {
    srv.setDeribitResult('get_book_summary_by_currency', syntheticBook());
    const out = join(dir, 'BTC_iv_1.npz');
    const r = (await cmd('deribit snapshot').run(['--currency', 'btc', '--base-url', srv.deribitBase, '--out', out], {})) as Record<string, unknown>;
    expect(r).toMatchObject({ out, expiries: 5, timestamp: '2024-12-20T08:00:00.000Z' });
    const keys = Object.keys(readNpz(new Uint8Array(readFileSync(out))));
    expect(keys).toEqual(expect.arrayContaining(['iv_surface', 'k_grid', 't_grid', 'spot', 'timestamp']));
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
  it('binance series writes the combined CSV', async () => {
    const out = join(dir, 'btc.csv');
    const r = (await cmd('binance series').run(['--symbol', 'BTCUSDT', '--interval', '1h', '--start', '2024-12-19T00:00Z', '--end', '2024-12-20T23:00Z', '--base-url', srv.binanceSpotBase, '--out', out], {})) as Record<string, unknown>;
    expect(r).toMatchObject({ rows: 48, first: '2024-12-19T01:00:00.000Z', missingFunding: 0 });
    const t = seriesFromCsv(readFileSync(out, 'utf8'));
    expect(t.symbol).toBe('BTCUSDT');
    expect(t.closeFut.every(Number.isFinite)).toBe(true);
  });
  it('align gives each row the latest snapshot within tolerance (.npz and .csv)', async () => {
    const surfDir = join(dir, 'surfaces');
    mkdirSync(surfDir);
    const base = surfaceFromNpz(new Uint8Array(readFileSync(join(dir, 'BTC_iv_1.npz'))));
    // Snapshots at 06:00 and 12:00 on the 20th.
    for (const h of [6, 12]) writeFileSync(join(surfDir, `BTC_iv_${h}.npz`), surfaceToNpz({ ...base, timestamp: Date.UTC(2024, 11, 20, h) }));
    const out = join(dir, 'aligned.npz');
    const r = (await cmd('align').run(['--series', join(dir, 'btc.csv'), '--surfaces', surfDir, '--tolerance', '1h', '--out', out], {})) as Record<string, unknown>;
    // Rows at 06:00, 07:00, 12:00, 13:00 match; the other 44 hourly rows do not.
    expect(r).toMatchObject({ steps: 48, matched: 4, unmatched: 44 });
    const a = readNpz(new Uint8Array(readFileSync(out)));
    expect(a.btc_iv_surface!.shape).toEqual([48, 5, 6]);
    // Files are listed by name: BTC_iv_12.npz is snapshot 0, BTC_iv_6.npz snapshot 1.
    expect(Array.from(a.surface_index!.data as Int32Array).filter((j) => j >= 0)).toEqual([1, 1, 0, 0]);
    // With a second ("shitcoin") series on the same candles.
    const doge = join(dir, 'doge.csv');
    await cmd('binance series').run(['--symbol', 'DOGEUSDT', '--interval', '1h', '--start', '2024-12-19T00:00Z', '--end', '2024-12-20T23:00Z', '--base-url', srv.binanceSpotBase, '--out', doge], {});
    await cmd('align').run(['--series', join(dir, 'btc.csv'), '--surfaces', surfDir, '--tolerance', '1h', '--out', out, '--shitcoin', doge], {});
    const withCoin = readNpz(new Uint8Array(readFileSync(out)));
    expect(withCoin.shit_prices!.shape).toEqual([48]);
    expect((withCoin.shit_prices!.data as Float64Array)[0]).toBeLessThan(1); // DOGE, not BTC
    const csvOut = join(dir, 'aligned.csv');
    await cmd('align').run(['--series', join(dir, 'btc.csv'), '--surfaces', surfDir, '--tolerance', '1h', '--out', csvOut], {});
    const row = readFileSync(csvOut, 'utf8').split('\n').find((l) => l.startsWith(String(Date.UTC(2024, 11, 20, 7))))!;
    expect(row.split(',').slice(-3)).toEqual(['BTC_iv_6.npz', String(Date.UTC(2024, 11, 20, 6)), '3600']);
  });
  it('bad arguments are InputErrors naming the option', async () => {
    await expect(cmd('align').run(['--series', 'x.csv', '--surfaces', dir, '--tolerance', 'soon', '--out', 'o.npz'], {})).rejects.toThrow(/--tolerance.*not a duration/);
    await expect(cmd('binance series').run(['--symbol', 'BTCUSDT', '--interval', '7x', '--start', '2024-01-01', '--end', '2024-01-02', '--out', 'o.csv'], {})).rejects.toThrow(InputError);
    await expect(cmd('deribit snapshot').run(['--currency', 'BTC'], {})).rejects.toThrow(/--out/);
  });
});
