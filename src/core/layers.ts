/**
 * The direction of imports inside src/core, written once (issue 14 item 5). Lowest first: a
 * package may import the packages BEFORE it, never one after it, and never a peer in the same
 * group (rl and smile are peers: neither may import the other). The root files (errors.ts,
 * jobs.ts, config.ts, this one) sit below every package and import no package. `app` wires
 * several packages into application services (the Data page's DataDesk) and sits above all.
 * tests/unit/layers.test.ts enforces it on every import in src/core and checks that the README's
 * architecture section shows this same order.
 *
 * `nn` (tfjs ops the backend self-test and the inverse network share) is not in the list;
 * it imports nothing but tfjs, and backend/selftest.ts imports it, so it sits under backend.
 */
export const CORE_LAYERS: readonly (readonly string[])[] = [
  ['math'],
  ['io'],
  ['store'],
  ['nn'],
  ['backend'],
  ['tracking'],
  ['heston'],
  ['surface'],
  ['inverse'],
  ['feeds'],
  ['market'],
  ['features'],
  ['rl', 'smile'],
  ['app'],
];

/** The order as one line, as the README shows it: "math → io → … → rl | smile → app". */
export function layerOrderText(): string {
  return CORE_LAYERS.map((g) => g.join(' | ')).join(' → ');
}

/** Layer index of a package, or undefined for a directory the order does not list. */
export function layerOf(pkg: string): number | undefined {
  const i = CORE_LAYERS.findIndex((g) => g.includes(pkg));
  return i < 0 ? undefined : i;
}
