/**
 * Every stored value travels in an envelope that records the schema version it was written
 * under, so a later lab can migrate what an earlier one wrote — or refuse it with a message that
 * says why — instead of misreading it. Both persistent stores (idb.ts, files.ts) use this.
 */
import { LabError } from '../errors.ts';

/** Bump when the shape of a stored value changes, and add the migration from the old version. */
export const STORE_SCHEMA_VERSION = 1;

export interface Envelope {
  hestonLabSchema: number;
  value: unknown;
}

/** migrations[n] turns a value written under schema n into one valid under schema n + 1. */
export type Migrations = Record<number, (value: unknown, key: string) => unknown>;

/** No migrations yet: schema 1 is the first one the lab has written. */
export const MIGRATIONS: Migrations = {};

export function seal(value: unknown, version = STORE_SCHEMA_VERSION): Envelope {
  return { hestonLabSchema: version, value };
}

function isEnvelope(raw: unknown): raw is Envelope {
  return typeof raw === 'object' && raw !== null && typeof (raw as Envelope).hestonLabSchema === 'number' && 'value' in raw;
}

/** The value inside `raw`, migrated to the current schema; throws LabError naming the key otherwise. */
export function unseal(key: string, raw: unknown, migrations: Migrations = MIGRATIONS, current = STORE_SCHEMA_VERSION): unknown {
  if (!isEnvelope(raw)) throw new LabError('stored value has no schema version (not written by Heston Lab, or corrupted); delete it', key);
  let { hestonLabSchema: version, value } = raw;
  if (version > current) {
    throw new LabError(`written by a newer Heston Lab (schema ${version}; this version reads up to ${current}); update the lab to read it`, key);
  }
  while (version < current) {
    const step = migrations[version];
    if (!step) throw new LabError(`written under schema ${version}, which this version (schema ${current}) cannot migrate; export it from the lab that wrote it, or delete it`, key);
    value = step(value, key);
    version++;
  }
  return value;
}
