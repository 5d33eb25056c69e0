import { describe, expect, it } from 'vitest';
import { DeribitClient, parseBookSummary } from '../../../src/core/feeds/deribit.ts';
import { bookToQuotes, snapshotFromBook, takeDeribitSnapshot } from '../../../src/core/feeds/snapshot.ts';
import { surfaceFromNpz, surfaceToNpz } from '../../../src/core/surface/files.ts';
import { fixture } from '../../support/replayServer.ts';
import { useReplayServer } from '../../support/feeds.ts';
import { BOOK_TIME, forwardFor, smileIv, syntheticBook, EXPIRIES } from './book.ts';
import { FakeClock } from '../../support/fakeClock.ts';

const srv = useReplayServer();

const client = () => new DeribitClient({ baseUrl: srv.deribitBase, clock: new FakeClock(), timeoutMs: 2000 });

describe('Deribit surface snapshots', () => {
  it('puts mark_iv (percent) on the (k = ln K/F, T) grid, masking where there are no quotes', async () => {
    srv.setDeribitResult('get_book_summary_by_currency', syntheticBook());
    const r = await takeDeribitSnapshot(client(), { currency: 'BTC' });
    const s = r.surface;
    expect(s.timestamp).toBe(BOOK_TIME);
    expect(s.source).toBe('deribit:BTC');
    expect(s.spot).toBe(97512.34); // the index price
    expect(r.expiries).toBe(EXPIRIES.length);
    const nt = s.tGrid.length;
    const lastT = (EXPIRIES.at(-1)! - BOOK_TIME) / (365 * 86_400_000);
    for (let i = 0; i < s.kGrid.length; i++) {
      for (let j = 0; j < nt; j++) {
        const masked = s.mask![i * nt + j] === 1;
        // T = 2 lies beyond the last expiry (~1.02 y): no information, so masked.
        expect(masked).toBe(s.tGrid[j]! > lastT);
        // The smile is the same at every expiry, so total-variance interpolation in T returns it;
        // strikes are rounded to 500 so quotes sit within ~0.003 of the grid's k, and w is linear
        // between them: the error is below 1e-3 in vol.
        if (!masked) expect(Math.abs(s.iv[i * nt + j]! - smileIv(s.kGrid[i]!))).toBeLessThan(1e-3);
      }
    }
    // The forward per grid maturity comes from the expiries' underlying prices.
    expect(s.forward![2]).toBeCloseTo(97000 * Math.exp(0.08 * 0.25), -1);
  });
  it('uses k against each expiry’s forward, not the spot', () => {
    const rows = parseBookSummary(syntheticBook(), 'x');
    const { quotes } = bookToQuotes(rows, BOOK_TIME, 'BTC');
    const far = quotes.filter((q) => q.forward === forwardFor(EXPIRIES.at(-1)!));
    expect(far.length).toBeGreaterThan(0);
    expect(far[0]!.forward).toBeGreaterThan(100_000); // well away from the 97 512 index
  });
  it('skips expired, linear, iv-less and underlying-less rows and says why', () => {
    const rows = parseBookSummary(
      [
        { instrument_name: 'BTC-13DEC24-100000-C', mark_iv: 50, underlying_price: 97000 },
        { instrument_name: 'BTC_USDC-27DEC24-100000-C', mark_iv: 50, underlying_price: 97000 },
        { instrument_name: 'BTC-27DEC24-100000-C', mark_iv: 0, underlying_price: 97000 },
        { instrument_name: 'BTC-27DEC24-90000-P', mark_iv: 50 },
        { instrument_name: 'BTC-27DEC24-95000-P', mark_iv: 57.9, underlying_price: 97804.5 },
      ],
      'x',
    );
    const { quotes, skipped } = bookToQuotes(rows, BOOK_TIME, 'BTC');
    expect(quotes).toEqual([{ tYears: 7 / 365, strike: 95000, isCall: false, iv: 0.579, forward: 97804.5 }]);
    expect(skipped.map((s) => s.reason)).toEqual(['expired', 'not a BTC inverse option', 'mark_iv missing or zero', 'underlying_price missing']);
  });
  it('builds from the documented fixture (one expiry, three strikes)', () => {
    const rows = parseBookSummary((fixture('deribit_get_book_summary_by_currency') as { result: unknown }).result, 'x');
    const r = snapshotFromBook(rows, 97512.34, BOOK_TIME, { currency: 'BTC', kGrid: [-0.05, 0, 0.05], tGrid: [7 / 365], maxGapK: 0.1 });
    expect(r.used).toBe(3);
    // k=0 lies between 95000-P (k≈-0.029) and 100000-C (k≈0.022): vol between 57.9 % and 55.1 %.
    expect(r.surface.iv[1]).toBeGreaterThan(0.551);
    expect(r.surface.iv[1]).toBeLessThan(0.579);
  });
  it('refuses an empty book with a clear message', async () => {
    srv.setDeribitResult('get_book_summary_by_currency', []);
    await expect(takeDeribitSnapshot(client(), { currency: 'BTC' })).rejects.toThrow(/no usable option quotes \(the book is empty\)/);
  });
  it('round-trips through .npz with the seed’s keys', async () => {
    srv.setDeribitResult('get_book_summary_by_currency', syntheticBook());
    const { surface } = await takeDeribitSnapshot(client(), { currency: 'BTC' });
    const back = surfaceFromNpz(surfaceToNpz(surface), 'snap.npz');
    expect(back.kGrid).toEqual(surface.kGrid);
    expect(back.timestamp).toBe(surface.timestamp);
    expect(Array.from(back.mask!)).toEqual(Array.from(surface.mask!));
  });
});
