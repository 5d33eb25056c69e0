/**
 * Example Deribit instrument names that exist today, for placeholders and help text: a name
 * with a hard-coded date (BTC-27DEC24-…) has expired by the time anyone reads it, and Deribit
 * answers an expired name with an error, so an example is derived from the clock.
 * Deribit lists a weekly expiry every Friday at 08:00 UTC (plus dailies, monthlies on the last
 * Friday, quarterlies); the next Friday at least a day ahead is listed and is not about to expire
 * while someone types it.
 */
import { formatExpiryCode } from '../io/instruments.ts';

const DAY_MS = 86_400_000;
const FRIDAY = 5;
const SETTLE_HOUR_UTC = 8;

/** The first Friday 08:00 UTC at least `minLeadMs` (default one day) after `nowMs`. */
export function nextFridayExpiry(nowMs: number, minLeadMs = DAY_MS): number {
  const d = new Date(nowMs + minLeadMs);
  let t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), SETTLE_HOUR_UTC);
  if (t < nowMs + minLeadMs) t += DAY_MS;
  while (new Date(t).getUTCDay() !== FRIDAY) t += DAY_MS;
  return t;
}

/**
 * Strike spacing that Deribit lists on every weekly near the money: BTC every 1 000 USD or
 * finer, ETH every 50; a coarser step (5 000 / 100) gives a round number that is listed.
 */
const ROUND_STRIKE: Record<string, { step: number; fallbackSpot: number }> = {
  BTC: { step: 5_000, fallbackSpot: 100_000 },
  ETH: { step: 100, fallbackSpot: 3_000 },
};

/** A round strike near `spot` (the latest snapshot's or index price; a typical level when unknown). */
export function roundStrike(currency: string, spot?: number): number {
  const r = ROUND_STRIKE[currency.toUpperCase()] ?? { step: 1, fallbackSpot: 100 };
  const s = spot !== undefined && Number.isFinite(spot) && spot > 0 ? spot : r.fallbackSpot;
  return Math.max(r.step, Math.round(s / r.step) * r.step);
}

/** e.g. "BTC-5DEC25-95000-C": the next Friday expiry, a round strike near spot, a call. */
export function exampleOptionName(currency: string, nowMs: number, spot?: number): string {
  const cur = currency.toUpperCase();
  return `${cur}-${formatExpiryCode(nextFridayExpiry(nowMs))}-${roundStrike(cur, spot)}-C`;
}
