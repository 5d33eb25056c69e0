import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { initBackend } from '../../../src/core/backend/backends.ts';
import { simulateMarket } from '../../../src/core/market/simulator.ts';
import type { MarketData } from '../../../src/core/market/marketData.ts';
import { buildFeatureMatrix } from '../../../src/core/features/featureMatrix.ts';
import { trainOnMarket } from '../../../src/core/rl/ppo.ts';
import { encodeAgentCheckpoint, type AgentCheckpoint } from '../../../src/core/rl/agentCheckpoint.ts';
import { runBacktest } from '../../../src/core/rl/backtest.ts';
import { PaperSession, PaperTrader, paperTradeJob, type PaperState } from '../../../src/core/rl/paperTrader.ts';
import { CancelledError, type Progress } from '../../../src/core/jobs.ts';
import type { Kline } from '../../../src/core/feeds/binance.ts';
import type { KlineBar, KlineStreamState } from '../../../src/core/feeds/binanceKlineStream.ts';
import type { WebSocketCtor } from '../../../src/core/feeds/deribitStream.ts';
import { InputError } from '../../../src/core/errors.ts';
import { useReplayServer, until } from '../../support/feeds.ts';

const H = 3_600_000;
// Short windows so a few dozen bars warm the features up (the defaults need 168).
const FEATURES = { modules: 'generic', returnWindows: [1, 4], genericWindow: 6 };
let ckpt: AgentCheckpoint;

beforeAll(async () => {
  const a = await initBackend('wasm');
  if (!a.ok) throw new Error(a.error);
  // A tiny agent on generic features of an hourly GBM market without volumes (the live window
  // then carries none either). Training quality is irrelevant here: the tests compare code paths.
  const market: MarketData = { ...simulateMarket({ nSteps: 300 }, 3), btcVolumes: undefined };
  const features = await buildFeatureMatrix(market, FEATURES);
  const r = await trainOnMarket({ market, features, featureConfig: FEATURES, envConfig: { window: 4 }, ppo: { rolloutLen: 64, numEnvs: 2, minibatchSize: 32, epochs: 1, totalSteps: 64, seed: 5 }, trainFraction: 0.6 });
  r.agent.dispose();
  ckpt = r.checkpoint;
}, 60_000);

/** Klines of a price path; bar i opens at t0 + i·H and closes at t0 + (i+1)·H − 1. */
function klinesOf(prices: ArrayLike<number>, t0: number): Kline[] {
  return Array.from(prices, (c, i) => ({ openTime: t0 + i * H, open: c, high: c, low: c, close: c, volume: 1, closeTime: t0 + (i + 1) * H - 1, quoteVolume: c, trades: 1, takerBuyBaseVolume: 0, takerBuyQuoteVolume: 0 }));
}
const barOf = (k: Kline): KlineBar => ({ symbol: 'BTCUSDT', interval: '1h', openTimeMs: k.openTime, closeTimeMs: k.closeTime, openUsd: k.open, highUsd: k.high, lowUsd: k.low, closeUsd: k.close, volumeBase: k.volume, quoteVolumeUsd: k.quoteVolume, trades: k.trades, missedBars: 0 });
const history = (all: Kline[]) => async (start: number, end: number) => all.filter((k) => k.openTime >= start && k.openTime <= end);
const LIVE: KlineStreamState = { status: 'open', stale: false, attempt: 0, connects: 1, lastMessageAt: 0, lastError: undefined, skipped: 0, lastSkipReason: undefined, bars: 0 };

/** The same checkpoint with a policy whose mean is 0.5 whatever it sees: last layer zero, bias 0.5. */
function constantPolicy(c: AgentCheckpoint, mean: number): AgentCheckpoint {
  const params = new Map(c.params);
  const layers = c.topology.hiddenSizes.length;
  params.set(`pi.w${layers}`, new Float32Array(params.get(`pi.w${layers}`)!.length));
  params.set(`pi.b${layers}`, Float32Array.of(mean));
  return { ...c, params };
}

