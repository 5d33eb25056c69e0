/**
 * meta.yaml as MLflow writes it: PyYAML's safe_dump (sorted keys, block style, unicode as is).
 * Where PyYAML is importable (python3 here), our dump of tricky run names must be byte-identical
 * to PyYAML's and read back by PyYAML as the same strings; our parser must read PyYAML's output.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { dumpYaml, parseYaml, TreeFormatError } from '../../../src/core/tracking/mlflowFormat.ts';

const NAMES = [
  'cnn-lr2e-3', 'synthetic proxy n=500 4ep lr=0.002', '0', '123', '1e3', '0x1F', '.5', '-', '- x', 'null', 'Null', '~', 'true', 'no', 'on', 'y',
  '', ' lead', 'trail ', 'a: b', 'a:b', 'end:', 'a #b', 'a#b', '#x', '@x', '`x', "it's", '"q"', '[x', '{x', 'a,b', '2026-12-01', '12:30',
  'κ sweep θ', 'line\nbreak', 'tab\there', '%x', '!x', '&x', '*x', '|x', '>x', '?x', 'ü', 'a [b]', '=', '1_000', '+1', '.inf', 'NaN',
  ':x', 'x:', '? x', 'a - b', '---x', '...', 'a\u00a0b', 'bell\u0007', '<<', '0o17', '017', '1:20', '1.5', '-.5e+3', '2026-1-2 3:04:05',
];

function python(code: string, input: string): { status: number | null; out: string; err: string } {
  const r = spawnSync('python3', ['-c', code], { input, encoding: 'utf8' });
  return { status: r.status, out: r.stdout, err: r.stderr };
}
const hasYaml = spawnSync('python3', ['-c', 'import yaml'], { encoding: 'utf8' }).status === 0;

describe('meta.yaml scalars', () => {
  it('round-trip through our own dump and parse', () => {
    for (const n of NAMES) expect(parseYaml(dumpYaml({ run_name: n, end_time: null, status: 3 }), 'x').run_name, JSON.stringify(n)).toBe(n);
  });

  it.skipIf(!hasYaml)('match PyYAML byte for byte (single-line values) and read back in PyYAML', () => {
    // Control characters and breaks: PyYAML escapes them its own way (\x07, folded lines); only the read-back is compared.
    // eslint-disable-next-line no-control-regex
    const single = NAMES.filter((n) => !/[\u0000-\u001f\u007f]/.test(n));
    const dumped = python(
      'import json,sys,yaml\nfor n in json.load(sys.stdin): sys.stdout.write(json.dumps(yaml.safe_dump({"run_name": n, "end_time": None, "status": 3, "tags": []}, default_flow_style=False, allow_unicode=True)) + "\\n")',
      JSON.stringify(single),
    );
    expect(dumped.status, dumped.err).toBe(0);
    const theirs = dumped.out.trim().split('\n').map((l) => JSON.parse(l) as string);
    single.forEach((n, i) => {
      expect(dumpYaml({ run_name: n, end_time: null, status: 3, tags: [] }), JSON.stringify(n)).toBe(theirs[i]);
      expect(parseYaml(theirs[i], 'x').run_name).toBe(n);
    });
    const ours = NAMES.map((n) => dumpYaml({ run_name: n }));
    const read = python('import json,sys,yaml\nprint(json.dumps([yaml.safe_load(t)["run_name"] for t in json.load(sys.stdin)]))', JSON.stringify(ours));
    expect(read.status, read.err).toBe(0);
    expect(JSON.parse(read.out)).toEqual(NAMES);
  });
});

describe('metric values', () => {
  it.skipIf(spawnSync('python3', ['-c', 'pass']).status !== 0)("print as Python's repr(float) for 3000 seeded values across 40 decades", async () => {
    const { Rng } = await import('../../../src/core/math/rng.ts');
    const { pyFloatRepr, parsePyFloat } = await import('../../../src/core/tracking/mlflowFormat.ts');
    const rng = Rng.stream(12, 3);
    const xs = Array.from({ length: 3000 }, (_, i) => (i % 2 ? -1 : 1) * Math.exp(rng.range(-46, 46)) * (i % 7 === 0 ? 1 : rng.uniform()));
    xs.push(0, 1, 2048, 1e16, 1e-5, 0.0001, 123456789012345680000, 5e-324, Number.MAX_VALUE);
    // JSON carries the exact doubles; Python prints repr() of each.
    const r = python('import json,sys\nprint(json.dumps([repr(float(x)) for x in json.load(sys.stdin)]))', JSON.stringify(xs));
    expect(r.status, r.err).toBe(0);
    const theirs = JSON.parse(r.out) as string[];
    xs.forEach((x, i) => {
      expect(pyFloatRepr(x), String(x)).toBe(theirs[i]);
      expect(parsePyFloat(theirs[i])).toBe(x);
    });
  });
});

describe('damaged meta.yaml values', () => {
  // Values a hand edit or a truncated write leaves behind. safe_dump quotes every one of them, so a
  // plain one in a meta.yaml is damage: PyYAML refuses it or reads another string (an anchor, a block
  // scalar), and the importer must skip the run naming the file and line, never import a misread name.
  const DAMAGED = ['[', '[x', '{x', '@x', '`x', '*x', '&x y', '!x', '|', '>', '%x', 'a: b', 'end:', '- x', '? x', '-'];

  it('are refused naming the file and line', () => {
    for (const v of DAMAGED) {
      let err: unknown;
      try {
        parseYaml(`status: 3\nrun_name: ${v}\n`, 'exp/run/meta.yaml');
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(v)).toBeInstanceOf(TreeFormatError);
      expect({ path: (err as TreeFormatError).path, line: (err as TreeFormatError).line }).toEqual({ path: 'exp/run/meta.yaml', line: 2 });
      expect((err as TreeFormatError).reason).toMatch(/^not a value MLflow writes/);
    }
    // A comment after a plain value is dropped, as YAML does; inside quotes '#' is kept.
    expect(parseYaml("run_name: cnn #note\nsource: '#x'\nend_time: # none\n", 'm')).toEqual({ run_name: 'cnn', source: '#x', end_time: null });
    expect(parseYaml('run_name: a#b\ntags: {}\n', 'm')).toEqual({ run_name: 'a#b', tags: [] });
  });

  it.skipIf(!hasYaml)('are the ones PyYAML refuses or reads as something other than the text', () => {
    const r = python(
      'import json,sys,yaml\nout=[]\nfor v in json.load(sys.stdin):\n  try: out.append(yaml.safe_load("run_name: " + v + "\\n")["run_name"] != v)\n  except Exception: out.append(True)\nprint(json.dumps(out))',
      JSON.stringify(DAMAGED),
    );
    expect(r.status, r.err).toBe(0);
    expect(JSON.parse(r.out)).toEqual(DAMAGED.map(() => true));
  });
});
