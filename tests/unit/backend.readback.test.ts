/**
 * shared/DESIGN.md: on the webgpu backend dataSync()/arraySync() read through an OffscreenCanvas,
 * return zeros and can destroy the device (and on webgl inside a worker they return zeros too).
 * Code that can run in the browser must read tensors with `await t.data()` / `await t.array()`.
 * This scans every module the page or a worker can load for a sync readback call.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|svelte|js|mjs)$/.test(name) ? [p] : [];
  });
}

describe('browser code never reads tensors synchronously', () => {
  it('has no dataSync() / arraySync() / bufferSync() calls in src/ or workers/', () => {
    const offenders: string[] = [];
    for (const f of [...files('src'), ...files('workers')]) {
      readFileSync(f, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          const code = line.replace(/\/\/.*$/, '').replace(/^\s*\*.*$/, '');
          if (/\.(dataSync|arraySync|bufferSync)\s*\(/.test(code)) offenders.push(`${f}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(offenders).toEqual([]);
  });
});
