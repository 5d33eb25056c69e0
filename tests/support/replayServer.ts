/**
 * A local stand-in for the Deribit and Binance public APIs, for unit tests (Node) and the Data
 * page's browser test. It answers in the documented formats (the fixtures in tests/fixtures/api,
 * falling back to ../shared/fixtures/api), generates deterministic Binance series for any time
 * range so pagination can be exercised, speaks Deribit's WebSocket protocol (set_heartbeat,
 * test_request / public/test, subscribe, subscription notifications), and injects the failures
 * the clients must survive: HTTP 429 + Retry-After, 418, 451, 500, malformed JSON, JSON-RPC
 * errors, a request that never answers, empty books, missing fields, a socket dropped mid-stream
 * and a socket that stops answering.
 *
 *   Deribit REST   {url}/deribit/api/v2/public/<method>
 *   Deribit WS     {wsUrl}            (ws://127.0.0.1:port/ws/api/v2)
 *   Binance spot   {url}/binance/api/v3/klines
 *   Binance USD-M  {url}/binance/fapi/v1/{klines,fundingRate,premiumIndex,openInterest}
 *                  {url}/binance/futures/data/openInterestHist
 *   Fear & Greed   {url}/alternative/fng/   (api.alternative.me/fng/)
 *   Binance kline WS {binanceWsUrl}/<symbol>@kline_<interval>  (stream.binance.com:9443/ws; its own
 *                  port, as the real stream is its own host): an open-candle event (k.x false) then
 *                  the closed one (k.x true) per bar, bars one interval apart from binanceWs.startMs,
 *                  continuing across reconnects; malformed pushes, drops and silence on demand.
 *   (one base serves both, as a proxy in front of api.binance.com and fapi.binance.com would)
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../..');

/** Reads a fixture's body: the repo copy first, then ../shared beside the repo. */
export function fixture<T = unknown>(name: string): T {
  const file = `${name}.json`;
  for (const dir of [join(REPO, 'tests/fixtures/api'), resolve(REPO, '../shared/fixtures/api')]) {
    const p = join(dir, file);
    if (existsSync(p)) return (JSON.parse(readFileSync(p, 'utf8')) as { body: T }).body;
  }
  throw new Error(`fixture ${file} not found in tests/fixtures/api or ../shared/fixtures/api`);
}

export type Failure =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { malformed: true; status?: number }
  | { hang: true }
  | { rpcError: { code: number; message: string } };

export interface WsBehaviour {
  /** Heartbeat test_request interval the server uses, ms (Deribit uses the requested seconds). */
  heartbeatMs?: number;
  /** Push a notification on each subscribed channel every `pushMs`. */
  pushMs: number;
  /** Terminate the socket after this many pushes (simulates a drop mid-stream). */
  dropAfterPushes?: number;
  /** Stop sending anything (data and heartbeats) after this many pushes, and ignore input. */
  silentAfterPushes?: number;
}

/** The Binance kline stream's behaviour (binanceWsUrl). */
export interface BinanceWsBehaviour {
  /** One event every pushMs: push 2b+1 is bar b still open, push 2b+2 the same bar closed. */
  pushMs: number;
  /** Open time of bar 0 (default 2024-12-20T00:00Z). */
  startMs?: number;
  /** Pushes (1-based, counted across connections) replaced by a malformed message. */
  malformedPushes?: number[];
  /** Terminate each socket after this many of its pushes. */
  dropAfterPushes?: number;
  /** Stop sending after this many pushes on a socket. */
  silentAfterPushes?: number;
}

