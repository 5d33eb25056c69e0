/**
 * Heston pricing commands: `price`, `iv`, `calibrate`. JSON in (stdin or --in FILE), JSON out.
 * Grids are rows = strikes, columns = maturities. r and q are continuously compounded zero rates:
 * one number, or one per maturity. Every input problem is reported as an InputError naming the
 * field (and row/column) at fault.
 */
import { InputError } from '../../src/core/errors.ts';
import { impliedVol } from '../../src/core/heston/blackScholes.ts';
import { calibrate, calibrateSurface, gridProblem, type CalibrationOptions, type CalibrationResult } from '../../src/core/heston/calibrate.ts';
import { assumptionsJson, readSurfaceFile } from './surface.ts';
import { checkIvUnit, ivScale, parseIvUnit, type IvUnit } from '../../src/core/surface/units.ts';
import { firstDuplicate } from '../../src/core/surface/validate.ts';
import { PARAM_NAMES, paramProblems, type HestonParams } from '../../src/core/heston/params.ts';
import { priceGrid } from '../../src/core/heston/pricer.ts';
import type { JobContext } from '../../src/core/jobs.ts';
import { parse, readJsonInput, type CommandDef } from '../io.ts';
import { configFlags, configFromFlags, configHelp, resolveConfig } from '../../src/core/config.ts';
import { CALIBRATION_SETTINGS_SPEC } from '../../src/core/heston/calibrationConfig.ts';

type Json = Record<string, unknown>;

function obj(x: unknown, where: string): Json {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new InputError('must be a JSON object', where);
  return x as Json;
}

function num(o: Json, key: string, where: string, check?: (v: number) => string | undefined): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InputError(`"${key}" must be a finite number, got ${JSON.stringify(v)}`, where);
  const bad = check?.(v);
  if (bad) throw new InputError(`"${key}" ${bad}, got ${v}`, where);
  return v;
}

const positive = (v: number) => (v > 0 ? undefined : 'must be positive');

function numArray(o: Json, key: string, where: string, check?: (v: number) => string | undefined): number[] {
  const v = o[key];
  if (!Array.isArray(v) || v.length === 0) throw new InputError(`"${key}" must be a non-empty array of numbers`, where);
  return v.map((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new InputError(`"${key}"[${i}] must be a finite number, got ${JSON.stringify(x)}`, where);
    const bad = check?.(x);
    if (bad) throw new InputError(`"${key}"[${i}] ${bad}, got ${x}`, where);
    return x;
  });
}

/** r or q: a number (default 0 when absent) or one value per maturity. */
function rate(o: Json, key: string, nt: number, where: string): number | number[] {
  const v = o[key];
  if (v === undefined) return 0;
  if (typeof v === 'number') return num(o, key, where);
  if (Array.isArray(v)) {
    const a = numArray(o, key, where);
    if (a.length !== nt) throw new InputError(`"${key}" has ${a.length} values but there are ${nt} maturities (give one number or one per maturity)`, where);
    return a;
  }
  throw new InputError(`"${key}" must be a number or an array with one rate per maturity`, where);
}

export function readParams(x: unknown, where: string): HestonParams {
  const o = obj(x, where);
  for (const name of PARAM_NAMES) if (!(name in o)) throw new InputError(`missing parameter "${name}"`, where);
  const problems = paramProblems(o as Partial<HestonParams>);
  if (problems.length) throw new InputError(problems.join('; '), where);
  return Object.fromEntries(PARAM_NAMES.map((n) => [n, o[n] as number])) as unknown as HestonParams;
}

/** A [nk][nt] matrix; null entries become NaN when allowNull, else an error. */
function matrix(o: Json, key: string, nk: number, nt: number, where: string, allowNull: boolean): Float64Array {
  const v = o[key];
  if (!Array.isArray(v)) throw new InputError(`"${key}" must be an array of ${nk} rows (strikes) of ${nt} values (maturities)`, where);
  if (v.length !== nk) throw new InputError(`"${key}" has ${v.length} rows but there are ${nk} strikes (rows are strikes, columns maturities)`, where);
  const out = new Float64Array(nk * nt);
  v.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== nt) throw new InputError(`"${key}" row ${i} must have ${nt} values (one per maturity)`, where);
    row.forEach((x, j) => {
      if (x === null && allowNull) out[i * nt + j] = NaN;
      else if (typeof x !== 'number' || !Number.isFinite(x)) throw new InputError(`"${key}" row ${i}, column ${j}: must be a finite number${allowNull ? ' or null' : ''}, got ${JSON.stringify(x)}`, where);
      else out[i * nt + j] = x;
    });
  });
  return out;
}

