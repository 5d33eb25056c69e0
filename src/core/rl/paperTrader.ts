/**
 * Paper trading (the original design's live_trading skeleton, XI.1): a trained agent on live data with a
 * PAPER portfolio. THERE IS NO ORDER CODE IN THIS MODULE OR ANYWHERE IN THE LAB: no exchange
 * account, no key, no signed request. The only network traffic is public market data (Binance
 * klines over WebSocket and REST, Deribit's public book summary), and a "trade" is three numbers
 * (units, cash, cost) updated in memory and written to the decision log.
 *
 * On each CLOSED bar (BinanceKlineStream: an open candle's close can still move):
 *   1. the bar joins a rolling market window (at most `maxBars`): price, funding 0 (Binance spot
 *      has none; the env charges funding only where it is known), open interest unknown (NaN), and
 *      the latest Deribit surface taken at most every `surfaceEveryMs` — as-of the bar close, so a
 *      surface observed AFTER the bar is never used for it (it waits for the next bar);
 *   2. the features are recomputed on the whole window with the agent's FeatureConfig
 *      (buildFeatureMatrix, exactly the training code; the features are causal, so the last row is
 *      the row a full-history matrix would have). Correctness over speed: one hourly bar costs one
 *      matrix over ≤ maxBars rows, far below an hour even with the inverse network;
 *   3. that row goes into a StateBuffer with the checkpoint's StateBuilder statistics FROZEN; the
 *      observation is [window | exposure] as TradingEnv builds it;
 *   4. the deterministic action (the Gaussian's mean, clipped to [−1, 1]) sets the target
 *      exposure and the portfolio is updated with TradingEnv's accounting at the bar's close:
 *      units' = a·maxLeverage·equity/p, cost = (transactionCost + slippageBps·1e-4)·|Δunits|·p,
 *      cash −= Δunits·p + cost;
 *   5. a decision log entry is appended: time, price, action, target exposure, units, cash,
 *      equity, cost, buy-and-hold equity, the raw feature row and its hash.
 * Warm-up: before the first decision, `historyBars` closed bars come from Binance REST
 * (src/core/feeds/binance.ts); decisions begin on the first live bar whose features are all finite,
 * with an empty StateBuffer, as the backtest begins its test span (backtest.ts) — so the same bars
 * replayed through runBacktest give the same actions (tests/unit/rl/paperTrader.test.ts).
 * A stale, dropped or reconnecting stream PAUSES decisions (the state says why, in the stream's
 * words); bars missed while it was down are refilled from REST into the window (features stay
 * exact) but not traded: a decision on a price already gone would be fiction.
 */
import { InputError } from '../errors.ts';
import { CancelledError, type JobContext } from '../jobs.ts';
import { defaultsOf, resolveConfig, type ConfigSpec } from '../config.ts';
import type { MarketData } from '../market/marketData.ts';
import { YEAR_MS, type Surface } from '../surface/types.ts';
import { buildFeatureMatrix, type FeatureConfig, type FeatureDeps } from '../features/featureMatrix.ts';
import type { StateBuffer, StateBuilder } from '../features/stateBuilder.ts';
import { BINANCE_SPOT_URL, BinanceClient, intervalMs, type Kline } from '../feeds/binance.ts';
import { BINANCE_WS_URL, BinanceKlineStream, type KlineBar, type KlineStreamState } from '../feeds/binanceKlineStream.ts';
import { DERIBIT_BASE_URL, DeribitClient } from '../feeds/deribit.ts';
import type { WebSocketCtor } from '../feeds/deribitStream.ts';
import type { Clock, FetchLike } from '../feeds/http.ts';
import type { Timers } from '../feeds/scheduler.ts';
import { takeDeribitSnapshot } from '../feeds/snapshot.ts';
import { decodeCheckpoint } from '../inverse/checkpoint.ts';
import { agentFromCheckpoint, decodeAgentCheckpoint, frozenStateBuilder, type AgentCheckpoint } from './agentCheckpoint.ts';
import type { PPOAgent } from './ppoAgent.ts';
import type { FeatureRows } from './tradingEnv.ts';

export interface PaperTraderConfig {
  symbol: string;
  interval: string;
  historyBars: number;
  maxBars: number;
  surfaceEveryMs: number;
  surfaceMaxAgeMs: number;
  logLimit: number;
}

