/**
 * Deribit instrument names, parsed once at the boundary:
 *   BTC-27DEC24-60000-C        inverse option (premium in BTC, strike in USD)
 *   XRP_USDC-27DEC24-0d625-C   linear USDC option; "d" stands for the decimal point (0.625)
 *   BTC-27DEC24                future;  BTC-PERPETUAL / BTC_USDC-PERPETUAL  perpetuals
 * Deribit expiries settle at 08:00 UTC on the named day.
 */
import { InputError } from '../errors.ts';

const MONTHS: Record<string, number> = { JAN: 0, FEB: 1, MAR: 2, APR: 3, MAY: 4, JUN: 5, JUL: 6, AUG: 7, SEP: 8, OCT: 9, NOV: 10, DEC: 11 };

export interface Instrument {
  name: string;
  /** Underlying coin: BTC, ETH, XRP … */
  base: string;
  /** "USDC" for linear instruments, undefined for inverse ones (settled in the base coin). */
  settlement: string | undefined;
  linear: boolean;
  kind: 'option' | 'future' | 'perpetual';
  /** Expiry in ms UTC (08:00 on the named day); undefined for perpetuals. */
  expiry: number | undefined;
  strike: number | undefined;
  isCall: boolean | undefined;
}

/** "27DEC24" → 2024-12-27T08:00:00Z in ms. */
export function parseExpiryCode(code: string, where = code): number {
  const m = /^(\d{1,2})([A-Z]{3})(\d{2})$/.exec(code);
  const month = m ? MONTHS[m[2]!] : undefined;
  if (!m || month === undefined) throw new InputError(`"${code}" is not a Deribit expiry (like 27DEC24)`, where);
  const day = Number(m[1]);
  const year = 2000 + Number(m[3]);
  const t = Date.UTC(year, month, day, 8);
  if (new Date(t).getUTCDate() !== day) throw new InputError(`"${code}": no such day`, where);
  return t;
}

/**
 * ms UTC → Deribit's expiry code, the inverse of parseExpiryCode: 2025-01-03 → "3JAN25" (Deribit
 * writes the day without a leading zero).
 */
export function formatExpiryCode(ms: number): string {
  const d = new Date(ms);
  const month = Object.keys(MONTHS)[d.getUTCMonth()]!;
  return `${d.getUTCDate()}${month}${String(d.getUTCFullYear() % 100).padStart(2, '0')}`;
}

function parseStrike(s: string, where: string): number {
  // "d" (or "D" once a spreadsheet upper-cased the name) is the decimal point.
  if (!/^\d+([dD]\d+)?$/.test(s)) throw new InputError(`strike "${s}" is not a number (decimals are written with "d", as 0d625)`, where);
  return Number(s.replace(/d/i, '.'));
}

export function parseInstrumentName(name: string): Instrument {
  const parts = name.split('-');
  const [head] = parts;
  if (!head) throw new InputError('empty instrument name', 'instrument_name');
  const [base, settlement] = head.split('_') as [string, string | undefined];
  if (!/^[A-Z0-9]+$/.test(base)) throw new InputError(`"${name}" does not start with a currency`, 'instrument_name');
  const common = { name, base, settlement, linear: settlement !== undefined };
  if (parts.length === 2 && parts[1] === 'PERPETUAL') {
    return { ...common, kind: 'perpetual', expiry: undefined, strike: undefined, isCall: undefined };
  }
  if (parts.length === 2) {
    return { ...common, kind: 'future', expiry: parseExpiryCode(parts[1]!, name), strike: undefined, isCall: undefined };
  }
  if (parts.length === 4) {
    const side = parts[3];
    if (side !== 'C' && side !== 'P') throw new InputError(`"${name}": option side must be C or P`, 'instrument_name');
    return { ...common, kind: 'option', expiry: parseExpiryCode(parts[1]!, name), strike: parseStrike(parts[2]!, name), isCall: side === 'C' };
  }
  throw new InputError(`"${name}" is not a Deribit instrument name (like BTC-27DEC24-60000-C)`, 'instrument_name');
}

/**
 * The option an instrument name denotes, or undefined when the text is not an option name (a
 * future, a perpetual, a misspelt or impossible date like 30FEB24, or any other text). For
 * readers that meet names among other cells (CSV exports); case-insensitive, since spreadsheets
 * lower-case text.
 */
export function optionFromName(text: string): (Instrument & { kind: 'option'; expiry: number; strike: number; isCall: boolean }) | undefined {
  try {
    const inst = parseInstrumentName(text.trim().toUpperCase());
    return inst.kind === 'option' && inst.strike! > 0 ? (inst as Instrument & { kind: 'option'; expiry: number; strike: number; isCall: boolean }) : undefined;
  } catch {
    return undefined;
  }
}
