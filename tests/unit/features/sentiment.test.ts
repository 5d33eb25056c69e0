import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CsvSentimentProvider, FearGreedProvider, NeutralSentimentProvider, SentimentFeatureModule, parseSentimentCsv } from '../../../src/core/features/sentiment.ts';
import { FeatureEngine } from '../../../src/core/features/featureEngine.ts';
import { simulateMarket } from '../../../src/core/market/simulator.ts';
import { startReplayServer, type ReplayServer } from '../../support/replayServer.ts';

const H = 3_600_000;
// Hourly steps from 2024-12-13T00:00Z (1734048000 s) for 9 days: the fixture's days 2024-12-13 … 2024-12-20.
const market = simulateMarket({ nSteps: 9 * 24, startMs: 1734048000_000 }, 1);

async function build(provider: ConstructorParameters<typeof SentimentFeatureModule>[1]) {
  const m = new SentimentFeatureModule(market, provider);
  const fm = await new FeatureEngine([m]).buildMatrix([m], market.timesMs.length);
  return { m, fm };
}

describe('SentimentFeatureModule', () => {
  it('neutral provider: zeros at every step, flagged in the notes', async () => {
    const { fm } = await build(new NeutralSentimentProvider());
    expect(fm.names).toEqual(['sentiment.fear_greed', 'sentiment.msg_rate', 'sentiment.sentiment_score']);
    expect(fm.values.every((v) => v === 0)).toBe(true);
    expect(fm.warmup).toBe(0);
    expect(fm.notes.join()).toMatch(/neutral provider/);
  });

  it('CSV provider: as-of aligned — a step sees the latest record at or before it, never a later one', async () => {
    const t0 = market.timesMs[0]!;
    const csv = ['timestamp,sentiment_score,msg_rate,fear_greed', `${new Date(t0 + 2 * H).toISOString()},0.5,10,60`, `${new Date(t0 + 5.5 * H).toISOString()},-0.25,12,40`].join('\n');
    const { fm } = await build(new CsvSentimentProvider(csv, 's.csv'));
    const fg = Array.from({ length: 8 }, (_, t) => fm.values[t * 3]!);
    // Steps 0, 1 precede the first record (NaN); 2 … 5 see 60 (5 is at 5 h, the second record at 5.5 h); 6+ see 40.
    expect(fg).toEqual([NaN, NaN, 60, 60, 60, 60, 40, 40]);
    expect(fm.warmup).toBe(2);
    expect(() => parseSentimentCsv('timestamp,sentiment_score,msg_rate\n2024-01-01,0,0', 'x.csv')).toThrow(/x\.csv: missing column\(s\) fear_greed/);
    expect(() => parseSentimentCsv('timestamp,sentiment_score,msg_rate,fear_greed\n2024-01-02,0,0,1\n2024-01-01,0,0,1', 'x.csv')).toThrow(/timestamps must increase: line 3/);
    expect(() => parseSentimentCsv('timestamp,sentiment_score,msg_rate,fear_greed\n2024-01-02,abc,0,1', 'x.csv')).toThrow(/line 2, column sentiment_score/);
  });

  describe('Fear & Greed over HTTP (replay server)', () => {
    let srv: ReplayServer;
    beforeAll(async () => {
      srv = await startReplayServer();
    });
    afterAll(async () => {
      await srv.close();
    });

    it('reads the documented format (strings, UNIX seconds, newest first) and aligns it as of each step', async () => {
      const p = new FearGreedProvider({ baseUrl: `${srv.url}/alternative` });
      const { fm } = await build(p);
      expect(srv.requests.at(-1)).toMatchObject({ path: '/alternative/fng/', query: { limit: '0', format: 'json' } });
      // 2024-12-13T00:00Z has the value stamped 1734048000 (the fixture's oldest day but two).
      const day = (d: number) => fm.values[d * 24 * 3]!;
      const recs = await p.records({ startMs: 0, endMs: 0 });
      const at = (ms: number) => recs.filter((r) => r.timeMs <= ms).at(-1)!.fearGreed;
      for (let d = 0; d < 8; d++) expect(day(d)).toBe(at(market.timesMs[d * 24]!));
      expect(recs.map((r) => r.timeMs)).toEqual([...recs.map((r) => r.timeMs)].sort((a, b) => a - b));
      // sentiment_score = (index − 50) / 50.
      expect(fm.values[2]).toBeCloseTo((day(0) - 50) / 50, 15);
    });

    it('a refused call falls back to the CSV path with a clear message; without a fallback it says to load one', async () => {
      srv.fail('/alternative/fng/', { status: 500, body: 'oops' });
      const csv = new CsvSentimentProvider(`timestamp,sentiment_score,msg_rate,fear_greed\n${new Date(market.timesMs[0]!).toISOString()},0.1,3,55`, 'backup.csv');
      const { fm } = await build(new FearGreedProvider({ baseUrl: `${srv.url}/alternative`, fallback: csv }));
      expect(fm.values[0]).toBe(55);
      expect(fm.notes.join('\n')).toMatch(/Fear & Greed API was refused \(.*HTTP 500\); using csv:backup\.csv instead/);
      const dead = new FearGreedProvider({ baseUrl: 'http://127.0.0.1:9/alternative', timeoutMs: 2000 });
      await expect(build(dead)).rejects.toThrow(/request failed before any answer.*Load a sentiment CSV \(timestamp, sentiment_score, msg_rate, fear_greed\) instead/);
    });
  });
});
