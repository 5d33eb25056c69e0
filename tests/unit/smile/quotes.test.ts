import { describe, expect, it } from 'vitest';
import { readQuotesCsv, writeQuotesCsv, type QuoteRecord } from '../../../src/core/smile/quotes.ts';
import { QuoteStore, retentionLimits } from '../../../src/core/smile/quoteStore.ts';
import { CRYPTO_SESSION, SPY_SESSION } from '../../../src/core/smile/session.ts';
import { MemoryStore, QuotaError, namespaced, type Store } from '../../../src/core/store/store.ts';
import { InputError } from '../../../src/core/errors.ts';

const HEADER = 'ts_utc,underlying,expiry,strike,right,iv,spot_price,bid,ask,mark';

describe('readQuotesCsv', () => {
  it('reads ISO and epoch times, bare-date expiries at the session expiry time, and optional prices', () => {
    const csv = [HEADER, '2026-01-05T15:00:00Z,SPY,2026-01-16,590,C,0.18,588.5,3.1,3.3,3.2', '1767625200,SPY,2026-01-16T21:00:00Z,590,put,0.19,588.5,,,'].join('\n');
    const { quotes, ivUnit } = readQuotesCsv(csv, 'q.csv');
    expect(ivUnit).toBe('decimal');
    expect(quotes).toHaveLength(2);
    // 2026-01-16 16:00 New York is EST (UTC−5): 21:00 UTC.
    expect(quotes[0]!.expiryMs).toBe(Date.UTC(2026, 0, 16, 21));
    expect(quotes[1]!.expiryMs).toBe(Date.UTC(2026, 0, 16, 21));
    expect(quotes[0]!.tsMs).toBe(quotes[1]!.tsMs); // 1767625200 s = 2026-01-05T15:00:00Z
    expect(quotes[0]).toMatchObject({ right: 'C', bid: 3.1, ask: 3.3, mark: 3.2, spot: 588.5 });
    expect(quotes[1]!.right).toBe('P');
    expect(quotes[1]!.bid).toBeUndefined();
    // Crypto session: a bare date is 08:00 UTC (Deribit's settlement).
    expect(readQuotesCsv(csv, 'q.csv', { session: CRYPTO_SESSION }).quotes[0]!.expiryMs).toBe(Date.UTC(2026, 0, 16, 8));
    // Summer: 16:00 EDT = 20:00 UTC.
    const summer = readQuotesCsv([HEADER, '2026-07-01T15:00:00Z,SPY,2026-07-17,590,C,0.18,588.5,,,'].join('\n'), 'q.csv', { session: SPY_SESSION });
    expect(summer.quotes[0]!.expiryMs).toBe(Date.UTC(2026, 6, 17, 20));
  });

  it('refuses percent-looking vols without a flag, naming --iv-unit, and converts with pct', () => {
    const csv = [HEADER, '2026-01-05T15:00:00Z,SPY,2026-01-16,590,C,18.5,588.5,,,'].join('\n');
    expect(() => readQuotesCsv(csv, 'q.csv')).toThrow(/--iv-unit pct/);
    expect(readQuotesCsv(csv, 'q.csv', { ivUnit: 'pct' }).quotes[0]!.iv).toBeCloseTo(0.185, 15);
    expect(readQuotesCsv('# iv_unit=pct\n' + csv, 'q.csv').quotes[0]!.iv).toBeCloseTo(0.185, 15);
  });

  it('names the row and column of bad cells', () => {
    const bad = (line: string) => () => readQuotesCsv([HEADER, '2026-01-05T15:00:00Z,SPY,2026-01-16,590,C,0.18,588.5,,,', line].join('\n'), 'q.csv');
    expect(bad('2026-01-05T15:01:00Z,SPY,2026-01-16,590,X,0.18,588.5,,,')).toThrow(/q\.csv: row 3, column right/);
    expect(bad('2026-01-05T15:01:00Z,SPY,2026-01-16,abc,C,0.18,588.5,,,')).toThrow(/row 3, column strike/);
    expect(bad('yesterday,SPY,2026-01-16,590,C,0.18,588.5,,,')).toThrow(/row 3, column ts_utc/);
    expect(bad('2026-01-05T15:01:00Z,SPY,2026-02-30,590,C,0.18,588.5,,,')).toThrow(/row 3, column expiry/);
    expect(bad('2026-01-05T15:01:00Z,SPY,2026-01-16,590,C,-0.1,588.5,,,')).toThrow(/row 3, column iv/);
    expect(bad('2026-01-17T15:01:00Z,SPY,2026-01-16,590,C,0.1,588.5,,,')).toThrow(/not after ts_utc/);
    expect(bad('2026-01-05T15:00:00Z,SPY,2026-01-16,590,C,0.19,588.5,,,')).toThrow(/two quotes for SPY 2026-01-16T21:00Z 590 C .*rows 2 and 3/);
    expect(() => readQuotesCsv('ts_utc,underlying,expiry,strike,right,iv\n1,SPY,2026-01-16,1,C,0.1', 'q.csv')).toThrow(/no "spot_price" column/);
    expect(bad('2026-01-05T15:01:00Z,SPY,2026-01-16,590,C,0.18,588.5,x,,')).toThrow(InputError);
  });

  it('writes the same layout back, exactly', () => {
    const q: QuoteRecord[] = [
      { tsMs: Date.UTC(2026, 0, 5, 15, 0, 0, 123), underlying: 'SPY', expiryMs: Date.UTC(2026, 0, 16, 21), strike: 590.5, right: 'C', iv: 0.1 + 0.2, spot: 588.123456789, bid: 3.1 },
      { tsMs: Date.UTC(2026, 0, 5, 15, 1), underlying: 'SPY', expiryMs: Date.UTC(2026, 0, 16, 21), strike: 590.5, right: 'P', iv: 0.21, spot: 588.2 },
    ];
    const text = writeQuotesCsv(q, { synthetic: 'true' });
    const back = readQuotesCsv(text, 'out.csv');
    expect(back.quotes).toEqual(q);
    expect(back.meta.synthetic).toBe('true');
  });
});