export interface ReplayServer {
  url: string;
  /** ws://127.0.0.1:port2/ws — append `/btcusdt@kline_1m`. */
  binanceWsUrl: string;
  binanceWs: BinanceWsBehaviour;
  /** Paths the Binance kline stream was opened with, in order. */
  binanceWsPaths: string[];
  wsUrl: string;
  deribitBase: string;
  binanceSpotBase: string;
  binanceFuturesBase: string;
  /** Every HTTP request seen: path (no query), query parameters and arrival (Date.now(), ms). */
  requests: { path: string; query: Record<string, string>; atMs: number }[];
  /** Queue failures for the next requests to a path (matched by suffix, e.g. "get_index_price"). */
  fail(pathSuffix: string, ...failures: Failure[]): void;
  /** Replace the body a Deribit method returns (the `result` field). */
  setDeribitResult(method: string, result: unknown): void;
  ws: WsBehaviour;
  /** Messages received from WebSocket clients (parsed). */
  wsReceived: { method?: string; id?: number; params?: unknown }[];
  wsConnections: number;
  /** Drop every open socket now. */
  dropSockets(): void;
  reset(): void;
  close(): Promise<void>;
}

const INTERVAL_MS: Record<string, number> = { '1m': 60e3, '3m': 180e3, '5m': 300e3, '15m': 900e3, '30m': 1800e3, '1h': 3600e3, '2h': 7200e3, '4h': 14400e3, '6h': 21600e3, '8h': 28800e3, '12h': 43200e3, '1d': 86400e3 };
const SYMBOLS = new Set(['BTCUSDT', 'ETHUSDT', 'DOGEUSDT']);

/** A smooth deterministic price path: the same timestamp always gives the same price. */
function pathPrice(t: number, symbol: string): number {
  const base = symbol === 'ETHUSDT' ? 3400 : symbol === 'DOGEUSDT' ? 0.38 : 97000;
  const h = t / 3.6e6;
  return base * (1 + 0.01 * Math.sin(h / 5) + 0.003 * Math.sin(h * 1.7));
}

function klines(q: Record<string, string>, futures: boolean): unknown[] {
  const step = INTERVAL_MS[q.interval ?? ''];
  if (!step) return [];
  const maxLimit = futures ? 1500 : 1000;
  const limit = Math.min(maxLimit, Number(q.limit ?? 500));
  const start = q.startTime !== undefined ? Math.ceil(Number(q.startTime) / step) * step : Date.UTC(2024, 11, 20) - limit * step;
  const end = q.endTime !== undefined ? Number(q.endTime) : start + (limit - 1) * step;
  const rows: unknown[] = [];
  for (let t = start; t <= end && rows.length < limit; t += step) {
    const prem = futures ? 1.0004 : 1;
    const o = pathPrice(t, q.symbol!) * prem;
    const c = pathPrice(t + step, q.symbol!) * prem;
    const vol = 1000 + 500 * Math.abs(Math.sin(t / 1e7));
    rows.push([t, o.toFixed(2), (Math.max(o, c) * 1.001).toFixed(2), (Math.min(o, c) * 0.999).toFixed(2), c.toFixed(2), vol.toFixed(3), t + step - 1, (vol * c).toFixed(5), 5000, (vol / 2).toFixed(3), ((vol / 2) * c).toFixed(5), '0']);
  }
  return rows;
}

function fundingRates(q: Record<string, string>): unknown[] {
  const step = 8 * 3600e3;
  const limit = Math.min(1000, Number(q.limit ?? 100));
  const start = Math.ceil(Number(q.startTime ?? Date.UTC(2024, 11, 1)) / step) * step;
  const end = q.endTime !== undefined ? Number(q.endTime) : Infinity;
  const rows: unknown[] = [];
  for (let t = start; t <= end && rows.length < limit; t += step) {
    rows.push({ symbol: q.symbol, fundingTime: t, fundingRate: (0.0001 + 0.00005 * Math.sin(t / 1e8)).toFixed(8), markPrice: rows.length === 0 ? '' : pathPrice(t, q.symbol!).toFixed(8) });
  }
  return rows;
}

