/**
 * Trading sessions and wall-clock time in a named zone, for the seed's time-of-day features.
 *
 * The seed computes `minutes_since_open` from a fixed hour ("9h30") applied to ts_utc. SPY opens at
 * 09:30 America/New_York, which is 13:30 UTC in summer (EDT) and 14:30 UTC in winter (EST): a fixed
 * UTC hour is an hour off every winter (about 4½ months a year). Here the open is a local time in
 * an IANA zone, resolved per day with Intl.DateTimeFormat, so DST is handled by the platform's tz
 * database. Crypto trades 24/7: its session is 00:00 UTC, 'continuous'.
 */
import { InputError } from '../errors.ts';

export interface SessionConfig {
  /** Local session open, 'HH:MM' (SPY 09:30; crypto 00:00). */
  open: string;
  /** IANA time zone of the open and of the time-of-day features ('America/New_York', 'UTC'). */
  tz: string;
  /**
   * 'equity': quotes exist only in trading hours, so a contract's quotes on different local days
   * (nights, weekends, holidays) are never bridged by a sequence. 'continuous': 24/7 (crypto).
   */
  kind: 'equity' | 'continuous';
  /**
   * Local time of day assumed for an expiry written as a bare date (YYYY-MM-DD): SPY options stop
   * trading at 16:00 New York; Deribit options settle at 08:00 UTC.
   */
  expiryTime: string;
}

export const SPY_SESSION: SessionConfig = { open: '09:30', tz: 'America/New_York', kind: 'equity', expiryTime: '16:00' };
export const CRYPTO_SESSION: SessionConfig = { open: '00:00', tz: 'UTC', kind: 'continuous', expiryTime: '08:00' };
/** The seed is SPY: its session is the default. */
export const DEFAULT_SESSION = SPY_SESSION;

/** 'HH:MM' (or 'HH:MM:SS') → minutes after local midnight. */
export function parseClock(s: string, where: string): number {
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(s.trim());
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59 || Number(m[3] ?? 0) > 59) {
    throw new InputError(`"${s}" is not a time of day (expected HH:MM, like 09:30)`, where);
  }
  return Number(m[1]) * 60 + Number(m[2]) + Number(m[3] ?? 0) / 60;
}

const FORMATTERS = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = FORMATTERS.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    FORMATTERS.set(tz, f);
  }
  return f;
}

/** Throws InputError naming `where` unless tz is a zone this platform knows. */
export function checkTimeZone(tz: string, where: string): void {
  try {
    formatter(tz);
  } catch {
    throw new InputError(`"${tz}" is not an IANA time zone this platform knows (like America/New_York or UTC)`, where);
  }
}

export function checkSession(s: SessionConfig, where: string): SessionConfig {
  parseClock(s.open, `${where}: open`);
  parseClock(s.expiryTime, `${where}: expiryTime`);
  checkTimeZone(s.tz, `${where}: tz`);
  if (s.kind !== 'equity' && s.kind !== 'continuous') throw new InputError(`kind must be equity or continuous (got "${String(s.kind)}")`, where);
  return s;
}

export interface LocalTime {
  year: number;
  month: number;
  day: number;
  /** Local hour in [0, 24) with minutes, seconds and milliseconds as a fraction. */
  hours: number;
}

/** Wall-clock date and fractional hour of `ms` (UTC) in zone `tz`. */
export function localTime(ms: number, tz: string): LocalTime {
  const parts = formatter(tz).formatToParts(new Date(ms));
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  // Zone offsets are whole seconds in every zone since 1972, so sub-second time is the UTC one.
  const frac = ((ms % 1000) + 1000) % 1000;
  return { year: get('year'), month: get('month'), day: get('day'), hours: get('hour') + get('minute') / 60 + (get('second') + frac / 1000) / 3600 };
}

/** Local wall-clock time as if it were UTC (the zone's offset folded in). */
function wallAsUtc(ms: number, tz: string): number {
  const l = localTime(ms, tz);
  return Date.UTC(l.year, l.month - 1, l.day) + l.hours * 3_600_000;
}

/**
 * The UTC instant of local time `minutes` after midnight of (year, month, day) in `tz`. The offset
 * is taken twice (the offset at the first guess can differ from the one at the answer on a DST
 * change day); a wall time that does not exist (the spring gap) maps an hour later, one that
 * exists twice (autumn) to one of its two instants.
 */
export function zonedToUtc(year: number, month: number, day: number, minutes: number, tz: string): number {
  const wall = Date.UTC(year, month - 1, day) + minutes * 60_000;
  const offset = (t: number) => wallAsUtc(t, tz) - t;
  const t1 = wall - offset(wall);
  const off1 = offset(t1);
  const t2 = wall - off1;
  return offset(t2) === off1 ? t2 : t1;
}

/** UTC instant of the session open on the local day containing `ms`. */
export function sessionOpenUtc(ms: number, s: SessionConfig): number {
  const l = localTime(ms, s.tz);
  return zonedToUtc(l.year, l.month, l.day, parseClock(s.open, 'session open'), s.tz);
}

/** A key of the local calendar day of `ms` in the session's zone (for 'never bridge nights'). */
export function localDayKey(ms: number, tz: string): number {
  const l = localTime(ms, tz);
  return l.year * 10_000 + l.month * 100 + l.day;
}
