/**
 * `doctor`: what this installation runs on — versions, and which tfjs backends initialise here
 * (each one brought up and checked on a known answer, as the page does at start).
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import type { CommandDef } from '../io.ts';
import { parse } from '../io.ts';
import { BACKEND_ORDER, backendInfo, pickBestBackend, probeBackends } from '../../src/core/backend/backends.ts';

function packageVersion(rel: string): string {
  try {
    return (JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export const doctor: CommandDef = {
  name: 'doctor',
  summary: 'versions, and which compute backends initialise here (JSON)',
  usage: 'npm run --silent cli -- doctor\n\nTries every tfjs backend (webgpu, webgl, wasm, cpu) and reports which work, why the others do not, and how long each took.',
  async run(argv) {
    parse(argv, {});
    const backends = await probeBackends(BACKEND_ORDER);
    const picked = await pickBestBackend(BACKEND_ORDER);
    return {
      versions: {
        heston_lab: packageVersion('../../package.json'),
        node: process.versions.node,
        v8: process.versions.v8,
        tfjs: tf.version.tfjs,
        tfjs_backend_wasm: packageVersion('../../node_modules/@tensorflow/tfjs-backend-wasm/package.json'),
        tfjs_backend_webgpu: packageVersion('../../node_modules/@tensorflow/tfjs-backend-webgpu/package.json'),
      },
      platform: { os: process.platform, arch: process.arch, cpus: cpus().length },
      backend: picked.active,
      backend_info: await backendInfo(),
      backends: backends.map((b) => ({ ...b, ms: Math.round(b.ms * 10) / 10 })),
    };
  },
};