export const PAPER_TRADER_CONFIG_SPEC: ConfigSpec<PaperTraderConfig> = {
  symbol: { default: 'BTCUSDT', doc: 'Binance spot symbol whose klines price the portfolio' },
  interval: { default: '1h', doc: 'kline interval; must be the agent’s bar interval', choices: ['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d'] },
  historyBars: { default: 500, doc: 'closed bars loaded from Binance REST before the first live bar (the features’ warm-up)', min: 2, integer: true },
  maxBars: { default: 2000, doc: 'bars kept in the rolling window the features are recomputed on (longer than every feature lookback)', min: 2, integer: true },
  surfaceEveryMs: { default: 900_000, doc: 'least time between two Deribit surface snapshots', min: 60_000, unit: 'ms' },
  surfaceMaxAgeMs: { default: 3_600_000, doc: 'a bar uses the latest surface at most this old (older: no surface on that bar)', min: 0, unit: 'ms' },
  logLimit: { default: 1000, doc: 'decision log entries kept (oldest dropped first)', min: 1, integer: true },
};
export const DEFAULT_PAPER_TRADER_CONFIG: PaperTraderConfig = defaultsOf(PAPER_TRADER_CONFIG_SPEC);

/** One decision of the paper portfolio. Money in USD (USDT), quantities in BTC. */
export interface PaperDecision {
  /** Decision index since start (0 = the first). */
  t: number;
  /** Bar close, ms UTC. */
  timeMs: number;
  time: string;
  priceUsd: number;
  /** Clipped policy mean in [−1, 1]. */
  action: number;
  /** action·maxLeverage: the fraction of equity held after the trade. */
  targetExposure: number;
  unitsBtc: number;
  cashUsd: number;
  /** Marked at this bar's close before the trade (the equity the decision sizes from). */
  equityBeforeUsd: number;
  /** After the trade (= before − cost). */
  equityUsd: number;
  costUsd: number;
  /** Buy-and-hold from the first decision, same fee, marked at this close. */
  buyHoldEquityUsd: number;
  /** The raw (unnormalised) feature row the state was built from, and its FNV-1a hash. */
  features: Record<string, number>;
  featureHash: string;
}

export interface PaperState {
  /** 'warming-up' until the first decision is possible; 'paused' while the stream is not live. */
  phase: 'idle' | 'warming-up' | 'trading' | 'paused' | 'ruined' | 'stopped';
  /** Why decisions are paused or not yet made, as a sentence. */
  note: string | undefined;
  bars: number;
  decisions: number;
  lastBarTimeMs: number | undefined;
  equityUsd: number;
  buyHoldEquityUsd: number;
  initialCapitalUsd: number;
  unitsBtc: number;
  cashUsd: number;
  lastSurfaceTimeMs: number | undefined;
  stream: KlineStreamState | undefined;
}

export interface PaperTraderDeps {
  checkpoint: AgentCheckpoint;
  /** Closed klines with open time in [startMs, endMs] (BinanceClient.klines('spot', …)). */
  history(startMs: number, endMs: number, ctx: JobContext): Promise<Kline[]>;
  /** The latest Deribit surface (snapshot.ts's takeDeribitSnapshot); absent: the agent must not need one. */
  surface?(ctx: JobContext): Promise<Surface | null>;
  /** Networks for the btc/shitcoin feature modules. */
  featureDeps?: FeatureDeps;
  /** Override of the feature computation (default buildFeatureMatrix with the checkpoint's config). */
  features?(m: MarketData, ctx: JobContext): Promise<FeatureRows>;
}

interface SurfaceSnap {
  timeMs: number;
  iv: Float64Array;
  mask: Uint8Array;
  logBasis: Float64Array;
}

/** FNV-1a over the row's float64 bytes: equal rows, equal hash (a log can be checked against a backtest). */
export function featureRowHash(values: ArrayLike<number>, offset: number, d: number): string {
  const buf = new Float64Array(d);
  for (let j = 0; j < d; j++) buf[j] = values[offset + j]!;
  const bytes = new Uint8Array(buf.buffer);
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

function sameGrid(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => Math.abs(x - b[i]!) <= 1e-9 * Math.max(1, Math.abs(x)));
}

