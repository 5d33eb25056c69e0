/**
 * The storage check the Diagnostics page runs on the browser's IndexedDB (and the unit tests on
 * the file store): values round-trip with their types, keys list by prefix, and a write refused
 * for lack of space raises QuotaError and leaves what was stored before exactly as it was.
 */
import { errorMessage } from '../errors.ts';
import { QuotaError, type Store } from './store.ts';

export interface StoreCheckStep {
  name: string;
  ok: boolean;
  detail: string;
}

export interface StoreCheckTarget {
  /** A store on a scratch location (wiped by the check). */
  store: Store;
  /** The same location, but whose next write is refused as if the quota were exhausted. */
  failingStore: Store;
}

function sample() {
  return {
    name: 'check',
    when: new Date(Date.UTC(2024, 5, 7)),
    iv: Float64Array.from([0.55, 0.61, Number.NaN, 1e-300]),
    mask: Uint8Array.from([0, 1, 0, 1]),
    nested: { list: [1, 'two', null], map: new Map([['a', 1]]) },
  };
}

type Sample = ReturnType<typeof sample>;

function sameSample(a: Sample | undefined, b: Sample): string | undefined {
  if (!a) return 'value missing';
  if (!(a.iv instanceof Float64Array)) return `iv came back as ${(a.iv as object)?.constructor?.name}, not Float64Array`;
  if (!(a.mask instanceof Uint8Array)) return 'mask did not come back as Uint8Array';
  if (!(a.when instanceof Date) || a.when.getTime() !== b.when.getTime()) return 'Date did not round-trip';
  for (let i = 0; i < b.iv.length; i++) if (!Object.is(a.iv[i], b.iv[i])) return `iv[${i}] changed`;
  if (a.mask.join() !== b.mask.join()) return 'mask changed';
  if (!(a.nested.map instanceof Map) || a.nested.map.get('a') !== 1) return 'Map did not round-trip';
  if (JSON.stringify(a.nested.list) !== JSON.stringify(b.nested.list)) return 'nested list changed';
  return undefined;
}

export async function checkStore(target: StoreCheckTarget, prefix = 'selfcheck/'): Promise<{ ok: boolean; steps: StoreCheckStep[] }> {
  const { store, failingStore } = target;
  const steps: StoreCheckStep[] = [];
  const step = async (name: string, fn: () => Promise<string | undefined>) => {
    try {
      const problem = await fn();
      steps.push({ name, ok: !problem, detail: problem ?? 'ok' });
    } catch (e) {
      steps.push({ name, ok: false, detail: `threw ${(e as Error)?.name ?? 'error'}: ${errorMessage(e)}` });
    }
  };
  const a = `${prefix}a`;
  const b = `${prefix}b`;
  for (const k of await store.keys(prefix)) await store.delete(k);
  const v1 = sample();

  await step('typed arrays, dates and maps round-trip', async () => {
    await store.set(a, v1);
    return sameSample(await store.get<Sample>(a), v1);
  });
  await step('setMany writes every key', async () => {
    await store.setMany([
      [a, v1],
      [b, { n: 2 }],
    ]);
    const got = await store.keys(prefix);
    return got.join() === [a, b].join() ? undefined : `keys are ${JSON.stringify(got)}`;
  });
  await step('a write refused for quota raises QuotaError and changes nothing', async () => {
    await store.delete(b);
    let thrown: unknown;
    try {
      await failingStore.setMany([
        [a, { overwritten: true }],
        [b, { n: 3 }],
      ]);
    } catch (e) {
      thrown = e;
    }
    if (!(thrown instanceof QuotaError)) return `expected QuotaError, got ${thrown === undefined ? 'no error' : errorMessage(thrown)}`;
    const still = await store.get<Sample>(a);
    const problem = sameSample(still, v1);
    if (problem) return `earlier value damaged: ${problem}`;
    if ((await store.get(b)) !== undefined) return 'half of the refused setMany landed';
    return undefined;
  });
  await step('delete removes the key', async () => {
    await store.delete(a);
    const left = await store.keys(prefix);
    return left.length === 0 && (await store.get(a)) === undefined ? undefined : `left behind: ${JSON.stringify(left)}`;
  });
  return { ok: steps.every((s) => s.ok), steps };
}
