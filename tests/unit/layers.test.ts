/**
 * Core packages point one way (issue 14 item 5), enforced like the dataSync lint beside it: every
 * import in src/core/** is parsed (static `import … from`, `export … from`, side-effect imports
 * and dynamic `import('…')`, type-only ones included: a type import is still a dependency) and
 * checked against src/core/layers.ts, the one place the order is written. Each offence prints the
 * file and the import, so the message says what to move.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
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

export function layerOffences(): string[] {
  const offences: string[] = [];
  for (const file of files(CORE)) {
    const from = packageOf(relative(CORE, file));
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
      const rel = relative(CORE, target);
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

  it('has no import from a higher package, a peer, ui / workers / cli, or a Vite-only ?url', () => {
    const offences = layerOffences();
    if (offences.length) console.error(`Layer offences:\n${offences.join('\n')}`);
    expect(offences).toEqual([]);
  });

  it('shows the same order in the README architecture section', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(CORE_LAYERS.flat()).toContain('inverse');
    expect(readme).toContain(layerOrderText());
  });
});