export class PaperTrader {
  readonly config: PaperTraderConfig;
  readonly stepMs: number;
  readonly needsSurface: boolean;
  readonly log: PaperDecision[] = [];
  private readonly ck: AgentCheckpoint;
  private readonly sb: StateBuilder;
  private readonly buffer: StateBuffer;
  private readonly obs: Float32Array;
  private agent: PPOAgent | undefined;
  private readonly feeRate: number;
  // Rolling window (bar close times and prices), and the surfaces seen.
  private times: number[] = [];
  private prices: number[] = [];
  private volumes: number[] = [];
  /** The agent's features read volumes (generic log_volume/volume_z): the window then carries btcVolumes. */
  private readonly usesVolume: boolean;
  private surfaces: SurfaceSnap[] = [];
  private lastSurfaceAskMs = -Infinity;
  // Paper portfolio.
  private cash: number;
  private units = 0;
  private holdUnits = 0;
  private holdCash = 0;
  private decisions = 0;
  private st: PaperState;

  constructor(private readonly deps: PaperTraderDeps, config: Partial<PaperTraderConfig> = {}) {
    this.config = resolveConfig(PAPER_TRADER_CONFIG_SPEC, config, 'paper');
    this.ck = deps.checkpoint;
    this.stepMs = intervalMs(this.config.interval);
    const agentStep = this.ck.market.dtYears * YEAR_MS;
    if (Math.abs(agentStep - this.stepMs) > 1e-6 * agentStep) {
      throw new InputError(`${this.config.interval} bars (${this.stepMs / 60_000} min) differ from the agent's bar interval (${Math.round(agentStep / 60_000)} min): choose the interval it was trained on`, 'paper: interval');
    }
    this.needsSurface = this.ck.featureNames.some((n) => n.startsWith('btc.'));
    this.usesVolume = this.ck.featureNames.some((n) => /volume/.test(n));
    if (this.needsSurface && !deps.surface) throw new InputError('the agent uses the btc (surface) features: give a Deribit surface source', 'paper: surface');
    this.sb = frozenStateBuilder(this.ck);
    this.buffer = this.sb.newBuffer();
    this.obs = new Float32Array(this.sb.stateSize + 1);
    const e = this.ck.envConfig;
    this.feeRate = e.transactionCost + e.slippageBps * 1e-4;
    this.cash = e.initialCapital;
    this.st = {
      phase: 'idle', note: undefined, bars: 0, decisions: 0, lastBarTimeMs: undefined, equityUsd: e.initialCapital, buyHoldEquityUsd: e.initialCapital,
      initialCapitalUsd: e.initialCapital, unitsBtc: 0, cashUsd: e.initialCapital, lastSurfaceTimeMs: undefined, stream: undefined,
    };
  }

  get state(): PaperState {
    return { ...this.st };
  }

  get agentName(): string {
    return this.ck.name;
  }

  dispose(): void {
    this.agent?.dispose();
    this.agent = undefined;
    this.st.phase = 'stopped';
  }

  /** Loads the warm-up history: closed bars ending before `nowMs`. Returns the last open time loaded. */
  async warmUp(nowMs: number, ctx: JobContext = {}): Promise<number> {
    this.st.phase = 'warming-up';
    this.st.note = `loading ${this.config.historyBars} ${this.config.interval} bars of ${this.config.symbol} history`;
    const lastOpen = Math.floor(nowMs / this.stepMs) * this.stepMs - this.stepMs; // the last bar closed by now
    const rows = await this.deps.history(lastOpen - (this.config.historyBars - 1) * this.stepMs, lastOpen, ctx);
    for (const k of rows) if (k.closeTime < nowMs) this.append(k.closeTime + 1, k.close, k.volume);
    this.st.note = `warm-up: ${this.times.length} bars loaded; decisions start on the first live bar with every feature defined`;
    return this.times.length ? this.times.at(-1)! - this.stepMs : lastOpen;
  }