function toRows(a: ArrayLike<number>, nk: number, nt: number): (number | null)[][] {
  return Array.from({ length: nk }, (_, i) => Array.from({ length: nt }, (_, j) => (Number.isFinite(a[i * nt + j]!) ? a[i * nt + j]! : null)));
}

interface GridInput {
  spot: number;
  strikes: number[];
  maturities: number[];
  r: number | number[];
  q: number | number[];
}

function readGrid(o: Json, where: string): GridInput {
  const spot = num(o, 'spot', where, positive);
  const strikes = numArray(o, 'strikes', where, positive);
  const maturities = numArray(o, 'maturities', where, positive);
  // Rows are strikes and columns maturities: a repeated one would be two vols for one point.
  for (const [key, values, axis] of [['strikes', strikes, 'row'], ['maturities', maturities, 'column']] as const) {
    const d = firstDuplicate(values);
    if (d) throw new InputError(`"${key}"[${d.index}] = ${values[d.index]} duplicates "${key}"[${d.earlier}] (iv ${axis} ${d.index} and ${axis} ${d.earlier} would be one grid point); give each once`, where);
  }
  return { spot, strikes, maturities, r: rate(o, 'r', maturities.length, where), q: rate(o, 'q', maturities.length, where) };
}

export function priceCase(x: unknown, where: string): { calls: (number | null)[][]; puts: (number | null)[][] } {
  const o = obj(x, where);
  const g = readGrid(o, where);
  const params = readParams(o.params, `${where}: params`);
  const { calls, puts } = priceGrid(params, g.spot, g.strikes, g.maturities, g.r, g.q);
  return { calls: toRows(calls, g.strikes.length, g.maturities.length), puts: toRows(puts, g.strikes.length, g.maturities.length) };
}

export const priceCommand: CommandDef = {
  name: 'price',
  summary: 'Heston European call and put prices on a strike × maturity grid',
  usage: [
    'npm run --silent cli -- price [--in FILE]',
    '  in:  {"spot","r","q","strikes":[…],"maturities":[…],"params":{"kappa","theta","sigma","rho","v0"}}',
    '       or {"cases":[…]} with one such object per case',
    '  out: {"calls":[[…]],"puts":[[…]]} (rows strikes, columns maturities) or {"results":[…]}',
    '  r and q: one number or one per maturity (continuously compounded zero rates).',
  ].join('\n'),
  async run(argv) {
    const { values } = parse(argv, { in: { type: 'string' } });
    const where = values.in ?? 'stdin';
    const input = obj(readJsonInput(values.in), where);
    if ('cases' in input) {
      if (!Array.isArray(input.cases)) throw new InputError('"cases" must be an array', where);
      return { results: input.cases.map((c, i) => priceCase(c, `${where}: cases[${i}]`)) };
    }
    return priceCase(input, where);
  },
};

export const ivCommand: CommandDef = {
  name: 'iv',
  summary: 'Black–Scholes implied vols of a grid of call prices (null where not invertible)',
  usage: [
    'npm run --silent cli -- iv [--in FILE]',
    '  in:  {"spot","r","q","strikes":[…],"maturities":[…],"calls":[[…]]} (present values)',
    '  out: {"iv":[[…]],"reasons":[[…]]} — iv null (and a reason) where the price is outside the no-arbitrage bounds',
  ].join('\n'),
  async run(argv) {
    const { values } = parse(argv, { in: { type: 'string' } });
    const where = values.in ?? 'stdin';
    const o = obj(readJsonInput(values.in), where);
    const g = readGrid(o, where);
    const nk = g.strikes.length;
    const nt = g.maturities.length;
    const calls = matrix(o, 'calls', nk, nt, where, false);
    const iv: (number | null)[][] = [];
    const reasons: (string | null)[][] = [];
    for (let i = 0; i < nk; i++) {
      iv.push([]);
      reasons.push([]);
      for (let j = 0; j < nt; j++) {
        const T = g.maturities[j]!;
        const r = typeof g.r === 'number' ? g.r : g.r[j]!;
        const q = typeof g.q === 'number' ? g.q : g.q[j]!;
        const res = impliedVol(calls[i * nt + j]!, { spot: g.spot, strike: g.strikes[i]!, T, r, q, isCall: true });
        iv[i]!.push(Number.isFinite(res.iv) ? res.iv : null);
        reasons[i]!.push(res.reason ?? null);
      }
    }
    return { iv, reasons };
  },
};

/** The calibrate flags: the settings' spec (--target, --multi-start, --seed, --feller-penalty, --max-iterations) and the inputs. */
export const CALIBRATE_OPTIONS = {
  in: { type: 'string' },
  surface: { type: 'string' },
  'iv-unit': { type: 'string' },
  ...configFlags(CALIBRATION_SETTINGS_SPEC),
} as const;