describe('PaperTrader', () => {
  const t0 = Date.UTC(2024, 5, 1);
  const warm = simulateMarket({ nSteps: 60 }, 9).btcPrices;
  // History rescaled to end at 50 000, then three live closes 50 000 → 55 000 → 49 500.
  const hist = klinesOf(Array.from(warm, (p) => (p * 50_000) / warm.at(-1)!).slice(0, -1), t0);
  const live = klinesOf([50_000, 55_000, 49_500], t0 + hist.length * H);

  it('a hand-checked 3-bar sequence: TradingEnv accounting at each close, buy-and-hold beside it', async () => {
    const tr = new PaperTrader({ checkpoint: constantPolicy(ckpt, 0.5), history: history(hist) }, { historyBars: 100, interval: '1h' });
    await tr.warmUp(t0 + hist.length * H + 1);
    expect(tr.state.bars).toBe(59);
    tr.setStream(LIVE);
    const d = [];
    for (const k of live) d.push(await tr.onBar(barOf(k)));
    expect(d.map((x) => x?.action)).toEqual([0.5, 0.5, 0.5]);
    // Fee 5 bps (the default env: transactionCost 0.0005, slippage 0, leverage 1, capital 10 000).
    // Bar 0 @ 50 000: equity 10 000 → 5 000 USD of BTC, fee 2.5, cash 4 997.5.
    expect(d[0]).toMatchObject({ t: 0, priceUsd: 50_000, targetExposure: 0.5, equityBeforeUsd: 10_000 });
    expect(d[0]!.unitsBtc).toBeCloseTo(0.1, 12);
    expect(d[0]!.costUsd).toBeCloseTo(2.5, 9);
    expect(d[0]!.cashUsd).toBeCloseTo(4997.5, 9);
    expect(d[0]!.equityUsd).toBeCloseTo(9997.5, 9);
    // Bar 1 @ 55 000: 0.1 BTC is worth 5 500 → equity 10 497.5; target 5 248.75 → sell 251.25 USD, fee 0.125625.
    expect(d[1]!.equityBeforeUsd).toBeCloseTo(10_497.5, 9);
    expect(d[1]!.costUsd).toBeCloseTo(0.125625, 9);
    expect(d[1]!.cashUsd).toBeCloseTo(5248.624375, 9);
    expect(d[1]!.equityUsd).toBeCloseTo(10_497.374375, 9);
    // Bar 2 @ 49 500: holding 4 723.875 → equity 9 972.499375; buy 262.3746875 USD, fee 0.13118734375.
    expect(d[2]!.equityBeforeUsd).toBeCloseTo(9972.499375, 9);
    expect(d[2]!.costUsd).toBeCloseTo(0.13118734375, 9);
    expect(d[2]!.equityUsd).toBeCloseTo(9972.36818765625, 9);
    // Buy-and-hold: 10 000/(1.0005) of BTC at 50 000, then held.
    expect(d.map((x) => x!.buyHoldEquityUsd)).toEqual([10_000 / 1.0005, (10_000 / 1.0005) * 1.1, (10_000 / 1.0005) * 0.99].map((v) => expect.closeTo(v, 9)));
    expect(tr.log).toHaveLength(3);
    expect(Object.keys(d[0]!.features)).toEqual(ckpt.featureNames);
    expect(d[0]!.featureHash).toMatch(/^[0-9a-f]{8}$/);
    expect(tr.state).toMatchObject({ phase: 'trading', decisions: 3 });
    tr.dispose();
  });

  it('the same bars through runBacktest give the same actions and equities', async () => {
    const all = simulateMarket({ nSteps: 120 }, 21).btcPrices;
    const bars = klinesOf(all, t0);
    const nHist = 80;
    const tr = new PaperTrader({ checkpoint: ckpt, history: history(bars.slice(0, nHist)) }, { historyBars: nHist, interval: '1h' });
    await tr.warmUp(t0 + nHist * H + 1);
    tr.setStream(LIVE);
    const paper = [];
    for (const k of bars.slice(nHist)) paper.push((await tr.onBar(barOf(k)))!);
    expect(paper.every((x) => x !== undefined)).toBe(true);
    const market = tr.windowMarket();
    const features = await buildFeatureMatrix(market, FEATURES);
    const b = runBacktest(ckpt, market, features, { fromFraction: nHist / market.btcPrices.length, resamples: 50 });
    expect(b.span.start).toBe(nHist);
    // The backtest acts on every bar but the last (its step needs the next close).
    expect(b.n_steps).toBe(paper.length - 1);
    // Same obs (float32) into the same network: identical actions, and float64 accounting to 1e-9.
    expect(paper.slice(0, -1).map((x) => x.action)).toEqual(b.series.actions);
    for (let i = 1; i < paper.length; i++) expect(paper[i]!.equityBeforeUsd).toBeCloseTo(b.series.equityAgent[i]!, 6);
    // Not a constant policy: the comparison would be empty otherwise.
    expect(new Set(b.series.actions.map((a) => a.toFixed(6))).size).toBeGreaterThan(1);
    tr.dispose();
  });

  it('a stale or dropped stream pauses decisions and says why; a live one resumes them', async () => {
    const tr = new PaperTrader({ checkpoint: ckpt, history: history(hist) }, { historyBars: 100, interval: '1h' });
    await tr.warmUp(t0 + hist.length * H + 1);
    tr.setStream(LIVE);
    expect(await tr.onBar(barOf(live[0]!))).toBeDefined();
    const err = 'socket closed (code 1006): the connection dropped without a close frame; the stream reconnects by itself in 0.5 s.';
    tr.setStream({ ...LIVE, status: 'reconnecting', lastError: err });
    expect(tr.state.phase).toBe('paused');
    expect(tr.state.note).toBe(`decisions paused: the stream is reconnecting — ${err}`);
    expect(await tr.onBar(barOf(live[1]!))).toBeUndefined();
    tr.setStream({ ...LIVE, stale: true });
    expect(tr.state.note).toMatch(/^decisions paused: no kline update for a while \(stale\)/);
    tr.setStream(LIVE);
    expect(tr.state.phase).toBe('trading');
    expect(await tr.onBar(barOf(live[2]!))).toMatchObject({ t: 1, priceUsd: 49_500 });
    // The paused bar is in the window (features stay exact) but was not traded.
    expect(tr.state.bars).toBe(62);
    tr.dispose();
  });

  it('refills bars the stream missed from REST, and refuses an agent of another bar interval', async () => {
    const tr = new PaperTrader({ checkpoint: ckpt, history: history([...hist, ...live]) }, { historyBars: 100, interval: '1h' });
    await tr.warmUp(t0 + hist.length * H + 1);
    tr.setStream(LIVE);
    const d = await tr.onBar({ ...barOf(live[2]!), missedBars: 2 });
    expect(tr.state.bars).toBe(62);
    expect(tr.windowMarket().btcPrices.slice(-3)).toEqual(Float64Array.of(50_000, 55_000, 49_500));
    expect(d?.priceUsd).toBe(49_500);
    tr.dispose();
    expect(() => new PaperTrader({ checkpoint: ckpt, history: history(hist) }, { interval: '1m' })).toThrow(InputError);
    expect(() => new PaperTrader({ checkpoint: ckpt, history: history(hist) }, { interval: '1m' })).toThrow(/differ from the agent's bar interval \(60 min\)/);
  });
});

describe('PaperTrader surfaces', () => {
  it('joins each surface as-of the bar close: one observed after a bar never enters that bar', async () => {
    const t0 = Date.UTC(2024, 5, 1);
    const bars = klinesOf(simulateMarket({ nSteps: 40 }, 4).btcPrices, t0);
    // An agent whose first feature is a btc.* one needs a surface source.
    const ck = { ...ckpt, featureNames: ['btc.fake', ...ckpt.featureNames.slice(1)] };
    const seen: MarketData[] = [];
    const asked: number[] = [];
    const nk = ck.market.kGrid.length;
    const nt = ck.market.tGrid.length;
    let lastClose = 0;
    const tr = new PaperTrader(
      {
        checkpoint: ck,
        history: history(bars.slice(0, 30)),
        // Deribit answers some minutes after the bar closed, as it does live.
        surface: async () => {
          asked.push(lastClose);
          return { kGrid: ck.market.kGrid, tGrid: ck.market.tGrid, iv: new Float64Array(nk * nt).fill(0.5), spot: 1, timestamp: lastClose + 5 * 60_000, source: 'test' };
        },
        features: async (m) => {
          seen.push(m);
          const f = await buildFeatureMatrix(m, FEATURES);
          return { ...f, names: ['btc.fake', ...f.names.slice(1)] };
        },
      },
      { historyBars: 30, interval: '1h', surfaceEveryMs: 2 * H },
    );
    expect(tr.needsSurface).toBe(true);
    expect(() => new PaperTrader({ checkpoint: ck, history: history(bars) })).toThrow(/give a Deribit surface source/);
    await tr.warmUp(t0 + 30 * H + 1);
    tr.setStream(LIVE);
    for (const k of bars.slice(30)) {
      lastClose = k.closeTime + 1;
      await tr.onBar(barOf(k));
    }
    // Every 2 h of bar time: bars 30, 32, … ask.
    expect(asked).toHaveLength(5);
    const m = seen.at(-1)!;
    const n = m.timesMs.length;
    for (let s = 0; s < n; s++) {
      if (m.hasSurface[s]) expect(m.btcSurfaceTimesMs![s]!).toBeLessThanOrEqual(m.timesMs[s]!);
    }
    // The surface taken at bar 30's close (observed 5 min later) is first used by bar 31.
    expect(m.hasSurface[30]).toBe(0);
    expect(m.hasSurface[31]).toBe(1);
    expect(m.btcSurfaceTimesMs![31]).toBe(bars[30]!.closeTime + 1 + 5 * 60_000);
    tr.dispose();
  });
});

describe('PaperSession against the replay server', () => {
  const srv = useReplayServer();
  it('warms up from REST, trades closed stream bars, pauses on a drop and resumes', async () => {
    srv.binanceWs = { pushMs: 15, startMs: Date.UTC(2024, 11, 20), dropAfterPushes: 8 };
    const states: PaperState[] = [];
    const s = await PaperSession.open(
      { agent: await encodeAgentCheckpoint(ckpt), binanceWsUrl: srv.binanceWsUrl, binanceRestUrl: srv.binanceSpotBase, config: { historyBars: 60, interval: '1h' } },
      { WebSocket: WebSocket as unknown as WebSocketCtor, warmupEndMs: Date.UTC(2024, 11, 20) + 1, backoffBaseMs: 30 },
      () => states.push(s.trader.state),
    );
    try {
      await s.start();
      expect(srv.requests.some((r) => r.path === '/binance/api/v3/klines' && r.query.interval === '1h')).toBe(true);
      await until(() => s.trader.state.decisions >= 6 && s.stream.state.connects >= 2, 8000);
      await s.idle();
      const snap = s.snapshot();
      // Decisions are one hour apart from the first live bar (2024-12-20T01:00Z close), none repeated.
      expect(snap.log[0]!.time).toBe('2024-12-20T01:00:00.000Z');
      const gaps = snap.log.slice(1).map((d, i) => d.timeMs - snap.log[i]!.timeMs);
      expect(gaps.every((g) => g >= H && g % H === 0)).toBe(true);
      expect(states.some((st) => st.phase === 'paused' && /^decisions paused: the stream is reconnecting — socket closed \(code 1006\)/.test(st.note ?? ''))).toBe(true);
      expect(snap.urls.binanceWs).toBe(srv.binanceWsUrl);
    } finally {
      s.stop();
    }
    expect(s.trader.state.phase).toBe('stopped');
  }, 20_000);
  it('paperTradeJob reports each decision as progress and ends with CancelledError on abort', async () => {
    srv.binanceWs = { pushMs: 15, startMs: Date.UTC(2024, 11, 20) };
    const ac = new AbortController();
    const progress: Progress[] = [];
    const job = paperTradeJob(
      { agent: await encodeAgentCheckpoint(ckpt), binanceWsUrl: srv.binanceWsUrl, binanceRestUrl: srv.binanceSpotBase, config: { historyBars: 60, interval: '1h' } },
      { WebSocket: WebSocket as unknown as WebSocketCtor, warmupEndMs: Date.UTC(2024, 11, 20) + 1 },
      { signal: ac.signal, onProgress: (p) => progress.push(p) },
    );
    const settled = job.then(() => 'resolved', (e: unknown) => e);
    await until(() => progress.some((p) => p.done >= 3), 8000);
    ac.abort();
    expect(await settled).toBeInstanceOf(CancelledError);
    const last = progress.at(-1)!;
    expect(last.metrics!.equityUsd).toBeGreaterThan(0);
    expect(last.metrics!.bars).toBeGreaterThanOrEqual(63);
    // Nothing more once cancelled: the socket is closed.
    const n = progress.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(progress.length).toBe(n);
  }, 20_000);
});
