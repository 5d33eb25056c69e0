import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import type { WebSocketCtor } from '../../../src/core/feeds/deribitStream.ts';
import { importQuotesJob, liveStateJob, setRetentionJob, predictJob, previewDatasetJob, recordJob, smileQuoteStore, trainJob, type SmileJobDeps } from '../../../src/core/smile/jobs.ts';
import { writeQuotesCsv } from '../../../src/core/smile/quotes.ts';
import { SPY_SESSION } from '../../../src/core/smile/session.ts';
import { openStoreTracker } from '../../../src/core/tracking/tracker.ts';
import { MemoryStore } from '../../../src/core/store/store.ts';
import { useReplayServer, until } from '../../support/feeds.ts';
import { SESSION, SMALL, quoteSet, useWasm } from './fixtures.ts';

const srv = useReplayServer();

describe('Smile page jobs (what the worker exposes)', () => {
  beforeAll(useWasm);

  it('import → preview → train into a tracked run → predict, all from the store', async () => {
    const tracker = await openStoreTracker(new MemoryStore(), { heartbeat: false });
    const deps: SmileJobDeps = { quotes: smileQuoteStore(new MemoryStore()), tracker: async () => tracker };
    const text = readFileSync('public/samples/quotes_synthetic.csv', 'utf8');
    const imp = await importQuotesJob(deps, { text, fileName: 'quotes_synthetic.csv', session: SPY_SESSION });
    expect(imp).toMatchObject({ imported: 5056, synthetic: true, ivUnit: 'decimal' });
    expect(imp.view.summary.count).toBe(5056);
    const config = { ...SMALL.mlp, epochs: 2, seqLength: 10 };
    const pre = await previewDatasetJob(deps, { config, session: SPY_SESSION, selection: { expiries: [Date.UTC(2026, 0, 16, 21)] } });
    expect(pre).toMatchObject({ quotes: 2528, contracts: 8, samplingMs: 300_000 });
    const r = await trainJob(deps, { config, session: SPY_SESSION, ivUnit: 'decimal' }, {});
    expect(r.runId).not.toBeNull();
    const run = await tracker.getRun(r.runId!);
    expect(run.info.status).toBe('FINISHED');
    expect(run.tags['checkpoint.hash']).toBe(r.hash);
    expect(Number.isFinite(r.test.skill!)).toBe(true);
    const p = await predictJob(deps, { bytes: r.bytes, atMs: Date.UTC(2026, 0, 8, 18) });
    expect(p.contracts).toHaveLength(8);
    // The page's retention fields: 0.1 MB keeps the newest of the four 82 kB days.
    const kept = await setRetentionJob(deps, { retentionDays: null, maxMb: 0.1 });
    expect(kept).toMatchObject({ dropped: 3 * 1264, view: { summary: { count: 1264, partitions: 1 }, limits: { retentionMs: null, maxBytes: 100_000 } } });
    await expect(setRetentionJob(deps, { maxMb: -1 })).rejects.toThrow(/retention: maxMb/);
    tracker.close();
  });

  it('records from the stream and keeps a live predicted smile while quotes arrive', async () => {
    // A tiny model on BTC-like synthetic quotes, windows of 3, so three samples (0.3 s) give a window.
    const quotes = quoteSet(0.5).slice(0, 6 * 300);
    const deps: SmileJobDeps = { quotes: smileQuoteStore(new MemoryStore()) };
    await importQuotesJob(deps, { text: writeQuotesCsv(quotes), fileName: 'q.csv', session: SESSION });
    const r = await trainJob(deps, { config: { ...SMALL.mlp, epochs: 1, seqLength: 3 }, session: SESSION, ivUnit: 'decimal' }, {});
    const recordStore: SmileJobDeps = { quotes: smileQuoteStore(new MemoryStore()) };
    // The fixture chain expired in December 2024: the recorder's clock runs as on its day.
    const offset = Date.now() - Date.UTC(2024, 11, 20, 12);
    const ctl = new AbortController();
    const done = recordJob({ ...recordStore, WebSocket: WebSocket as unknown as WebSocketCtor, clock: { now: () => Date.now() - offset } }, { currency: 'BTC', samplingMs: 100, url: srv.wsUrl, bytes: r.bytes }, { signal: ctl.signal });
    await until(() => liveStateJob().prediction !== null, 8000);
    const live = liveStateJob();
    expect(live.lastSample).toHaveLength(3);
    expect(live.prediction!.contracts.length).toBeGreaterThan(0);
    expect(live.prediction!.contracts.every((c) => Number.isFinite(c.predicted_iv))).toBe(true);
    ctl.abort();
    const stats = await done;
    expect(stats.samples).toBeGreaterThanOrEqual(3);
    expect((await recordStore.quotes.query()).length).toBe(stats.quotesWritten);
  });
});
