/**
 * The seed's seven features, under its names and in its order:
 *   log_moneyness       ln(strike / spot_price)
 *   dte                 (expiry − ts_utc) in days (86 400 s)
 *   hour_sin, hour_cos  sin / cos(2π h / 24), h = local time of day in the session's zone in
 *                       fractional hours, seconds included (14:30:36 → 14.51)
 *   minutes_since_open  minutes elapsed since the session open of the same local day (negative
 *                       before it). Elapsed real minutes: they equal the wall-clock difference
 *                       except before 03:00 on a DST change day, where the clock jumps.
 *   spot_price          the underlying price
 *   right_enc           0 call, 1 put
 * The seed counts minutes from "9h30" on the UTC clock; with the open at 09:30 America/New_York
 * resolved per day (session.ts) the feature is right in winter too, when the seed's is an hour off.
 */
import type { QuoteRecord } from './quotes.ts';
import { localTime, sessionOpenUtc, type SessionConfig } from './session.ts';

export const SEED_FEATURES = ['log_moneyness', 'dte', 'hour_sin', 'hour_cos', 'minutes_since_open', 'spot_price', 'right_enc'] as const;
export type SeedFeature = (typeof SEED_FEATURES)[number];
export const N_SEED_FEATURES = SEED_FEATURES.length;

const DAY_MS = 86_400_000;

/** The seven features of one quote, in SEED_FEATURES order, as float64. */
export function quoteFeatures(q: QuoteRecord, session: SessionConfig): Float64Array {
  return featureMatrix([q], session);
}

/**
 * Features of many quotes, row-major [n, 7]. Local time is resolved once per distinct timestamp
 * (a chain shares its timestamp across ~40 contracts, and Intl formatting is the slow part).
 */
export function featureMatrix(quotes: readonly QuoteRecord[], session: SessionConfig): Float64Array {
  const out = new Float64Array(quotes.length * N_SEED_FEATURES);
  const timeCache = new Map<number, [number, number, number]>();
  for (let i = 0; i < quotes.length; i++) {
    const q = quotes[i]!;
    let t = timeCache.get(q.tsMs);
    if (!t) {
      const h = localTime(q.tsMs, session.tz).hours;
      t = [Math.sin((2 * Math.PI * h) / 24), Math.cos((2 * Math.PI * h) / 24), (q.tsMs - sessionOpenUtc(q.tsMs, session)) / 60_000];
      timeCache.set(q.tsMs, t);
    }
    const o = i * N_SEED_FEATURES;
    out[o] = Math.log(q.strike / q.spot);
    out[o + 1] = (q.expiryMs - q.tsMs) / DAY_MS;
    out[o + 2] = t[0];
    out[o + 3] = t[1];
    out[o + 4] = t[2];
    out[o + 5] = q.spot;
    out[o + 6] = q.right === 'P' ? 1 : 0;
  }
  return out;
}
