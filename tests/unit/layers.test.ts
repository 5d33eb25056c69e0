/**
 * Core packages point one way (issue 14 item 5), enforced like the dataSync lint beside it: every
 * import in src/core/** is parsed (static `import … from`, `export … from`, side-effect imports
 * and dynamic `import('…')`, type-only ones included: a type import is still a dependency) and
 * checked against src/core/layers.ts, the one place the order is written. Each offence prints the
 * file and the import, so the message says what to move.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { CORE_LAYERS, layerOf, layerOrderText } from '../../src/core/layers.ts';

const CORE = 'src/core';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|js|mjs)$/.test(name) ? [p] : [];
  });
}

/** Every module specifier in a source text, with its line; comments are blanked first. */
export function importSpecifiers(text: string): { spec: string; line: number }[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  const out: { spec: string; line: number }[] = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^'"`;]*?\sfrom\s*['"]([^'"]+)['"]/g, // import x from '…' / export { … } from '…'
    /\bimport\s*['"]([^'"]+)['"]/g, // import '…' (side effect)
    /\bimport\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g, // import('…')
  ];
  for (const re of patterns) {
    for (const m of code.matchAll(re)) out.push({ spec: m[1]!, line: code.slice(0, m.index).split('\n').length });
  }
  return out;
}

/** The core package a path under src/core belongs to ('' for a root file like errors.ts). */
function packageOf(pathUnderCore: string): string {
  const parts = pathUnderCore.split(sep);
  return parts.length > 1 ? parts[0]! : '';
}

/** Every offence in the core tree at `core` (src/core by default; the checker's own test passes a synthetic one). */
export function layerOffences(core = CORE): string[] {
  const offences: string[] = [];
  for (const file of files(core)) {
    const from = packageOf(relative(core, file));
    const fromLayer = from === '' ? -1 : layerOf(from);
    if (from !== '' && fromLayer === undefined) {
      offences.push(`${file}: package "${from}" is not in CORE_LAYERS (src/core/layers.ts): place it in the order`);
      continue;
    }
    for (const { spec, line } of importSpecifiers(readFileSync(file, 'utf8'))) {
      const at = `${file}:${line}: import '${spec}'`;
      if (/\?(url|worker|raw|inline)\b/.test(spec)) {
        offences.push(`${at}: Vite-only import in core (move it to workers/ or src/ui/)`);
        continue;
      }
      if (!spec.startsWith('.')) continue; // packages from node_modules
      const target = normalize(join(dirname(file), spec));
      const rel = relative(core, target);
      if (rel.startsWith('..')) {
        offences.push(`${at}: core imports outside src/core (${target}); core may not depend on ui, workers or cli`);
        continue;
      }
      const to = packageOf(rel);
      if (to === from) continue;
      if (to === '') continue; // root files are below everything
      if (from === '') {
        offences.push(`${at}: root file imports package "${to}"; root files sit below every package`);
        continue;
      }
      const toLayer = layerOf(to);
      if (toLayer === undefined) offences.push(`${at}: "${to}" is not in CORE_LAYERS`);
      else if (toLayer === fromLayer) offences.push(`${at}: "${from}" and "${to}" are peers and may not import each other`);
      else if (toLayer > fromLayer!) offences.push(`${at}: "${from}" imports "${to}", which sits above it (${layerOrderText()})`);
    }
  }
  return offences;
}