  /** The stream's state: anything but an open, fresh stream pauses decisions, in the stream's words. */
  setStream(s: KlineStreamState): void {
    this.st.stream = s;
    if (this.st.phase === 'ruined' || this.st.phase === 'stopped') return;
    const live = s.status === 'open' && !s.stale;
    if (!live) {
      this.st.phase = 'paused';
      const why = s.stale ? `no kline update for a while (stale)` : s.status === 'closed' ? 'the stream is closed' : `the stream is ${s.status}`;
      this.st.note = `decisions paused: ${why}${s.lastError ? ` — ${s.lastError}` : ''}`;
    } else if (this.st.phase === 'paused') {
      this.st.phase = this.decisions > 0 ? 'trading' : 'warming-up';
      this.st.note = 'stream live again: decisions resume on the next closed bar';
    }
  }

  private append(closeMs: number, price: number, volume: number): void {
    if (!(price > 0) || !Number.isFinite(price)) throw new InputError(`bar closing ${new Date(closeMs).toISOString()}: price must be finite and > 0, got ${price}`, 'paper: price');
    if (this.times.length && closeMs <= this.times.at(-1)!) return;
    this.times.push(closeMs);
    this.prices.push(price);
    this.volumes.push(Number.isFinite(volume) && volume >= 0 ? volume : 0);
    if (this.times.length > this.config.maxBars) {
      this.times.shift();
      this.prices.shift();
      this.volumes.shift();
    }
    const oldest = this.times[0]! - this.config.surfaceMaxAgeMs;
    while (this.surfaces.length > 1 && this.surfaces[1]!.timeMs <= oldest) this.surfaces.shift();
    this.st.bars = this.times.length;
    this.st.lastBarTimeMs = closeMs;
  }

  private takeSurface(s: Surface): void {
    if (!sameGrid(s.kGrid, this.ck.market.kGrid) || !sameGrid(s.tGrid, this.ck.market.tGrid)) {
      throw new InputError(`the surface grid (k ${JSON.stringify(s.kGrid)}, T ${JSON.stringify(s.tGrid)}) differs from the agent's (k ${JSON.stringify(this.ck.market.kGrid)}, T ${JSON.stringify(this.ck.market.tGrid)})`, 'paper: surface');
    }
    if (this.surfaces.length && s.timestamp <= this.surfaces.at(-1)!.timeMs) return;
    const nk = s.kGrid.length;
    const nt = s.tGrid.length;
    const mask = new Uint8Array(nk * nt);
    for (let i = 0; i < nk * nt; i++) mask[i] = s.mask?.[i] || !Number.isFinite(s.iv[i]!) ? 1 : 0;
    const logBasis = Float64Array.from({ length: nt }, (_, j) => (s.forward?.[j] && s.spot > 0 ? Math.log(s.forward[j]! / s.spot) : NaN));
    this.surfaces.push({ timeMs: s.timestamp, iv: Float64Array.from(s.iv), mask, logBasis });
    this.st.lastSurfaceTimeMs = s.timestamp;
  }

  /** The rolling window as MarketData: surfaces joined as-of each bar close (never one observed after it). */
  windowMarket(): MarketData {
    const n = this.times.length;
    const nk = this.ck.market.kGrid.length;
    const nt = this.ck.market.tGrid.length;
    const cells = nk * nt;
    const iv = new Float64Array(n * cells).fill(NaN);
    const mask = new Uint8Array(n * cells).fill(1);
    const has = new Uint8Array(n);
    const basis = new Float64Array(n * nt).fill(NaN);
    const sTimes = new Float64Array(n).fill(NaN);
    let j = -1;
    for (let s = 0; s < n; s++) {
      const t = this.times[s]!;
      while (j + 1 < this.surfaces.length && this.surfaces[j + 1]!.timeMs <= t) j++;
      const snap = j >= 0 ? this.surfaces[j]! : undefined;
      if (!snap || t - snap.timeMs > this.config.surfaceMaxAgeMs) continue;
      has[s] = 1;
      iv.set(snap.iv, s * cells);
      mask.set(snap.mask, s * cells);
      basis.set(snap.logBasis, s * nt);
      sTimes[s] = snap.timeMs;
    }
    const prices = Float64Array.from(this.prices);
    const m: MarketData = {
      name: `paper-${this.config.symbol}-${this.config.interval}`,
      timesMs: Float64Array.from(this.times),
      dtYears: this.stepMs / YEAR_MS,
      btcPrices: prices,
      btcFutPrices: prices.slice(),
      btcFunding: new Float64Array(n),
      btcOi: new Float64Array(n).fill(NaN),
      kGrid: Float64Array.from(this.ck.market.kGrid),
      tGrid: Float64Array.from(this.ck.market.tGrid),
      btcIvSurface: iv,
      btcIvMask: mask,
      hasSurface: has,
      btcLogBasis: basis,
      btcSurfaceTimesMs: sTimes,
    };
    if (this.usesVolume) m.btcVolumes = Float64Array.from(this.volumes);
    return m;
  }