function quote(tMin: number, strike: number, iv = 0.2): QuoteRecord {
  return { tsMs: Date.UTC(2026, 0, 5) + tMin * 60_000, underlying: 'SPY', expiryMs: Date.UTC(2026, 1, 20, 21), strike, right: 'C', iv, spot: 590 };
}

/** A store whose setMany fails with QuotaError from the `failFrom`-th call on. */
class FullStore extends MemoryStore {
  calls = 0;
  constructor(private readonly failFrom: number) {
    super();
  }
  override async setMany(entries: [string, unknown][]): Promise<void> {
    if (++this.calls >= this.failFrom) throw new QuotaError(entries.map(([k]) => k).join(', '));
    return super.setMany(entries);
  }
}

describe('QuoteStore', () => {
  it('writes batches by day partition and answers time, expiry and contract queries', async () => {
    const qs = new QuoteStore(namespaced(new MemoryStore(), 'smile/quotes'));
    const day2 = 24 * 60;
    await qs.write([quote(0, 590), quote(0, 600), quote(1, 590), quote(day2 + 5, 590)]);
    await qs.write([quote(2, 590), { ...quote(3, 590), expiryMs: Date.UTC(2026, 2, 20, 20) }]);
    expect((await qs.partitions()).map((p) => p.count)).toEqual([5, 1]);
    expect(await qs.query()).toHaveLength(6);
    expect(await qs.query({ fromMs: Date.UTC(2026, 0, 5, 0, 1), toMs: Date.UTC(2026, 0, 5, 0, 3) })).toHaveLength(2);
    expect(await qs.query({ expiryMs: Date.UTC(2026, 2, 20, 20) })).toHaveLength(1);
    const c = await qs.query({ contract: { expiryMs: Date.UTC(2026, 1, 20, 21), strike: 590, right: 'C' } });
    expect(c.map((q) => q.tsMs)).toEqual([0, 1, 2, day2 + 5].map((m) => Date.UTC(2026, 0, 5) + m * 60_000));
    const s = await qs.summary();
    expect(s).toMatchObject({ count: 6, partitions: 2, bytes: 6 * 65, pending: 0, underlyings: ['SPY'] });
    // Re-writing a (time, contract) replaces it rather than duplicating it.
    await qs.write([quote(0, 590, 0.25)]);
    expect((await qs.query({ toMs: Date.UTC(2026, 0, 5, 0, 1) })).find((q) => q.strike === 590)!.iv).toBe(0.25);
    expect((await qs.summary()).count).toBe(6);
  });

  it('applies the retention limit by dropping whole old partitions', async () => {
    const qs = new QuoteStore(new MemoryStore(), { retentionMs: 2 * 86_400_000 });
    for (let d = 0; d < 5; d++) await qs.write([quote(d * 1440, 590)]);
    expect((await qs.partitions()).length).toBe(3); // days 2, 3, 4 end within 2 days of day 4's end
    const bySize = new QuoteStore(new MemoryStore(), { maxBytes: 2 * 65 });
    for (let d = 0; d < 5; d++) await bySize.write([quote(d * 1440, 590)]);
    expect((await bySize.summary()).count).toBe(2);
  });

  it('setRetention changes the limits on an open store and applies them to what it holds', async () => {
    const qs = new QuoteStore(new MemoryStore());
    for (let d = 0; d < 5; d++) await qs.write([quote(d * 1440, 590), quote(d * 1440, 600)]);
    expect(await qs.setRetention(retentionLimits({ retentionDays: 2, maxMb: null }))).toBe(4); // days 0 and 1
    expect((await qs.summary()).count).toBe(6);
    expect(await qs.setRetention({ retentionMs: null, maxBytes: 2 * 65 })).toBe(4); // one day of 2 quotes left
    expect((await qs.partitions()).map((p) => new Date(p.startMs).toISOString().slice(0, 10))).toEqual([new Date(quote(4 * 1440, 590).tsMs).toISOString().slice(0, 10)]);
    expect(qs.droppedByRetention).toBe(8);
    await expect(qs.setRetention({ maxBytes: 0 })).rejects.toBeInstanceOf(InputError);
  });

  it('a full quota loses nothing already stored and keeps the refused batch buffered', async () => {
    const raw = new FullStore(3);
    const qs = new QuoteStore(raw as Store);
    await qs.write([quote(0, 590), quote(1, 590)]);
    await qs.write([quote(2, 590)]);
    const before = await qs.query();
    await expect(qs.write([quote(3, 590), quote(1440 + 1, 590)])).rejects.toBeInstanceOf(QuotaError);
    expect(await qs.query()).toEqual(before);
    expect((await qs.summary()).count).toBe(3);
    expect(qs.pendingCount).toBe(2);
    // Space freed: the buffered batch lands on the next flush.
    raw.calls = -100;
    expect(await qs.flush()).toBe(2);
    expect((await qs.query()).length).toBe(5);
  });
});
