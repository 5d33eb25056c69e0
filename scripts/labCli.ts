/**
 * Runs the lab's CLI (cli/bin.mjs) as a child process for the checkpoint-building scripts: echoes
 * the command on stderr, lets the child's progress through to stderr, returns its JSON stdout and
 * throws when it exits non-zero (so a failed step stops the build before anything is copied).
 * Run from the repository root (the path to cli/bin.mjs is relative).
 */
import { spawnSync } from 'node:child_process';

export function labCli(...args: string[]): string {
  process.stderr.write(`$ heston-lab ${args.join(' ')}\n`);
  // 64 MiB of stdout (spawnSync's default is 1 MiB): room for any command's JSON.
  const r = spawnSync(process.execPath, ['cli/bin.mjs', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`heston-lab ${args[0]} failed with status ${r.status}`);
  return r.stdout;
}