  private async featureRows(m: MarketData, ctx: JobContext): Promise<FeatureRows> {
    if (this.deps.features) return this.deps.features(m, ctx);
    return buildFeatureMatrix(m, this.ck.featureConfig as Partial<FeatureConfig>, this.deps.featureDeps ?? {}, ctx);
  }

  /**
   * One closed bar from the stream. Bars missed before it are refilled from REST (window only).
   * Returns the decision, or undefined when none was taken (warming up, paused, ruined).
   */
  async onBar(bar: KlineBar, ctx: JobContext = {}): Promise<PaperDecision | undefined> {
    if (ctx.signal?.aborted) throw new CancelledError();
    const closeMs = bar.closeTimeMs + 1;
    const last = this.times.at(-1);
    if (last !== undefined && closeMs <= last) return undefined;
    if (last !== undefined && closeMs - last > this.stepMs * 1.5) {
      const missing = await this.deps.history(last, bar.openTimeMs - this.stepMs, ctx);
      for (const k of missing) this.append(k.closeTime + 1, k.close, k.volume);
      this.st.note = `${missing.length} bar(s) missed by the stream were refilled from REST (not traded)`;
    }
    this.append(closeMs, bar.closeUsd, bar.volumeBase);
    if (this.needsSurface && closeMs - this.lastSurfaceAskMs >= this.config.surfaceEveryMs) {
      this.lastSurfaceAskMs = closeMs;
      const s = await this.deps.surface!(ctx);
      if (s) this.takeSurface(s);
    }
    if (this.st.phase === 'paused' || this.st.phase === 'ruined' || this.st.phase === 'stopped') return undefined;

    const m = this.windowMarket();
    const f = await this.featureRows(m, ctx);
    const names = f.names ?? [];
    if (names.length !== this.ck.featureNames.length || names.some((n, i) => n !== this.ck.featureNames[i])) {
      throw new InputError(`live features ${JSON.stringify(names)} differ from the agent's ${JSON.stringify(this.ck.featureNames)}`, 'paper: features');
    }
    const t = m.btcPrices.length - 1;
    const off = t * f.d;
    for (let j = 0; j < f.d; j++) {
      if (!Number.isFinite(f.values[off + j]!)) {
        this.st.note = `warm-up: ${names[j]} is not defined yet at bar ${new Date(closeMs).toISOString()} (${m.btcPrices.length} bars in the window)`;
        return undefined;
      }
    }
    return this.decide(t, f, closeMs);
  }

  private decide(t: number, f: FeatureRows, closeMs: number): PaperDecision {
    const e = this.ck.envConfig;
    const p = this.prices[t]!;
    const equityBefore = this.cash + this.units * p;
    if (this.decisions === 0) {
      // Buy-and-hold from here, as the backtest's baseline: the whole equity at this close, fee paid.
      this.holdUnits = equityBefore / (p * (1 + this.feeRate));
      this.holdCash = equityBefore - this.holdUnits * p * (1 + this.feeRate);
    }
    // The obs TradingEnv builds: the frozen-normalised window, then the exposure held.
    this.sb.pushRow(this.buffer, f.values, t * f.d, false);
    this.buffer.getState(this.obs, 0);
    this.obs[this.obs.length - 1] = this.decisions === 0 ? 0 : equityBefore !== 0 ? (this.units * p) / equityBefore : 0;
    this.agent ??= agentFromCheckpoint(this.ck);
    const raw = this.agent.act(this.obs, 1, { deterministic: true }).actions[0]!;
    const a = Math.max(-1, Math.min(1, raw));
    const unitsNew = (a * e.maxLeverage * equityBefore) / p;
    const dUnits = unitsNew - this.units;
    const cost = this.feeRate * Math.abs(dUnits) * p;
    this.cash -= dUnits * p + cost;
    this.units = unitsNew;
    const equity = this.cash + unitsNew * p;
    const hold = this.holdCash + this.holdUnits * p;
    const feats: Record<string, number> = {};
    (f.names ?? []).forEach((n, j) => (feats[n] = f.values[t * f.d + j]!));
    const d: PaperDecision = {
      t: this.decisions,
      timeMs: closeMs,
      time: new Date(closeMs).toISOString(),
      priceUsd: p,
      action: a,
      targetExposure: a * e.maxLeverage,
      unitsBtc: unitsNew,
      cashUsd: this.cash,
      equityBeforeUsd: equityBefore,
      equityUsd: equity,
      costUsd: cost,
      buyHoldEquityUsd: hold,
      features: feats,
      featureHash: featureRowHash(f.values, t * f.d, f.d),
    };
    this.decisions++;
    this.log.push(d);
    if (this.log.length > this.config.logLimit) this.log.shift();
    const ruined = equity <= e.ruinFraction * e.initialCapital;
    Object.assign(this.st, {
      phase: ruined ? 'ruined' : 'trading',
      note: ruined ? `equity ${equity.toFixed(2)} USD is below the ruin level (${e.ruinFraction} × initial capital): no further decisions` : undefined,
      decisions: this.decisions,
      equityUsd: equity,
      buyHoldEquityUsd: hold,
      unitsBtc: unitsNew,
      cashUsd: this.cash,
    });
    return d;
  }
}