/** Options shared by every calibrate input mode (the JSON grid, a --surface FILE), from the settings' spec. */
export function calibrateOptionsFrom(values: Record<string, unknown>, ctx: JobContext): CalibrationOptions {
  const settings = resolveConfig(CALIBRATION_SETTINGS_SPEC, configFromFlags(CALIBRATION_SETTINGS_SPEC, values), 'calibrate');
  return { ...settings, signal: ctx.signal, onProgress: ctx.onProgress };
}

/** The JSON form of a CalibrationResult printed by the CLI. */
export function calibrationJson(res: CalibrationResult): Json {
  return {
    params: res.params,
    rmse_vol: res.rmseVol,
    iterations: res.iterations,
    ms: Math.round(res.ms * 1000) / 1000,
    converged: res.converged,
    reason: res.reason,
    // Parameters that ended on a bound of the box: the optimum is a constrained one (issue 15).
    at_bounds: res.atBounds,
    points: res.points,
    feller_ratio: res.fellerRatio,
    rmse_price: res.rmsePrice,
  };
}

/**
 * `ivUnit`: how "iv" is written — decimals unless the caller chose percent (--iv-unit pct). A vol
 * above 300 % once in decimals is refused with the unit named (issue 15: [[9, 8.5], …] in percent
 * "converged" with every parameter at a bound and an RMSE of 615 vol points).
 */
export async function calibrateFromJson(x: unknown, where: string, options: CalibrationOptions, ivUnit?: IvUnit): Promise<Json> {
  const o = obj(x, where);
  const g = readGrid(o, where);
  const nk = g.strikes.length;
  const nt = g.maturities.length;
  const raw = matrix(o, 'iv', nk, nt, where, true);
  checkIvUnit(raw, ivUnit ?? 'decimal', ivUnit ? 'option' : 'format', (c) => `"iv" row ${Math.floor(c / nt)}, column ${c % nt}`, where);
  const iv = raw.map((v) => v * ivScale(ivUnit ?? 'decimal'));
  iv.forEach((v, idx) => {
    if (Number.isFinite(v) && !(v > 0 && v < 10)) throw new InputError(`"iv" row ${Math.floor(idx / nt)}, column ${idx % nt}: vol must be a decimal in (0, 10), got ${v}`, where);
  });
  const usable = iv.filter(Number.isFinite).length;
  if (usable < 5) throw new InputError(`"iv" has ${usable} usable quotes; calibration needs at least 5 (null = missing)`, where);
  const start = o.start === undefined ? undefined : readParams(o.start, `${where}: start`);
  const problem = gridProblem(g.spot, g.strikes, g.maturities, iv, g.r, g.q);
  return calibrationJson(await calibrate(problem, { ...options, start: start ?? options.start }));
}

export const calibrateCommand: CommandDef = {
  name: 'calibrate',
  summary: 'Levenberg–Marquardt Heston calibration to an implied-vol grid',
  usage: [
    'npm run --silent cli -- calibrate [--in FILE | --surface FILE.npz|.csv] [settings]',
    '  in:  {"spot","r","q","strikes":[…],"maturities":[…],"iv":[[…]] (null = missing),"start"?:{params}}',
    '  --iv-unit pct|decimal: how "iv" (or the --surface file) writes vols; default decimals for JSON. A vol above 300 % in',
    '  decimals is refused naming the unit, so a percent grid cannot "converge" at the bounds.',
    '  out: {"params":{…},"rmse_vol":…(vol points),"iterations","ms","converged","reason","at_bounds":[names of parameters on a bound],"points","feller_ratio","rmse_price"}',
    '  settings (src/core/heston/calibrationConfig.ts):',
    configHelp(CALIBRATION_SETTINGS_SPEC),
  ].join('\n'),
  async run(argv, ctx) {
    const { values } = parse(argv, CALIBRATE_OPTIONS);
    const options = calibrateOptionsFrom(values, ctx);
    const ivUnit = values['iv-unit'] !== undefined ? parseIvUnit(values['iv-unit'], '--iv-unit') : undefined;
    if (values.surface !== undefined) {
      // A surface file (.npz / .csv, any layout surface inspect reads) instead of a JSON grid.
      const { surface, warnings, assumptions } = readSurfaceFile(values.surface, ivUnit ? { ivUnit } : {});
      return { ...calibrationJson(await calibrateSurface(surface, options)), surface: values.surface, assumptions: assumptionsJson(assumptions), ...(warnings.length ? { warnings } : {}) };
    }
    const where = values.in ?? 'stdin';
    return calibrateFromJson(readJsonInput(values.in), where, options, ivUnit);
  },
};

export const hestonCommands: CommandDef[] = [priceCommand, ivCommand, calibrateCommand];
