/**
 * "N snapshots of BTC in the library" counts exchange snapshots only (issue 15 item 8): the
 * bundled synthetic samples (public/samples, added to every new library) and synthetic imports
 * stay in the library but are never counted as market data, nor aligned into RealMarketData.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { DataDesk, isExchangeSnapshot } from '../../../src/core/app/dataDesk.ts';
import { MemoryStore } from '../../../src/core/store/store.ts';
import { surfaceFromNpz } from '../../../src/core/surface/files.ts';
import { useReplayServer } from '../../support/feeds.ts';
import { FakeClock, FakeTimers } from '../../support/fakeClock.ts';
import { BOOK_TIME, syntheticBook } from '../feeds/book.ts';

const srv = useReplayServer();

interface Manifest {
  samples: { file: string; name: string; tags?: string[]; synthetic: boolean }[];
}
const SAMPLES = new URL('../../../public/samples/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('index.json', SAMPLES), 'utf8')) as Manifest;
const sampleBytes = (file: string) => new Uint8Array(readFileSync(new URL(file, SAMPLES)));

function desk() {
  const clock = new FakeClock(BOOK_TIME + 60_000);
  return new DataDesk(new MemoryStore(), { clock, timers: new FakeTimers(clock) });
}

describe('exchange snapshots in the library', () => {
  it('the bundled samples, added as the Surfaces page adds them, are not BTC snapshots', async () => {
    const d = desk();
    // What src/ui/lib/library.ts does on a first open: every manifest entry with its meta.
    await d.library.seedOnce(async () => manifest.samples.map((s) => ({ surface: surfaceFromNpz(sampleBytes(s.file), s.file), meta: { name: s.name, tags: s.tags ?? [], synthetic: s.synthetic } })));
    expect((await d.library.list()).length).toBe(manifest.samples.length);
    expect(await d.latestSnapshot('BTC')).toBeNull();

    srv.setDeribitResult('get_book_summary_by_currency', syntheticBook());
    const snap = await d.snapshot({ baseUrl: srv.deribitBase, currency: 'BTC' });
    expect(await d.latestSnapshot('BTC')).toMatchObject({ id: snap.id, count: 1 });
  });

  it('a synthetic .npz imported on the Data page is stored but not counted', async () => {
    const d = desk();
    const r = await d.importSurfaceNpz(sampleBytes('heston_mid.npz'), 'heston_mid.npz');
    expect(r.snapshotOf).toBeUndefined();
    expect(await d.library.entry(r.id)).toMatchObject({ synthetic: true });
    expect(await d.latestSnapshot('BTC')).toBeNull();
  });

  it('a Deribit snapshot exported and imported again counts; a generated surface labelled deribit does not', () => {
    expect(isExchangeSnapshot({ source: 'deribit:BTC', synthetic: false }, 'BTC')).toBe(true);
    expect(isExchangeSnapshot({ source: 'deribit:BTC', synthetic: false }, 'ETH')).toBe(false);
    expect(isExchangeSnapshot({ source: 'deribit:BTC', synthetic: true }, 'BTC')).toBe(false);
    expect(isExchangeSnapshot({ source: 'synthetic:heston', synthetic: true }, 'BTC')).toBe(false);
    expect(isExchangeSnapshot({ source: 'file:x.npz', synthetic: false }, 'BTC')).toBe(false);
  });

  it('an imported Deribit .npz names its currency', async () => {
    srv.setDeribitResult('get_book_summary_by_currency', syntheticBook());
    const src = desk();
    const bytes = (await src.exportNpz((await src.snapshot({ baseUrl: srv.deribitBase, currency: 'BTC' })).id))!;
    const d = desk();
    const r = await d.importSurfaceNpz(bytes, 'BTC_iv_1734681600.npz');
    expect(r.snapshotOf).toBe('BTC');
    expect(await d.latestSnapshot('BTC')).toMatchObject({ id: r.id, count: 1 });
  });
});
