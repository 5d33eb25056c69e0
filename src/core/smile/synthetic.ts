/**
 * Synthetic option quotes (labelled synthetic wherever they are written), for tests, the bundled
 * sample and the page's offline demo. Each contract's IV is a smooth smile in (log-moneyness,
 * dte) plus its own AR(1) deviation x:
 *   iv_t = base(ln(K/S_t), dte_t) + x_t,   x_{t+1} = φ·x_t + σ·ε_{t+1},  ε ~ N(0, 1)
 *   base = 0.16 + 0.04·e^(−dte/30) − 0.15·lm + 0.6·lm² (+ 0.005 for puts)
 * With φ < 1 the next IV is predictable from the window (the deviation mean-reverts): the best
 * forecast iv_t − (1 − φ)·x_t beats persistence, with skill 1 − √(1 / (1 + (1 − φ)² / (1 − φ²)))
 * (φ = 0.5: 0.134). With φ = 1 (a random walk) nothing beats persistence. The spot follows a
 * GBM; quotes are taken in the session's hours (equity: open to `closeTime` on weekdays).
 */
import { Rng } from '../math/rng.ts';
import type { QuoteRecord } from './quotes.ts';
import { parseClock, sessionOpenUtc, zonedToUtc, type SessionConfig } from './session.ts';

export interface SyntheticQuoteConfig {
  seed: number;
  underlying: string;
  /** First day (UTC date, ISO). */
  startDate: string;
  days: number;
  samplingMinutes: number;
  session: SessionConfig;
  /** Equity sessions: local close time. */
  closeTime: string;
  /** Expiries as days after the start date (each at the session's expiry time). */
  expiryDays: number[];
  /** Strikes as spot0 · (1 + k). */
  strikeOffsets: number[];
  spot0: number;
  /** Annualised GBM vol of the spot. */
  spotVol: number;
  /** AR(1) coefficient of each contract's deviation (1 = random walk). */
  phi: number;
  /** Per-step std of the deviation's innovation (decimal vol). */
  noise: number;
  /** Round IVs to this many decimals (the bundled file uses 5). */
  ivDecimals: number | null;
}

export const DEFAULT_SYNTHETIC_QUOTES: SyntheticQuoteConfig = {
  seed: 7,
  underlying: 'SPY',
  startDate: '2026-01-05',
  days: 6,
  samplingMinutes: 5,
  session: { open: '09:30', tz: 'America/New_York', kind: 'equity', expiryTime: '16:00' },
  closeTime: '16:00',
  expiryDays: [11, 39],
  strikeOffsets: [-0.06, -0.02, 0.02, 0.06],
  spot0: 590,
  spotVol: 0.15,
  phi: 0.5,
  noise: 0.004,
  ivDecimals: 5,
};

/** Named Rng streams of the generator. */
const STREAM = { spot: 1, contract: 100 } as const;

export function baseSmile(lm: number, dteDays: number, put: boolean): number {
  return 0.16 + 0.04 * Math.exp(-dteDays / 30) - 0.15 * lm + 0.6 * lm * lm + (put ? 0.005 : 0);
}

/** The sampling instants of the configured days (ms UTC, increasing). */
export function sessionTimes(c: SyntheticQuoteConfig): number[] {
  const [y, m, d] = c.startDate.split('-').map(Number) as [number, number, number];
  const step = c.samplingMinutes * 60_000;
  const out: number[] = [];
  for (let day = 0; day < c.days; day++) {
    const date = new Date(Date.UTC(y, m - 1, d + day));
    if (c.session.kind === 'equity') {
      const dow = date.getUTCDay();
      if (dow === 0 || dow === 6) continue;
      const open = zonedToUtc(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), parseClock(c.session.open, 'open'), c.session.tz);
      const close = zonedToUtc(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), parseClock(c.closeTime, 'closeTime'), c.session.tz);
      for (let t = open; t <= close; t += step) out.push(t);
    } else {
      const start = sessionOpenUtc(date.getTime() + 43_200_000, c.session);
      for (let t = start; t < start + 86_400_000; t += step) out.push(t);
    }
  }
  return out;
}

export function syntheticQuotes(config: Partial<SyntheticQuoteConfig> = {}): QuoteRecord[] {
  const c: SyntheticQuoteConfig = { ...DEFAULT_SYNTHETIC_QUOTES, ...config };
  const times = sessionTimes(c);
  const [y, m, d] = c.startDate.split('-').map(Number) as [number, number, number];
  const expiries = c.expiryDays.map((k) => {
    const day = new Date(Date.UTC(y, m - 1, d + k));
    return zonedToUtc(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), parseClock(c.session.expiryTime, 'expiryTime'), c.session.tz);
  });
  const contracts = expiries.flatMap((expiryMs) => c.strikeOffsets.flatMap((k) => (['C', 'P'] as const).map((right) => ({ expiryMs, strike: Math.round(c.spot0 * (1 + k)), right }))));
  const spotRng = Rng.stream(c.seed, STREAM.spot);
  const rngs = contracts.map((_, i) => Rng.stream(c.seed, STREAM.contract + i));
  // Start each deviation in its stationary law (random walk: at 0).
  const x = rngs.map((r) => (c.phi < 1 ? (r.normal() * c.noise) / Math.sqrt(1 - c.phi * c.phi) : 0));
  const round = (v: number) => (c.ivDecimals === null ? v : Number(v.toFixed(c.ivDecimals)));
  const out: QuoteRecord[] = [];
  let spot = c.spot0;
  let prev = times[0]!;
  for (const t of times) {
    const dtYears = (t - prev) / (365 * 86_400_000);
    spot *= Math.exp(-0.5 * c.spotVol * c.spotVol * dtYears + c.spotVol * Math.sqrt(dtYears) * spotRng.normal());
    prev = t;
    const s = Number(spot.toFixed(2));
    contracts.forEach((k, i) => {
      if (t >= k.expiryMs) return;
      x[i] = c.phi * x[i]! + c.noise * rngs[i]!.normal();
      const iv = round(Math.max(0.01, baseSmile(Math.log(k.strike / s), (k.expiryMs - t) / 86_400_000, k.right === 'P') + x[i]!));
      out.push({ tsMs: t, underlying: c.underlying, expiryMs: k.expiryMs, strike: k.strike, right: k.right, iv, spot: s });
    });
  }
  return out.sort((a, b) => a.tsMs - b.tsMs || a.expiryMs - b.expiryMs || a.strike - b.strike || (a.right === 'C' ? -1 : 1));
}

