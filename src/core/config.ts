/**
 * Typed configs declared once (CleanRL's `Args`, TensorFlow Playground's `state.ts`): every
 * algorithm's knobs are a ConfigSpec — one FieldSpec per field with its default and a doc line —
 * and the defaults, the validation of a JSON file or a form, the CLI flags, the CLI help and the
 * page forms are all derived from it, so a default can never say 20 in one place and 30 in another.
 *
 *   export const PPO_CONFIG_SPEC: ConfigSpec<PPOConfig> = { gamma: { default: 0.99, doc: '…', min: 0, max: 1 }, … };
 *   export const DEFAULT_PPO_CONFIG = defaultsOf(PPO_CONFIG_SPEC);
 *   const cfg = resolveConfig(PPO_CONFIG_SPEC, JSON.parse(text), 'ppo.json');   // InputError names the key
 *
 * A field's kind is read from its default: number, boolean, string (with `choices`), number[]
 * (`default: [64, 64]`), a nested config (`fields`), or null-able (`nullable`, default null or a
 * value). Lives at the root of src/core (beside errors.ts and jobs.ts): every package may use it.
 */
import { InputError } from './errors.ts';

export interface FieldSpec<T> {
  /** The value used when the field is omitted. */
  default: T;
  /** One line, shown in `--help` and beside the page form's input. */
  doc: string;
  /** Numbers (and each element of a number array): inclusive bounds. */
  min?: number;
  max?: number;
  /** Numbers: must be whole. */
  integer?: boolean;
  /** Strings: the allowed values. */
  choices?: readonly string[];
  /** null is allowed (e.g. `maxEpisodeSteps: null` for "no limit"). */
  nullable?: boolean;
  /** A nested config (an object field such as `rewardConfig`). */
  fields?: ConfigSpec<any>;
  /** The unit, shown in help and forms ("years", "bps", "vol points"). */
  unit?: string;
}

export type ConfigSpec<C> = { [K in keyof C]-?: FieldSpec<C[K]> };

type Kind = 'number' | 'boolean' | 'string' | 'numbers' | 'object';

function kindOf(f: FieldSpec<unknown>, key: string): Kind {
  if (f.fields) return 'object';
  const d = f.default;
  if (typeof d === 'number') return 'number';
  if (typeof d === 'boolean') return 'boolean';
  if (typeof d === 'string') return 'string';
  if (Array.isArray(d)) return 'numbers';
  // A nullable field whose default is null says its kind through its constraints.
  if (d === null && f.nullable) {
    if (f.choices) return 'string';
    return 'number';
  }
  throw new Error(`config spec: field ${key} has a default of unsupported type`);
}

/** The defaults, as a fresh object (nested configs and arrays copied, so callers may mutate). */
export function defaultsOf<C>(spec: ConfigSpec<C>): C {
  const out: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(spec) as [string, FieldSpec<unknown>][]) {
    if (f.fields) out[key] = defaultsOf(f.fields);
    else out[key] = Array.isArray(f.default) ? [...(f.default as unknown[])] : f.default;
  }
  return out as C;
}

function checkNumber(v: number, f: FieldSpec<unknown>, where: string): void {
  if (!Number.isFinite(v)) throw new InputError(`must be a finite number, got ${v}`, where);
  if (f.integer && !Number.isInteger(v)) throw new InputError(`must be a whole number, got ${v}`, where);
  // `min: Number.MIN_VALUE` is how a spec says "strictly positive"; say it that way.
  if (f.min !== undefined && v < f.min) throw new InputError(f.min === Number.MIN_VALUE ? `must be > 0, got ${v}` : `must be ≥ ${f.min}, got ${v}`, where);
  if (f.max !== undefined && v > f.max) throw new InputError(`must be ≤ ${f.max}, got ${v}`, where);
}

function checkValue(value: unknown, f: FieldSpec<unknown>, key: string, where: string): unknown {
  const at = `${where}: ${key}`;
  if (value === null) {
    if (f.nullable) return null;
    throw new InputError('may not be null', at);
  }
  switch (kindOf(f, key)) {
    case 'number':
      if (typeof value !== 'number') throw new InputError(`must be a number, got ${JSON.stringify(value)}`, at);
      checkNumber(value, f, at);
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw new InputError(`must be true or false, got ${JSON.stringify(value)}`, at);
      return value;
    case 'string':
      if (typeof value !== 'string') throw new InputError(`must be a string, got ${JSON.stringify(value)}`, at);
      if (f.choices && !f.choices.includes(value)) throw new InputError(`must be one of ${f.choices.join(', ')}, got "${value}"`, at);
      return value;
    case 'numbers':
      if (!Array.isArray(value) || value.length === 0) throw new InputError(`must be a non-empty list of numbers, got ${JSON.stringify(value)}`, at);
      value.forEach((x, i) => {
        if (typeof x !== 'number') throw new InputError(`must be a number, got ${JSON.stringify(x)}`, `${at}[${i}]`);
        checkNumber(x, f, `${at}[${i}]`);
      });
      return [...value];
    case 'object':
      return resolveConfig(f.fields!, value, at);
  }
}

/**
 * A full config from a partial one (a JSON file, a form, a URL hash): omitted fields take their
 * defaults; an unknown key, a wrong type or an out-of-range value is an InputError naming `where`
 * and the key, so a typo such as `"gama": 0.9` is refused instead of silently ignored.
 */