// ---------------------------------------------------------------------------------------------
// The live session: REST warm-up, then the kline stream feeding the trader one bar at a time.

export interface PaperSessionArgs {
  /** The agent (.hlckpt bytes). */
  agent: Uint8Array;
  /** Binance kline WebSocket base (default the real one; a mirror or the replay server in tests). */
  binanceWsUrl?: string;
  /** Binance spot REST base for the warm-up history and refills. */
  binanceRestUrl?: string;
  /** Deribit REST base for the surface snapshots. */
  deribitUrl?: string;
  config?: Partial<PaperTraderConfig>;
  /** BTC inverse network (.hlckpt bytes) when the agent uses the btc features. */
  inverse?: Uint8Array;
}

export interface PaperSessionEnv {
  WebSocket: WebSocketCtor;
  fetch?: FetchLike;
  clock?: Clock;
  timers?: Timers;
  /** Where the warm-up history ends (default now): a replayed stream's first bar follows it. */
  warmupEndMs?: number;
  /** Stream tuning (tests shorten these). */
  staleMs?: number;
  deadMs?: number;
  backoffBaseMs?: number;
}

export interface PaperSnapshot {
  state: PaperState;
  /** The last `n` decisions (all when n is absent). */
  log: PaperDecision[];
  agentName: string;
  urls: { binanceWs: string; binanceRest: string; deribit: string };
}

export const PAPER_DEFAULT_URLS = { binanceWs: BINANCE_WS_URL, binanceRest: BINANCE_SPOT_URL, deribit: DERIBIT_BASE_URL } as const;

export class PaperSession {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly abort = new AbortController();
  private failure: string | undefined;

  private constructor(
    readonly trader: PaperTrader,
    readonly stream: BinanceKlineStream,
    private readonly clock: Pick<Clock, 'now'>,
    readonly urls: PaperSnapshot['urls'],
    private readonly onChange?: () => void,
  ) {}

