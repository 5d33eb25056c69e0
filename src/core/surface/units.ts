/**
 * Implied-vol units at the boundary (issue 15 item 3): the lab's vols are decimals (0.55), files
 * and users write percent (55) as often, and a percent grid read as decimals still "calibrates" —
 * every parameter at a bound, RMSE 615 vol points, `converged: true`. So every reader knows which
 * unit it applied and why, and refuses a decimal vol above MAX_DECIMAL_IV: 300 % is beyond any
 * quoted BTC or ETH option outside the last hours before expiry, while percent vols of 3.8 (a
 * rates or FX surface) read as decimals would be 380 %.
 */
import { InputError } from '../errors.ts';

export type IvUnit = 'decimal' | 'percent';

/** Where the unit came from, for the user to see next to the imported surface. */
export type IvUnitSource =
  /** The caller chose it (--iv-unit, the import dialog's unit control). */
  | 'option'
  /** The file states it: a "# iv=percent" line, an iv_pct / iv_decimal header. */
  | 'file'
  /** The format defines it: .npz surfaces hold decimals, Deribit's mark_iv is percent. */
  | 'format'
  /** Nothing states it; read from the values (median above MAX_DECIMAL_IV means percent). */
  | 'inferred';

/** The largest decimal vol a reader accepts without an explicit unit error (300 %). */
export const MAX_DECIMAL_IV = 3;

/** How a user chooses the unit, quoted in every unit error. */
export const CHOOSE_IV_UNIT = 'choose the unit: --iv-unit pct|decimal on the CLI, the unit control when importing on a page, or a "# iv=percent" / "# iv=decimal" line in a CSV';

/** "pct", "percent", "%" → percent; "decimal", "dec", "fraction" → decimal. */
export function parseIvUnit(text: string, where: string): IvUnit {
  const v = text.trim().toLowerCase();
  if (v === 'decimal' || v === 'dec' || v === 'fraction') return 'decimal';
  if (v === 'percent' || v === 'pct' || v === '%') return 'percent';
  throw new InputError(`iv unit "${text}" must be pct (percent) or decimal`, where);
}

/** Multiplier from the file's unit to decimals. */
export function ivScale(unit: IvUnit): number {
  return unit === 'percent' ? 0.01 : 1;
}

/** The unit the values suggest: percent when their median (finite, positive ones) exceeds MAX_DECIMAL_IV. */
export function inferIvUnit(values: ArrayLike<number>): IvUnit {
  const sorted = Array.from(values).filter((v) => v > 0 && Number.isFinite(v)).sort((a, b) => a - b);
  const median = sorted.length ? sorted[Math.floor(sorted.length / 2)]! : 0;
  return median > MAX_DECIMAL_IV ? 'percent' : 'decimal';
}

function describeUnit(unit: IvUnit, from: IvUnitSource): string {
  const u = unit === 'percent' ? 'PERCENT' : 'DECIMALS';
  switch (from) {
    case 'option':
      return `read as ${u} (that unit was chosen)`;
    case 'file':
      return `read as ${u} (the file says so)`;
    case 'format':
      return `read as ${u} (the format's unit)`;
    case 'inferred':
      return `read as ${u} (the unit is not stated and the values' median is ${unit === 'percent' ? 'above' : 'at most'} ${MAX_DECIMAL_IV})`;
  }
}

/**
 * Refuses vols above MAX_DECIMAL_IV once converted to decimals. `raw` are the values as written,
 * `mask` (1 = masked) skips cells without data, `cell(i)` names cell i ("row 3, column 2 (T=0.25)").
 * Throws an InputError naming `where`, the cell, the unit applied and why, and how to choose it.
 */
export function checkIvUnit(raw: ArrayLike<number>, unit: IvUnit, from: IvUnitSource, cell: (i: number) => string, where: string, mask?: ArrayLike<number>): void {
  const scale = ivScale(unit);
  let first = -1;
  let count = 0;
  for (let i = 0; i < raw.length; i++) {
    if (mask?.[i] === 1) continue;
    const v = raw[i]! * scale;
    if (Number.isFinite(v) && v > MAX_DECIMAL_IV) {
      if (first < 0) first = i;
      count++;
    }
  }
  if (first < 0) return;
  const v = raw[first]!;
  const pct = +(v * scale * 100).toPrecision(4);
  const more = count > 1 ? ` (${count} such vols)` : '';
  throw new InputError(
    `${cell(first)}: vol ${v}, ${describeUnit(unit, from)}, is ${pct} %, above the ${MAX_DECIMAL_IV * 100} % this lab accepts${more}; if the vols are ${unit === 'decimal' ? 'in percent' : 'decimals'}, ${CHOOSE_IV_UNIT}`,
    where,
  );
}

/** What a reader assumed, returned with what it read so a page can show it next to the import. */
export interface ReaderAssumptions {
  ivUnit: { unit: IvUnit; from: IvUnitSource };
  spot: { value: number; from: 'option' | 'file' | 'underlying' | 'default' };
  /** Milliseconds since the epoch, UTC. */
  timestamp: { value: number; from: 'option' | 'file' | 'quotes' | 'import-time' };
}
