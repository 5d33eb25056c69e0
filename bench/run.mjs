#!/usr/bin/env node
// `npm run bench [-- --filter NAME]`: runs every bench/*.bench.ts (sorted by name), each in its
// own Node process through tsx, so one benchmark's JIT state, tfjs backend or crash cannot skew
// another. Each script prints exactly one JSON object on stdout; this runner prints it as one
// line, saves it as bench-results/NAME.json, and exits non-zero if any benchmark failed (after
// running the rest). A benchmark's stderr passes through for progress messages.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const { values } = parseArgs({ options: { filter: { type: 'string', multiple: true } }, strict: true });
const filters = values.filter ?? [];

const scripts = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .sort()
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (scripts.length === 0) {
  process.stderr.write(`no benchmark matches ${JSON.stringify(filters)}\n`);
  process.exit(2);
}

function run(file) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('bench', file)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
}

mkdirSync(join(root, 'bench-results'), { recursive: true });
let failed = 0;
for (const file of scripts) {
  const name = file.replace(/\.bench\.ts$/, '');
  const t0 = Date.now();
  const { code, out } = await run(file);
  // The object is the last non-empty line (a library may print a banner before it).
  const line = out.trim().split('\n').filter(Boolean).pop() ?? '';
  let obj;
  try {
    obj = JSON.parse(line);
  } catch {
    obj = undefined;
  }
  if (!obj || typeof obj !== 'object') {
    failed++;
    const result = { benchmark: name, ok: false, error: code !== 0 ? `exited with status ${code}` : 'did not print a JSON object', wall_s: (Date.now() - t0) / 1000 };
    process.stdout.write(JSON.stringify(result) + '\n');
    continue;
  }
  // A benchmark that printed its figures but exited non-zero (e.g. a correctness check failed
  // along the way) keeps its figures, marked as failed.
  if (code !== 0) {
    failed++;
    obj = { ...obj, ok: false, error: `exited with status ${code}` };
  }
  writeFileSync(join(root, 'bench-results', `${name}.json`), JSON.stringify(obj, null, 2) + '\n');
  process.stdout.write(JSON.stringify(obj) + '\n');
}
process.exitCode = failed ? 1 : 0;