describe('core packages point one way', () => {
  it('finds every kind of import (the parser itself)', () => {
    const src = [
      "import { a } from '../x/a.ts';",
      "import type { B } from './b.ts';",
      "export { c } from '../c/c.ts';",
      "export * from '../d/d.ts';",
      "import '../e/side.ts';",
      "const m = await import('../f/lazy.ts');",
      "import wasm from 'tfjs/wasm.wasm?url';",
      "import {\n  g,\n  h,\n} from '../g/multi.ts';",
      "// import { no } from '../commented.ts';",
      "/* import { no } from '../block.ts'; */",
      "const s = 'https://example.com/x'; // a URL in a string is no import",
    ].join('\n');
    expect(importSpecifiers(src).map((x) => x.spec).sort()).toEqual(['../c/c.ts', '../d/d.ts', '../e/side.ts', '../f/lazy.ts', '../g/multi.ts', '../x/a.ts', './b.ts', 'tfjs/wasm.wasm?url'].sort());
  });

  it('reports each kind of offence in a synthetic tree (the checker can fail)', () => {
    // One file per rule, and one allowed import of each kind, so a checker that stopped looking
    // (e.g. after a refactor of the path handling) fails here instead of passing src/core vacuously.
    const root = mkdtempSync(join(tmpdir(), 'layers-'));
    const core = join(root, 'src', 'core');
    const put = (path: string, text: string) => {
      mkdirSync(dirname(join(core, path)), { recursive: true });
      writeFileSync(join(core, path), text);
    };
    try {
      put('jobs.ts', "import { Rng } from './math/rng.ts';\n"); // root file → package
      put('math/rng.ts', "import { LabError } from '../errors.ts';\n"); // allowed: root files are below all
      put('io/csv.ts', "import type { Surface } from '../surface/types.ts';\nimport { readNpy } from './npy.ts';\n"); // type-only upward; same package is fine
      put('surface/types.ts', "import { parseCsv } from '../io/csv.ts';\n"); // allowed: downward
      put('feeds/desk.ts', "export * from '../market/data.ts';\n"); // re-export upward
      put('rl/env.ts', "const m = await import('../smile/model.ts');\n"); // peers
      put('backend/urls.ts', "import u from '../../x.wasm?url';\n"); // Vite-only
      put('heston/ui.ts', "import { x } from '../../ui/lib/format.ts';\n"); // outside core
      put('widgets/a.ts', "export const a = 1;\n"); // package not in the order
      const got = layerOffences(core).map((o) => o.slice(o.indexOf(core) + core.length + 1));
      expect(got.map((o) => o.split(':')[0]).sort()).toEqual(['backend/urls.ts', 'feeds/desk.ts', 'heston/ui.ts', 'io/csv.ts', 'jobs.ts', 'rl/env.ts', 'widgets/a.ts']);
      expect(got.find((o) => o.startsWith('io/csv.ts'))).toMatch(/^io\/csv\.ts:1: import '\.\.\/surface\/types\.ts': "io" imports "surface", which sits above it/);
      expect(got.find((o) => o.startsWith('feeds/desk.ts'))).toMatch(/"feeds" imports "market", which sits above it/);
      expect(got.find((o) => o.startsWith('rl/env.ts'))).toMatch(/"rl" and "smile" are peers/);
      expect(got.find((o) => o.startsWith('jobs.ts'))).toMatch(/root file imports package "math"/);
      expect(got.find((o) => o.startsWith('backend/urls.ts'))).toMatch(/Vite-only import in core/);
      expect(got.find((o) => o.startsWith('heston/ui.ts'))).toMatch(/core imports outside src\/core/);
      expect(got.find((o) => o.startsWith('widgets/a.ts'))).toMatch(/package "widgets" is not in CORE_LAYERS/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('has no import from a higher package, a peer, ui / workers / cli, or a Vite-only ?url', () => {
    const offences = layerOffences();
    if (offences.length) console.error(`Layer offences:\n${offences.join('\n')}`);
    expect(offences).toEqual([]);
  });

  it('shows the same order in the README architecture section', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(CORE_LAYERS.flat()).toContain('inverse');
    // Inside the "## Architecture" section (issue 14: "the README's architecture section shows the layer order").
    const start = readme.indexOf('\n## Architecture');
    expect(start).toBeGreaterThanOrEqual(0);
    const next = readme.indexOf('\n## ', start + 1);
    expect(readme.slice(start, next < 0 ? undefined : next)).toContain(layerOrderText());
  });
});
