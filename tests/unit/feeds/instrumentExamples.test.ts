/**
 * Example instrument names are derived from the clock, so a placeholder never names an expired
 * option (issue 15 item 8). Fixed clocks: weekdays and the year boundary checked by hand against
 * a calendar.
 */
import { describe, expect, it } from 'vitest';
import { exampleOptionName, nextFridayExpiry, roundStrike } from '../../../src/core/feeds/instrumentExamples.ts';
import { formatExpiryCode, parseExpiryCode, parseInstrumentName } from '../../../src/core/io/instruments.ts';

const at = (iso: string) => Date.parse(iso);

describe('nextFridayExpiry', () => {
  it('takes the next Friday 08:00 UTC at least a day ahead', () => {
    // Tuesday 1 Dec 2026 → Friday 4 Dec 2026.
    expect(new Date(nextFridayExpiry(at('2026-12-01T09:54:00Z'))).toISOString()).toBe('2026-12-04T08:00:00.000Z');
    // Thursday 09:00: Friday 08:00 is only 23 h away → the Friday after.
    expect(new Date(nextFridayExpiry(at('2026-12-03T09:00:00Z'))).toISOString()).toBe('2026-12-11T08:00:00.000Z');
    // Thursday 07:00: exactly 25 h before Friday's settlement → that Friday.
    expect(new Date(nextFridayExpiry(at('2026-12-03T07:00:00Z'))).toISOString()).toBe('2026-12-04T08:00:00.000Z');
    // Friday itself, before settlement → next week (never one about to expire).
    expect(new Date(nextFridayExpiry(at('2026-12-04T07:59:00Z'))).toISOString()).toBe('2026-12-11T08:00:00.000Z');
    // Across the year: Tuesday 30 Dec 2025 → Friday 2 Jan 2026.
    expect(new Date(nextFridayExpiry(at('2025-12-30T12:00:00Z'))).toISOString()).toBe('2026-01-02T08:00:00.000Z');
  });
  it('is always a Friday, 1-8 days ahead, for every hour over a few weeks', () => {
    for (let t = at('2026-02-20T00:00:00Z'); t < at('2026-03-20T00:00:00Z'); t += 3_600_000) {
      const e = nextFridayExpiry(t);
      expect(new Date(e).getUTCDay()).toBe(5);
      expect(new Date(e).getUTCHours()).toBe(8);
      expect(e - t).toBeGreaterThanOrEqual(86_400_000);
      expect(e - t).toBeLessThanOrEqual(8 * 86_400_000);
    }
  });
});

describe('formatExpiryCode', () => {
  it('writes Deribit codes without a leading zero and reads back', () => {
    expect(formatExpiryCode(Date.UTC(2026, 0, 2, 8))).toBe('2JAN26');
    expect(formatExpiryCode(Date.UTC(2024, 11, 27, 8))).toBe('27DEC24');
    for (const code of ['2JAN26', '27DEC24', '31MAR28', '9AUG30']) expect(formatExpiryCode(parseExpiryCode(code))).toBe(code);
  });
});

describe('exampleOptionName', () => {
  it('names a listed-looking option that has not expired, with a round strike near spot', () => {
    const now = at('2026-12-01T09:54:00Z');
    expect(exampleOptionName('BTC', now, 91_234)).toBe('BTC-4DEC26-90000-C');
    expect(exampleOptionName('eth', now, 3_456)).toBe('ETH-4DEC26-3500-C');
    expect(exampleOptionName('BTC', now)).toBe('BTC-4DEC26-100000-C');
    const parsed = parseInstrumentName(exampleOptionName('BTC', now, 91_234));
    expect(parsed.kind).toBe('option');
    expect(parsed.expiry! > now).toBe(true);
  });
  it('rounds strikes to the listed spacing and never to zero', () => {
    expect(roundStrike('BTC', 97_600)).toBe(100_000);
    expect(roundStrike('BTC', 1_000)).toBe(5_000);
    expect(roundStrike('ETH', Number.NaN)).toBe(3_000);
  });
});
