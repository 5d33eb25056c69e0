/**
 * A page's settings in the URL hash (TensorFlow Playground's state.ts): `#/inverse?epochs=40&n=5000`.
 * Each page declares its settings once as a ConfigSpec (src/core/config.ts) whose defaults come
 * from core's configs; only the fields that differ from their defaults are written, under their
 * flag names (camelCase `batchSize` → `batch-size`, the same names as the CLI's flags), so a link
 * is short and says exactly what was changed. Reading a link validates each field on its own with
 * the spec (type, range, choices): a bad or unknown field is reported and skipped, the rest apply.
 * DOM-free (the rune wrapper is pageState.svelte.ts), so it is unit-tested in Node.
 */
import { configFromFlags, flagName, type ConfigSpec, type FieldSpec } from '../../core/config.ts';
import { errorMessage } from '../../core/errors.ts';

/** `#/pricer?kappa=3` → { page: 'pricer', query: 'kappa=3' }. */
export function hashParts(hash: string): { page: string; query: string } {
  const h = hash.replace(/^#\/?/, '');
  const q = h.indexOf('?');
  return q < 0 ? { page: h.split('/')[0]!, query: '' } : { page: h.slice(0, q).split('/')[0]!, query: h.slice(q + 1) };
}

export function stateHash(page: string, query: string): string {
  return `#/${page}${query ? `?${query}` : ''}`;
}

export interface DecodedState<C> {
  /** The valid fields the query gives. */
  values: Partial<C>;
  /** One line per field that was skipped: unknown key, or a value the spec refuses. */
  ignored: string[];
}

export function decodeState<C>(spec: ConfigSpec<C>, query: string): DecodedState<C> {
  const byFlag = new Map(Object.keys(spec).map((k) => [flagName(k), k]));
  const values: Record<string, unknown> = {};
  const ignored: string[] = [];
  for (const [flag, raw] of new URLSearchParams(query)) {
    const key = byFlag.get(flag);
    if (!key) {
      ignored.push(`"${flag}" is not a setting of this page`);
      continue;
    }
    try {
      Object.assign(values, configFromFlags(spec, { [flag]: raw }, ''));
    } catch (e) {
      ignored.push(errorMessage(e));
    }
  }
  return { values: values as Partial<C>, ignored };
}

function encodeValue(v: unknown): string {
  if (v === null) return 'none';
  if (Array.isArray(v)) return v.join(',');
  return String(v);
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The query for a state: every field that differs from its default, in declaration order. A
 * field a form has left empty or invalid (null, NaN, wrong type) is not written: the link keeps
 * the default rather than carrying a value the page would refuse on opening.
 */
export function encodeState<C>(spec: ConfigSpec<C>, state: C): string {
  const q = new URLSearchParams();
  for (const [key, f] of Object.entries(spec) as [string, FieldSpec<unknown>][]) {
    if (f.fields) continue;
    const v = (state as Record<string, unknown>)[key];
    if (v === undefined || same(v, f.default)) continue;
    const raw = encodeValue(v);
    try {
      configFromFlags(spec, { [flagName(key)]: raw }, '');
    } catch {
      continue;
    }
    q.set(flagName(key), raw);
  }
  return q.toString();
}

/** The fields of `spec` named in `keys`, for a page that shows part of a core config. */
export function pickSpec<C, K extends keyof C>(spec: ConfigSpec<C>, ...keys: K[]): ConfigSpec<Pick<C, K>> {
  return Object.fromEntries(keys.map((k) => [k, spec[k]])) as unknown as ConfigSpec<Pick<C, K>>;
}