export function resolveConfig<C>(spec: ConfigSpec<C>, partial: unknown, where: string): C {
  if (partial === undefined || partial === null) return defaultsOf(spec);
  if (typeof partial !== 'object' || Array.isArray(partial)) throw new InputError('must be a JSON object', where);
  const fields = spec as Record<string, FieldSpec<unknown>>;
  for (const key of Object.keys(partial)) {
    if (!(key in fields)) {
      throw new InputError(`unknown key "${key}" (known: ${Object.keys(fields).join(', ')})`, where);
    }
  }
  const out = defaultsOf(spec) as Record<string, unknown>;
  for (const [key, value] of Object.entries(partial as Record<string, unknown>)) {
    if (value === undefined) continue;
    out[key] = checkValue(value, fields[key]!, key, where);
  }
  return out as C;
}

/** camelCase → kebab-case: `rolloutLen` → `rollout-len`. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** node:util parseArgs options for every top-level scalar or list field (all read as strings). */
export function configFlags<C>(spec: ConfigSpec<C>): Record<string, { type: 'string' }> {
  const out: Record<string, { type: 'string' }> = {};
  for (const [key, f] of Object.entries(spec) as [string, FieldSpec<unknown>][]) {
    if (f.fields) continue; // nested configs come from a JSON file, not flags
    out[flagName(key)] = { type: 'string' };
  }
  return out;
}

function parseFlag(raw: string, f: FieldSpec<unknown>, key: string, where: string): unknown {
  const at = `${where}${flagName(key)}`;
  if (f.nullable && (raw === 'null' || raw === 'none')) return null;
  switch (kindOf(f, key)) {
    case 'number': {
      const v = raw.trim() === '' ? NaN : Number(raw);
      if (!Number.isFinite(v)) throw new InputError(`must be a number, got "${raw}"`, at);
      checkNumber(v, f, at);
      return v;
    }
    case 'boolean':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw new InputError(`must be true or false, got "${raw}"`, at);
    case 'string':
      if (f.choices && !f.choices.includes(raw)) throw new InputError(`must be one of ${f.choices.join(', ')}, got "${raw}"`, at);
      return raw;
    case 'numbers':
      return raw.split(',').map((s, i) => {
        const v = s.trim() === '' ? NaN : Number(s);
        if (!Number.isFinite(v)) throw new InputError(`element ${i} must be a number, got "${s}"`, at);
        checkNumber(v, f, at);
        return v;
      });
    case 'object':
      throw new InputError('is a nested config: give it in a JSON file', at);
  }
}

/**
 * The fields given as flags (parsed values from parseArgs with configFlags), validated; omitted
 * flags are absent from the result so it can be merged over a file's config:
 * `resolveConfig(spec, { ...fileConfig, ...configFromFlags(spec, values) }, where)`.
 */
export function configFromFlags<C>(spec: ConfigSpec<C>, values: Record<string, unknown>, where = '--'): Partial<C> {
  const out: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(spec) as [string, FieldSpec<unknown>][]) {
    if (f.fields) continue;
    const raw = values[flagName(key)];
    if (raw === undefined) continue;
    out[key] = parseFlag(String(raw), f, key, where);
  }
  return out as Partial<C>;
}

/** A default as a person reads it in help text and forms. */
export function formatDefault(f: FieldSpec<unknown>): string {
  const d = f.default;
  if (d === null) return 'none';
  if (Array.isArray(d)) return d.join(',');
  return String(d);
}

function placeholder(f: FieldSpec<unknown>, key: string): string {
  switch (kindOf(f, key)) {
    case 'number':
      return f.integer ? 'N' : 'X';
    case 'boolean':
      return 'true|false';
    case 'string':
      return f.choices ? f.choices.join('|') : 'S';
    case 'numbers':
      return 'N,N,…';
    case 'object':
      return '';
  }
}

/** Help lines, one per flag: `  --rollout-len N          total steps per iteration (default 2048)`. */
export function configHelp<C>(spec: ConfigSpec<C>): string {
  const rows: [string, string][] = [];
  for (const [key, f] of Object.entries(spec) as [string, FieldSpec<unknown>][]) {
    if (f.fields) continue;
    const unit = f.unit ? ` ${f.unit}` : '';
    rows.push([`--${flagName(key)} ${placeholder(f, key)}`, `${f.doc} (default ${formatDefault(f)}${unit})`]);
  }
  const width = Math.max(0, ...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `  ${a.padEnd(width)}  ${b}`).join('\n');
}

/** What a page form needs to render one field (inputs generated from the spec, defaults shown). */
export interface FormField {
  key: string;
  kind: Kind;
  doc: string;
  default: unknown;
  min?: number;
  max?: number;
  integer?: boolean;
  choices?: readonly string[];
  nullable?: boolean;
  unit?: string;
}

/** The spec as a list of form fields, in declaration order (nested configs as their own lists). */
export function formFields<C>(spec: ConfigSpec<C>): FormField[] {
  return (Object.entries(spec) as [string, FieldSpec<unknown>][])
    .filter(([, f]) => !f.fields)
    .map(([key, f]) => ({
      key,
      kind: kindOf(f, key),
      doc: f.doc,
      default: f.default,
      min: f.min,
      max: f.max,
      integer: f.integer,
      choices: f.choices,
      nullable: f.nullable,
      unit: f.unit,
    }));
}
