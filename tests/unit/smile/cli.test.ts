import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { smileCommands } from '../../../cli/commands/smile.ts';
import { decodeSmileCheckpoint } from '../../../src/core/smile/checkpoint.ts';
import { openFileTracker } from '../../../src/core/tracking/fileTracker.ts';
import { InputError } from '../../../src/core/errors.ts';

const cmd = (name: string) => smileCommands.find((c) => c.name === name)!;
const SAMPLE = 'public/samples/quotes_synthetic.csv';
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'smile-cli-'));
});

describe('CLI: smile import / export / features / train / predict', () => {
  it('import stores the bundled quotes by day and export writes them back identically', async () => {
    const r = (await cmd('smile import').run(['--in', SAMPLE, '--store', join(dir, 'st')], {})) as { imported: number; store: { count: number; partitions: number; expiries: string[] } };
    expect(r.imported).toBe(5056);
    expect(r.store).toMatchObject({ count: 5056, partitions: 4, expiries: ['2026-01-16T21:00:00Z', '2026-02-13T21:00:00Z'] });
    await cmd('smile export').run(['--store', join(dir, 'st'), '--out', join(dir, 'back.csv')], {});
    const body = (t: string) => t.split('\n').filter((l) => !l.startsWith('#'));
    expect(body(readFileSync(join(dir, 'back.csv'), 'utf8'))).toEqual(body(readFileSync(SAMPLE, 'utf8')));
  });

  it('import --retention-days / --max-mb keep the newest day partitions and say how many quotes they dropped', async () => {
    const st = join(dir, 'st-retention');
    // Four days of 1264 quotes (82 160 bytes each). Days end 6, 7, 8, 9 Jan 00:00; "within 1 day
    // of the newest end" keeps the 7th and 8th (ends 8 and 9 Jan).
    const r = (await cmd('smile import').run(['--in', SAMPLE, '--store', st, '--retention-days', '1'], {})) as { imported: number; dropped: number; store: { count: number; partitions: number; first: string } };
    expect(r).toMatchObject({ imported: 5056, dropped: 2 * 1264, store: { count: 2 * 1264, partitions: 2 } });
    expect(r.store.first.slice(0, 10)).toBe('2026-01-07');
    // 0.1 MB = 100 000 bytes holds one day (82 160) but not two: the oldest day goes, the newest stays.
    const s = (await cmd('smile import').run(['--in', SAMPLE, '--store', st, '--max-mb', '0.1'], {})) as { dropped: number; store: { count: number; first: string } };
    expect(s.store).toMatchObject({ count: 1264 });
    expect(s.store.first.slice(0, 10)).toBe('2026-01-08');
    await expect(cmd('smile import').run(['--in', SAMPLE, '--store', st, '--max-mb', '0'], {})).rejects.toThrow(/--max-mb.*≥ 0.01/);
  });

  it("features writes the seed's columns at full precision, with the session's open", async () => {
    const q = join(dir, 'q.csv');
    // 2026-03-09 13:45:30Z is 09:45:30 EDT (the day after the spring change).
    writeFileSync(q, 'ts_utc,underlying,expiry,strike,right,iv,spot_price\n2026-03-09T13:45:30Z,SPY,2026-03-20,600,P,21.5,590\n');
    await expect(cmd('smile features').run(['--quotes', q, '--out', join(dir, 'f.csv')], {})).rejects.toThrow(/--iv-unit pct/);
    await cmd('smile features').run(['--quotes', q, '--out', join(dir, 'f.csv'), '--iv-unit', 'pct'], {});
    const [head, row] = readFileSync(join(dir, 'f.csv'), 'utf8').trim().split('\n');
    expect(head).toBe('ts_utc,expiry,strike,right,iv,log_moneyness,dte,hour_sin,hour_cos,minutes_since_open,spot_price,right_enc');
    const c = row!.split(',');
    expect(c.slice(0, 5)).toEqual(['2026-03-09T13:45:30Z', '2026-03-20T20:00:00Z', '600', 'P', '0.215']);
    expect(Number(c[5])).toBe(Math.log(600 / 590)); // full float64: exact
    expect(Number(c[6])).toBe((Date.UTC(2026, 2, 20, 20) - Date.UTC(2026, 2, 9, 13, 45, 30)) / 86_400_000);
    expect(Number(c[9])).toBe(15.5);
    expect(c.slice(10)).toEqual(['590', '1']);
    // The crypto session counts from 00:00 UTC.
    await cmd('smile features').run(['--quotes', q, '--out', join(dir, 'f2.csv'), '--iv-unit', 'pct', '--session', 'crypto'], {});
    expect(Number(readFileSync(join(dir, 'f2.csv'), 'utf8').trim().split('\n')[1]!.split(',')[9])).toBe(13 * 60 + 45.5);
  });

  it('train prints the test figures beside persistence, writes a checkpoint and a tracked run; predict reads it', async () => {
    const ck = join(dir, 'm.hlckpt');
    const r = (await cmd('smile train').run(['--quotes', SAMPLE, '--model', 'mlp', '--seed', '3', '--epochs', '3', '--seq-length', '10', '--out', ck, '--tracking-uri', join(dir, 'mlruns'), '--experiment', 'cli'], {})) as Record<string, unknown>;
    for (const k of ['test_rmse_vol', 'test_mae_vol', 'persistence_rmse_vol', 'skill', 'n_train', 'n_test', 'seconds']) expect(Number.isFinite(r[k] as number)).toBe(true);
    expect(Object.keys(r.by_maturity as object)).toEqual(['<7d', '7-30d', '30-90d', '>90d']);
    expect(Object.keys(r.by_moneyness as object)).toEqual(['|lm|<0.05', '0.05-0.15', '>0.15']);
    const loaded = await decodeSmileCheckpoint(new Uint8Array(readFileSync(ck)), 'm.hlckpt');
    expect(loaded.session.tz).toBe('America/New_York');
    expect(loaded.model.seqLength).toBe(10);
    const tracker = await openFileTracker(join(dir, 'mlruns'));
    const runs = await tracker.listRuns({ experimentName: 'cli' });
    expect(runs).toHaveLength(1);
    expect(runs[0]!.info.status).toBe('FINISHED');
    expect(runs[0]!.params).toMatchObject({ lr: '0.001', seq_length: '10', epochs: '3', model: 'mlp' });
    expect(Object.keys(runs[0]!.latest)).toEqual(expect.arrayContaining(['epoch_loss', 'val_loss', 'final_loss', 'skill']));

    const p = (await cmd('smile predict').run(['--ckpt', ck, '--quotes', SAMPLE, '--at', '2026-01-08T18:00:00Z', '--expiry', '2026-02-13'], {})) as { at: string; expiry: string; contracts: { strike: number; right: string; last_iv: number; predicted_iv: number; realised_iv: number | null }[] };
    expect(p.at).toBe('2026-01-08T18:00:00Z');
    expect(p.expiry).toBe('2026-02-13T21:00:00Z');
    expect(p.contracts).toHaveLength(8);
    for (const c of p.contracts) expect(Object.keys(c)).toEqual(['strike', 'right', 'last_iv', 'predicted_iv', 'realised_iv']);
    expect(p.contracts.every((c) => Number.isFinite(c.predicted_iv) && c.realised_iv !== null)).toBe(true);
  });

  it('bad input names the flag or file', async () => {
    await expect(cmd('smile train').run(['--quotes', SAMPLE, '--model', 'rnn', '--seed', '1', '--out', join(dir, 'x.hlckpt')], {})).rejects.toThrow(/--model: must be one of/);
    await expect(cmd('smile train').run(['--quotes', SAMPLE, '--out', join(dir, 'x.hlckpt')], {})).rejects.toThrow(/--seed/);
    await expect(cmd('smile import').run(['--in', join(dir, 'nope.csv'), '--store', dir], {})).rejects.toBeInstanceOf(InputError);
    await expect(cmd('smile features').run(['--quotes', SAMPLE, '--out', join(dir, 'f.csv'), '--session-tz', 'Nowhere/City'], {})).rejects.toThrow(/not an IANA time zone/);
  });
});
