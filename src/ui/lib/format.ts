/**
 * How numbers read on every page. Maturities as people say them (`7 d`, `3 m`, `1.0 y`, never
 * `T=0.019178082191780823`), vols in percent, log-moneyness with a sign. One module so that a
 * chart, a table header and a legend always agree.
 */

const DAYS_PER_YEAR = 365;

/**
 * A maturity in years as a person reads it: under 60 days in days, under a year in months,
 * then years. 0.0192 y → "7 d", 0.25 y → "3 m", 1 y → "1.0 y", 2.5 y → "2.5 y".
 */
export function formatMaturity(tYears: number): string {
  if (!Number.isFinite(tYears)) return '–';
  const days = tYears * DAYS_PER_YEAR;
  if (days < 1) return `${(days * 24).toFixed(0)} h`;
  if (days < 60) return `${Math.round(days)} d`;
  if (tYears < 1 - 1e-9) {
    const months = tYears * 12;
    return `${Number.isInteger(Math.round(months * 10) / 10) ? months.toFixed(0) : months.toFixed(1)} m`;
  }
  return `${tYears.toFixed(1)} y`;
}

/** A decimal vol as percent: 0.5523 → "55.2 %". */
export function formatVolPct(v: number, digits = 1): string {
  return Number.isFinite(v) ? `${(100 * v).toFixed(digits)} %` : '–';
}

/** Log-moneyness with an explicit sign and two decimals: −0.4 → "−0.40", 0 → "0.00", 0.2 → "+0.20". */
export function formatLogMoneyness(k: number): string {
  if (!Number.isFinite(k)) return '–';
  const s = Math.abs(k).toFixed(2);
  if (Number(s) === 0) return '0.00';
  return `${k < 0 ? '−' : '+'}${s}`;
}

/** A count with its noun, singular for one: (1, 'worker') → "1 worker", (3, 'worker') → "3 workers". */
export function plural(n: number, noun: string, pluralNoun = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : pluralNoun}`;
}

/** Tick labels that fit: a value with at most `digits` significant digits, no trailing zeros. */
export function formatTick(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return '';
  if (v === 0) return '0';
  return String(Number(v.toPrecision(digits)));
}

/**
 * Tooltip of a term-structure chart (axis trigger, points [T years, vol %]): "37 d: 16.81 %".
 * echarts' default showed the axis value ('0.10') and the raw float (16.814019668444253).
 */
export function termTooltip(params: unknown): string {
  const p = (Array.isArray(params) ? params[0] : params) as { value?: [number, number | null] } | undefined;
  const q = p?.value;
  if (!q) return '';
  return `${formatMaturity(q[0])}: ${q[1] === null || !Number.isFinite(q[1]) ? 'masked' : `${q[1].toFixed(2)} %`}`;
}

/** The Heston parameters as table headers write them (κ θ σ ρ v0), in PARAM_NAMES order. */
export const PARAM_SYMBOLS: Readonly<Record<'kappa' | 'theta' | 'sigma' | 'rho' | 'v0', string>> = { kappa: 'κ', theta: 'θ', sigma: 'σ', rho: 'ρ', v0: 'v0' };
