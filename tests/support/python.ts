/**
 * A Python interpreter that can import numpy, for the tests that check files the lab writes load
 * in numpy. The first `python3` on PATH may be a pyenv build without numpy while Debian's
 * /usr/bin/python3 has python3-numpy, so both are tried. Under CI (where .ci/run installs
 * python3-numpy) a missing numpy is an error, not a skip, so the interop check cannot silently
 * stop running.
 */
import { spawnSync } from 'node:child_process';

let cached: string | null | undefined;

export function numpyPython(): string | null {
  if (cached !== undefined) return cached;
  cached = null;
  for (const exe of ['python3', '/usr/bin/python3']) {
    if (spawnSync(exe, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0) {
      cached = exe;
      break;
    }
  }
  if (!cached && process.env.CI) throw new Error('numpy is not importable from python3 or /usr/bin/python3 (apt-get install -y python3-numpy)');
  return cached;
}
