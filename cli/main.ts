import { COMMANDS } from './commands/index.ts';
import { errorMessage } from '../src/core/errors.ts';
import type { JobContext } from '../src/core/jobs.ts';

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length), 8);
  const lines = [
    'heston-lab — the Heston Lab core, headless. Data commands print JSON on stdout.',
    '',
    'usage: npm run --silent cli -- <command> [options]',
    '       npm run --silent cli -- <command> --help',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Bad input exits with status 2 and one line on stderr; other failures exit 1.',
  ];
  return lines.join('\n');
}

/** The path of the first NaN / ±Infinity in a JSON-bound value (`rmse_vol`, `r2.kappa`, `steps[3].reward`). */
export function firstNonFinite(v: unknown, path = '$'): { path: string; value: number } | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? undefined : { path, value: v };
  if (v === null || typeof v !== 'object') return undefined;
  if (ArrayBuffer.isView(v)) {
    const a = v as unknown as ArrayLike<number>;
    for (let i = 0; i < a.length; i++) if (typeof a[i] === 'number' && !Number.isFinite(a[i]!)) return { path: `${path}[${i}]`, value: a[i]! };
    return undefined;
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const r = firstNonFinite(v[i], `${path}[${i}]`);
      if (r) return r;
    }
    return undefined;
  }
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return undefined;
  for (const [k, x] of Object.entries(v)) {
    const r = firstNonFinite(x, path === '$' ? k : `${path}.${k}`);
    if (r) return r;
  }
  return undefined;
}

/** Longest command name that prefixes argv ("surface inspect" before "surface"). */
function findCommand(argv: string[]) {
  let best: { cmd: (typeof COMMANDS)[number]; used: number } | undefined;
  for (const cmd of COMMANDS) {
    const words = cmd.name.split(' ');
    if (words.every((w, i) => argv[i] === w) && (!best || words.length > best.used)) best = { cmd, used: words.length };
  }
  return best;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(help() + '\n');
    return argv.length === 0 ? 2 : 0;
  }
  const found = findCommand(argv);
  if (!found) {
    process.stderr.write(`error: unknown command "${argv.slice(0, 2).join(' ')}" (see --help)\n`);
    return 2;
  }
  const rest = argv.slice(found.used);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${found.cmd.name} — ${found.cmd.summary}\n\n${found.cmd.usage}\n`);
    return 0;
  }
  // tfjs's cpu backend prints an "install tfjs-node" banner on first use in Node (tfjs-node cannot
  // be installed here, and the CLI picks wasm where it can); PROD mode silences it.
  const tf = await import('@tensorflow/tfjs-core');
  tf.env().set('PROD', true);
  const progress = rest.includes('--progress');
  const args = rest.filter((a) => a !== '--progress');
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const ctx: JobContext = {
    signal: controller.signal,
    onProgress: progress ? (p) => process.stderr.write(`${JSON.stringify(p)}\n`) : undefined,
  };
  try {
    const result = await found.cmd.run(args, ctx);
    if (result !== undefined) {
      // JSON.stringify prints NaN and ±Infinity as null, so a metric that went NaN would pass as
      // "no value" with exit 0. Unless a command says that null is its way of writing "no value"
      // (iv's uninvertible prices, …), a non-finite number is a failure that names where it is.
      const bad = found.cmd.nonFiniteAsNull ? undefined : firstNonFinite(result);
      if (bad) {
        process.stderr.write(`error: ${found.cmd.name} produced a non-finite number (${bad.value}) at ${bad.path}; nothing was printed\n`);
        return 1;
      }
      process.stdout.write(JSON.stringify(result) + '\n');
    }
    return 0;
  } catch (e) {
    const name = e instanceof Error ? e.name : '';
    const line = errorMessage(e).split('\n')[0];
    process.stderr.write(`error: ${line}\n`);
    return name === 'InputError' || name === 'QuotaError' ? 2 : 1;
  }
}