  /** Decodes the agent, wires Binance (REST + WS) and Deribit; nothing connects until start(). */
  static async open(a: PaperSessionArgs, env: PaperSessionEnv, onChange?: () => void): Promise<PaperSession> {
    const ck = await decodeAgentCheckpoint(a.agent, 'agent.hlckpt');
    const cfg = resolveConfig(PAPER_TRADER_CONFIG_SPEC, a.config ?? {}, 'paper');
    const urls = { binanceWs: a.binanceWsUrl || BINANCE_WS_URL, binanceRest: a.binanceRestUrl || BINANCE_SPOT_URL, deribit: a.deribitUrl || DERIBIT_BASE_URL };
    const common = { ...(env.fetch ? { fetch: env.fetch } : {}), ...(env.clock ? { clock: env.clock } : {}) };
    const binance = new BinanceClient({ spotBaseUrl: urls.binanceRest, ...common });
    const deribit = new DeribitClient({ baseUrl: urls.deribit, ...common });
    const featureDeps: FeatureDeps = {};
    if (a.inverse) featureDeps.inverse = await decodeCheckpoint(a.inverse, 'inverse.hlckpt');
    if (ck.featureNames.some((n) => n.startsWith('btc.')) && !featureDeps.inverse) throw new InputError('the agent uses the btc features: give the BTC inverse network it was trained with', 'inverse');
    const trader = new PaperTrader(
      {
        checkpoint: ck,
        history: (start, end, ctx) => binance.klines('spot', cfg.symbol, cfg.interval, start, end, ctx),
        surface: async (ctx) => (await takeDeribitSnapshot(deribit, { currency: 'BTC', kGrid: ck.market.kGrid, tGrid: ck.market.tGrid }, ctx)).surface,
        featureDeps,
      },
      cfg,
    );
    let session: PaperSession | undefined;
    const stream = new BinanceKlineStream(
      {
        url: urls.binanceWs, symbol: cfg.symbol, interval: cfg.interval, WebSocket: env.WebSocket,
        ...(env.clock ? { clock: env.clock } : {}), ...(env.timers ? { timers: env.timers } : {}),
        ...(env.staleMs ? { staleMs: env.staleMs } : {}), ...(env.deadMs ? { deadMs: env.deadMs } : {}),
        ...(env.backoffBaseMs ? { backoff: { baseMs: env.backoffBaseMs, maxMs: 30 * env.backoffBaseMs, maxRetries: Infinity } } : {}),
      },
      {
        onState: (st) => {
          trader.setStream(st);
          session?.onChange?.();
        },
        onBar: (bar) => session?.enqueue(bar),
      },
    );
    const w = env.warmupEndMs;
    session = new PaperSession(trader, stream, w !== undefined ? { now: () => w } : (env.clock ?? { now: () => Date.now() }), urls, onChange);
    return session;
  }

  /** Warm-up from REST, then the stream. Rejects if the warm-up fails (a wrong URL, a geo-block). */
  async start(): Promise<void> {
    const lastOpen = await this.trader.warmUp(this.clock.now(), { signal: this.abort.signal });
    this.stream.skipThrough(lastOpen);
    this.stream.start();
    this.onChange?.();
  }

  private enqueue(bar: KlineBar): void {
    // One bar at a time, in order: a feature matrix may take longer than the next bar's arrival.
    this.chain = this.chain.then(async () => {
      if (this.abort.signal.aborted || this.failure) return;
      try {
        await this.trader.onBar(bar, { signal: this.abort.signal });
      } catch (e) {
        if (e instanceof CancelledError) return;
        this.failure = (e as Error).message;
        this.stop();
      }
      this.onChange?.();
    });
  }

  /** Resolves when every bar received so far has been processed. */
  idle(): Promise<unknown> {
    return this.chain;
  }

  stop(): void {
    this.abort.abort();
    this.stream.stop();
    this.trader.dispose();
  }

  snapshot(last?: number): PaperSnapshot {
    const state = this.trader.state;
    if (this.failure) state.note = `stopped: ${this.failure}`;
    const log = last === undefined ? [...this.trader.log] : this.trader.log.slice(-last);
    return { state, log, agentName: this.trader.agentName, urls: this.urls };
  }
}

/**
 * The same session as one cancellable job (Node, tests): runs until ctx.signal aborts, reporting
 * every processed bar as progress (done = decisions), then throws CancelledError.
 */
export async function paperTradeJob(a: PaperSessionArgs, env: PaperSessionEnv, ctx: JobContext = {}): Promise<never> {
  let session: PaperSession | undefined;
  const report = () => {
    if (!session) return;
    const s = session.trader.state;
    ctx.onProgress?.({ done: s.decisions, message: s.note ?? `${s.phase}: ${s.decisions} decisions, equity ${s.equityUsd.toFixed(2)} USD`, metrics: { equityUsd: s.equityUsd, buyHoldEquityUsd: s.buyHoldEquityUsd, bars: s.bars } });
  };
  session = await PaperSession.open(a, env, report);
  if (ctx.signal?.aborted) throw new CancelledError();
  try {
    await session.start();
    await new Promise<void>((resolve) => {
      if (ctx.signal?.aborted) return resolve();
      ctx.signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    session.stop();
  }
  throw new CancelledError();
}