function openInterestHist(q: Record<string, string>): unknown[] {
  const step = INTERVAL_MS[q.period ?? ''];
  if (!step) return [];
  const limit = Math.min(500, Number(q.limit ?? 30));
  const start = Math.ceil(Number(q.startTime ?? Date.UTC(2024, 11, 19)) / step) * step;
  const end = q.endTime !== undefined ? Number(q.endTime) : Infinity;
  const rows: unknown[] = [];
  for (let t = start; t <= end && rows.length < limit; t += step) {
    const oi = 80000 + 1000 * Math.sin(t / 3e7);
    // The docs show timestamp as a string in places; alternate so the client must cope with both.
    rows.push({ symbol: q.symbol, sumOpenInterest: oi.toFixed(8), sumOpenInterestValue: (oi * pathPrice(t, q.symbol!)).toFixed(8), timestamp: rows.length % 2 ? String(t) : t });
  }
  return rows;
}

export async function startReplayServer(): Promise<ReplayServer> {
  const failures = new Map<string, Failure[]>();
  const deribitResults = new Map<string, unknown>();
  const requests: ReplayServer['requests'] = [];
  const hanging = new Set<ServerResponse>();
  let usedWeight = 0;

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*', 'access-control-expose-headers': '*', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };

  const deribitEnvelope = (result: unknown) => ({ jsonrpc: '2.0', id: 1, result, usIn: 1734681600000123, usOut: 1734681600000535, usDiff: 412, testnet: false });

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(u.searchParams.entries());
    const path = u.pathname;
    requests.push({ path, query, atMs: Date.now() });
    if (req.method === 'OPTIONS') return send(res, 204, '');
    // A route that answers without CORS headers: a browser refuses to show it to the page.
    if (path.startsWith('/nocors/')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('{"jsonrpc":"2.0","result":[]}');
    }
    for (const [suffix, queue] of failures) {
      if (path.endsWith(suffix) && queue.length) {
        const f = queue.shift()!;
        if ('hang' in f) {
          hanging.add(res);
          return;
        }
        if ('malformed' in f) return send(res, f.status ?? 200, '{"jsonrpc": "2.0", "result": [ {"instrument_na');
        if ('rpcError' in f) return send(res, 400, { jsonrpc: '2.0', id: 1, error: f.rpcError, usIn: 1, usOut: 2, usDiff: 1, testnet: false });
        return send(res, f.status, f.body ?? '', f.headers);
      }
    }
    if (path.startsWith('/deribit/api/v2/public/')) {
      const method = path.slice('/deribit/api/v2/public/'.length);
      if (deribitResults.has(method)) return send(res, 200, deribitEnvelope(deribitResults.get(method)));
      const name = `deribit_${method}`;
      try {
        return send(res, 200, fixture(name));
      } catch {
        return send(res, 400, { jsonrpc: '2.0', id: 1, error: { code: -32601, message: 'Method not found' } });
      }
    }
    const isSpot = path.startsWith('/binance/api/');
    const isFut = path.startsWith('/binance/fapi/') || path.startsWith('/binance/futures/');
    if (isSpot || isFut) {
      if (query.symbol !== undefined && !SYMBOLS.has(query.symbol)) return send(res, 400, fixture('binance_error_invalid_symbol'));
      usedWeight += 2;
      const h = { 'x-mbx-used-weight-1m': String(usedWeight) };
      if (path.endsWith('/klines')) return send(res, 200, klines(query, isFut), h);
      if (path.endsWith('/fundingRate')) return send(res, 200, fundingRates(query), h);
      if (path.endsWith('/openInterestHist')) return send(res, 200, openInterestHist(query), h);
      if (path.endsWith('/premiumIndex')) return send(res, 200, { ...fixture<object>('binance_fapi_premiumIndex'), symbol: query.symbol }, h);
      if (path.endsWith('/openInterest')) return send(res, 200, fixture('binance_fapi_openInterest'), h);
    }
    // alternative.me Crypto Fear & Greed Index history (the sentiment provider's source).
    if (path === '/alternative/fng/' || path === '/alternative/fng') return send(res, 200, fixture('alternative_me_fng'));
    send(res, 404, { error: 'no such route' });
  };

  const server = createServer(handle);
  const wss = new WebSocketServer({ server, path: '/ws/api/v2' });
  const state: Pick<ReplayServer, 'ws' | 'wsReceived' | 'wsConnections'> = { ws: { pushMs: 50 }, wsReceived: [], wsConnections: 0 };
  const sockets = new Set<WebSocket>();

  wss.on('connection', (sock) => {
    state.wsConnections++;
    sockets.add(sock);
    const channels = new Set<string>();
    let pushes = 0;
    let silent = false;
    let heartbeat: ReturnType<typeof setInterval> | undefined;
    const notify = (channel: string, data: unknown) => sock.send(JSON.stringify({ jsonrpc: '2.0', method: 'subscription', params: { channel, data } }));
    const pusher = setInterval(() => {
      if (silent || channels.size === 0) return;
      pushes++;
      for (const ch of channels) {
        if (ch.startsWith('ticker.')) {
          const body = fixture<{ params: { data: Record<string, unknown> } }>('deribit_ws_ticker_notification');
          notify(ch, { ...body.params.data, instrument_name: ch.split('.')[1], timestamp: Date.now() });
        } else if (ch.startsWith('markprice.options.')) {
          const body = fixture<{ params: { data: { iv: number }[] } }>('deribit_ws_markprice_options_notification');
          notify(ch, body.params.data.map((d) => ({ ...d, iv: d.iv + 0.001 * Math.sin(pushes), timestamp: Date.now() })));
        } else if (ch.startsWith('deribit_price_index.')) {
          const body = fixture<{ params: { data: Record<string, unknown> } }>('deribit_ws_price_index_notification');
          notify(ch, { ...body.params.data, timestamp: Date.now() });
        } else if (ch.startsWith('deribit_volatility_index.')) {
          const body = fixture<{ params: { data: Record<string, unknown> } }>('deribit_ws_volatility_index_notification');
          notify(ch, { ...body.params.data, timestamp: Date.now() });
        }
      }
      if (state.ws.dropAfterPushes !== undefined && pushes >= state.ws.dropAfterPushes) sock.terminate();
      if (state.ws.silentAfterPushes !== undefined && pushes >= state.ws.silentAfterPushes) silent = true;
    }, state.ws.pushMs);
    sock.on('message', (raw) => {
      let msg: { id?: number; method?: string; params?: { interval?: number; channels?: string[] } };
      try {
        msg = JSON.parse(String(raw));
      } catch {
        return;
      }
      state.wsReceived.push(msg);
      if (silent) return;
      const reply = (result: unknown) => sock.send(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result, usIn: 1, usOut: 2, usDiff: 1, testnet: false }));
      if (msg.method === 'public/set_heartbeat') {
        const every = state.ws.heartbeatMs ?? (msg.params?.interval ?? 30) * 1000;
        clearInterval(heartbeat);
        heartbeat = setInterval(() => {
          if (!silent) sock.send(JSON.stringify(fixture('deribit_ws_heartbeat_test_request')));
        }, every);
        reply('ok');
      } else if (msg.method === 'public/subscribe') {
        for (const c of msg.params?.channels ?? []) channels.add(c);
        reply([...channels]);
      } else if (msg.method === 'public/test') {
        reply({ version: '1.2.26' });
      } else {
        sock.send(JSON.stringify({ jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'Method not found' } }));
      }
    });
    sock.on('close', () => {
      clearInterval(pusher);
      clearInterval(heartbeat);
      sockets.delete(sock);
    });
  });

  // The Binance kline stream on its own port (one WebSocketServer per HTTP server: ws refuses
  // upgrades on paths it does not own, so two could not share one).
  const bServer = createServer((_req, res) => send(res, 404, { error: 'WebSocket only' }));
  const bWss = new WebSocketServer({ server: bServer });
  const bState = { beh: { pushMs: 50 } as BinanceWsBehaviour, paths: [] as string[], pushes: 0 };
  const bSockets = new Set<WebSocket>();
  bWss.on('connection', (sock, req) => {
    bSockets.add(sock);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    bState.paths.push(path);
    const m = /^\/ws\/([a-z0-9]+)@kline_(\w+)$/.exec(path);
    const step = m ? INTERVAL_MS[m[2]!] : undefined;
    if (!m || !step) {
      sock.close(1008, 'Invalid request');
      return;
    }
    const symbol = m[1]!.toUpperCase();
    let mine = 0;
    const pusher = setInterval(() => {
      const beh = bState.beh;
      if (beh.silentAfterPushes !== undefined && mine >= beh.silentAfterPushes) return;
      mine++;
      const i = ++bState.pushes;
      if (beh.malformedPushes?.includes(i)) sock.send('{"e":"kline","k":{"t":');
      else {
        const bar = Math.floor((i - 1) / 2);
        const closed = i % 2 === 0;
        const t0 = (beh.startMs ?? Date.UTC(2024, 11, 20)) + bar * step;
        const o = pathPrice(t0, symbol);
        const c = pathPrice(closed ? t0 + step : t0 + step / 2, symbol);
        const k = { t: t0, T: t0 + step - 1, s: symbol, i: m[2], f: 1, L: 2, o: o.toFixed(2), c: c.toFixed(2), h: (Math.max(o, c) * 1.001).toFixed(2), l: (Math.min(o, c) * 0.999).toFixed(2), v: '12.5', n: 100, x: closed, q: (12.5 * c).toFixed(4), V: '6.2', Q: (6.2 * c).toFixed(4), B: '0' };
        sock.send(JSON.stringify({ e: 'kline', E: t0 + (closed ? step - 1 : step / 2), s: symbol, k }));
      }
      if (beh.dropAfterPushes !== undefined && mine >= beh.dropAfterPushes) sock.terminate();
    }, bState.beh.pushMs);
    sock.on('close', () => {
      clearInterval(pusher);
      bSockets.delete(sock);
    });
  });
  await new Promise<void>((r) => bServer.listen(0, '127.0.0.1', r));
  const bPort = (bServer.address() as { port: number }).port;

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    wsUrl: `ws://127.0.0.1:${port}/ws/api/v2`,
    binanceWsUrl: `ws://127.0.0.1:${bPort}/ws`,
    get binanceWs() {
      return bState.beh;
    },
    set binanceWs(v) {
      bState.beh = v;
    },
    get binanceWsPaths() {
      return bState.paths;
    },
    deribitBase: `${url}/deribit/api/v2`,
    binanceSpotBase: `${url}/binance`,
    binanceFuturesBase: `${url}/binance`,
    requests,
    fail(pathSuffix, ...fs) {
      failures.set(pathSuffix, [...(failures.get(pathSuffix) ?? []), ...fs]);
    },
    setDeribitResult(method, result) {
      deribitResults.set(method, result);
    },
    get ws() {
      return state.ws;
    },
    set ws(v) {
      state.ws = v;
    },
    get wsReceived() {
      return state.wsReceived;
    },
    get wsConnections() {
      return state.wsConnections;
    },
    dropSockets() {
      for (const s of sockets) s.terminate();
      for (const s of bSockets) s.terminate();
    },
    reset() {
      failures.clear();
      deribitResults.clear();
      requests.length = 0;
      state.wsReceived.length = 0;
      state.ws = { pushMs: 50 };
      bState.beh = { pushMs: 50 };
      bState.paths.length = 0;
      bState.pushes = 0;
      usedWeight = 0;
    },
    async close() {
      for (const r of hanging) r.destroy();
      for (const s of sockets) s.terminate();
      for (const s of bSockets) s.terminate();
      bWss.close();
      bServer.closeAllConnections?.();
      await new Promise<void>((r) => bServer.close(() => r()));
      wss.close();
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
    },
  } as ReplayServer;
}
