/**
 * Backend choice for training by what the backends measure (issue 15): a software GPU never
 * outranks wasm, measured self-test times order the rest, and the duration estimate a page shows
 * before a long job. The browser-only cases (a WebGPU adapter on SwiftShader) are simulated by
 * replacing initBackend / backendInfo: Node has no GPU backend to start.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { BackendAttempt, BackendInfo } from '../../src/core/backend/backends.ts';
import type { BackendName } from '../../src/core/backend/names.ts';
import type { SelftestReport } from '../../src/core/backend/selftest.ts';

const sim = vi.hoisted(() => ({
  /** Backends that start in the simulation, and the renderer each reports. */
  works: new Map<string, string>(),
  active: 'cpu',
}));

vi.mock('../../src/core/backend/backends.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/core/backend/backends.ts')>();
  return {
    ...real,
    initBackend: async (name: BackendName): Promise<BackendAttempt> => {
      if (!sim.works.has(name)) return { name, ok: false, error: `${name} is not simulated`, ms: 1 };
      sim.active = name;
      return { name, ok: true, ms: 1 };
    },
    backendInfo: async (): Promise<BackendInfo> => {
      const described = sim.works.get(sim.active) ?? '';
      return { name: sim.active as BackendName, summary: sim.active, floatBits: 32, tfjsFloatBits: 32, softwareRenderer: real.softwareRendererName(described) };
    },
  };
});

const { estimateTrainingMs, formatDuration, measuredSpeeds, networkSamplesPerSec, pickForTraining, rankForTraining } = await import('../../src/core/backend/rank.ts');

function report(times: Partial<Record<BackendName, number | 'fail'>>): SelftestReport {
  return {
    ok: true,
    size: 128,
    reps: 3,
    seed: 1,
    results: Object.entries(times).map(([backend, t]) => ({
      backend: backend as BackendName,
      ok: t !== 'fail',
      checks: [
        { name: 'matmul', ok: true, ms: 1, firstMs: 1, errorRatio: 0.1, detail: {} },
        { name: 'train', ok: t !== 'fail', ms: t === 'fail' ? 1 : t!, firstMs: 1, errorRatio: t === 'fail' ? 9 : 0.1, detail: {} },
      ],
    })),
  };
}

describe('rankForTraining', () => {
  it('without measurements keeps the default order, but a software GPU goes after wasm', () => {
    expect(rankForTraining()).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    expect(rankForTraining(undefined, [], { webgpu: 'SwiftShader' })).toEqual(['webgl', 'wasm', 'webgpu', 'cpu']);
    expect(rankForTraining(undefined, [], { webgpu: 'SwiftShader', webgl: 'SwiftShader' })).toEqual(['wasm', 'webgpu', 'webgl', 'cpu']);
  });

  it('orders the measured backends by their training step, fastest first; a backend that failed its check has no speed', () => {
    // A real GPU measured faster than wasm stays first; webgl failed, so it keeps its default place.
    const speeds = measuredSpeeds(report({ webgpu: 1.2, wasm: 2.1, cpu: 25, webgl: 'fail' }));
    expect(speeds.map((s) => s.backend)).toEqual(['webgpu', 'wasm', 'cpu']);
    expect(rankForTraining(undefined, speeds)).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    // A measurement ranks a backend only against other measured ones: a self-test of cpu alone
    // (it found cpu "fastest" of one) leaves cpu last, and webgl timed faster than wasm swaps them.
    expect(rankForTraining(undefined, measuredSpeeds(report({ cpu: 25 })))).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    expect(rankForTraining(undefined, measuredSpeeds(report({ wasm: 3, webgl: 1 })))).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    expect(rankForTraining(undefined, measuredSpeeds(report({ wasm: 1, webgl: 3, cpu: 0.5 })))).toEqual(['webgpu', 'cpu', 'wasm', 'webgl']);
    // SwiftShader measured (the machine: a step ~40× wasm's) ranks itself below wasm.
    expect(rankForTraining(undefined, measuredSpeeds(report({ webgpu: 90, webgl: 30, wasm: 2.1 })))).toEqual(['wasm', 'webgl', 'webgpu', 'cpu']);
    // Even a software GPU that happened to time faster (a tiny batch) stays after wasm.
    expect(rankForTraining(undefined, measuredSpeeds(report({ webgpu: 1, wasm: 2 })), { webgpu: 'llvmpipe' })).toEqual(['webgl', 'wasm', 'webgpu', 'cpu']);
  });
});

describe('pickForTraining', () => {
  beforeEach(() => sim.works.clear());

  it('on a software WebGPU adapter, auto trains on wasm and says why', async () => {
    sim.works.set('webgpu', 'google swiftshader').set('webgl', 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)), SwiftShader driver)').set('wasm', '').set('cpu', '');
    const r = await pickForTraining();
    expect(r.active).toBe('wasm');
    expect(r.softwareGpu).toEqual({ backend: 'webgpu', renderer: 'SwiftShader' });
    expect(r.reason).toMatch(/SwiftShader, a software renderer/);
    // webgl is tried too (a hardware WebGL would win); here it is SwiftShader as well.
    expect(r.attempts.map((a) => [a.name, a.softwareRenderer])).toEqual([['webgpu', 'SwiftShader'], ['webgl', 'SwiftShader'], ['wasm', undefined]]);
  });

  it('a software WebGPU adapter beside a hardware WebGL: auto trains on webgl, and flags nothing', async () => {
    sim.works.set('webgpu', 'google swiftshader').set('webgl', 'ANGLE (NVIDIA, NVIDIA GeForce RTX 4090 Direct3D11 vs_5_0 ps_5_0)').set('wasm', '').set('cpu', '');
    const r = await pickForTraining();
    expect(r.active).toBe('webgl');
    expect(r.softwareGpu).toBeUndefined();
    expect(r.reason).toMatch(/webgl: a hardware GPU \(webgpu runs on SwiftShader/);
  });

  it('a software GPU never outranks wasm, even when a measurement put cpu above wasm', async () => {
    sim.works.set('webgpu', 'llvmpipe (LLVM 15.0.7, 256 bits)').set('wasm', '').set('cpu', '');
    const measured = measuredSpeeds(report({ wasm: 1, webgl: 3, cpu: 0.5 }));
    expect(rankForTraining(undefined, measured)).toEqual(['webgpu', 'cpu', 'wasm', 'webgl']);
    const r = await pickForTraining(undefined, { measured });
    expect(r).toMatchObject({ active: 'wasm', softwareGpu: { backend: 'webgpu', renderer: 'llvmpipe' } });
    expect(r.attempts.map((a) => a.name)).toEqual(['webgpu', 'wasm']);
  });

  it('on a real GPU keeps webgpu; an explicit choice of the software GPU is honoured and flagged', async () => {
    sim.works.set('webgpu', 'nvidia hopper').set('wasm', '');
    const gpu = await pickForTraining();
    expect(gpu.active).toBe('webgpu');
    expect(gpu.softwareGpu).toBeUndefined();
    sim.works.set('webgpu', 'google swiftshader');
    const chosen = await pickForTraining(undefined, { preferred: 'webgpu' });
    expect(chosen).toMatchObject({ active: 'webgpu', softwareGpu: { backend: 'webgpu', renderer: 'SwiftShader' } });
    expect(chosen.reason).toMatch(/your choice/);
  });

  it('keeps the software GPU when wasm cannot start (still faster than cpu), and fails only when nothing starts', async () => {
    sim.works.set('webgpu', 'llvmpipe (LLVM 15.0.7, 256 bits)').set('cpu', '');
    expect(await pickForTraining()).toMatchObject({ active: 'webgpu', softwareGpu: { renderer: 'llvmpipe' } });
    sim.works.clear();
    await expect(pickForTraining()).rejects.toThrow(/no compute backend works here/);
  });
});

describe('duration estimates', () => {
  it("reproduces the issue's figure: the default Inverse run (20 000 × 20) at 228 samples/s is ~27 minutes, on wasm ~30 s", () => {
    const job = { n: 20_000, epochs: 20, valFraction: 0.1 };
    // 18 000 training + 2 000 validation surfaces (a third of a step each) × 20 epochs = 373 333 samples.
    expect(estimateTrainingMs(job, 228)).toBeCloseTo((1000 * 20 * (18_000 + 2_000 / 3)) / 228, 6);
    expect(formatDuration(estimateTrainingMs(job, 228))).toBe('about 27 min');
    expect(formatDuration(estimateTrainingMs(job, 12_100))).toBe('about 31 s');
    expect(formatDuration(Infinity)).toBe('unknown');
    expect(formatDuration(400)).toBe('under a second');
  });

  it("turns the self-test's training-step time into the network's rate (CHECK_TO_NETWORK × 8 samples per step)", () => {
    // 2 ms per 8-sample check step → 4 000 samples/s for the check → 12 000/s for the network.
    expect(networkSamplesPerSec(2)).toBeCloseTo(12_000, 6);
    expect(measuredSpeeds(report({ wasm: 2 }))[0]!.samplesPerSec).toBeCloseTo(12_000, 6);
  });
});
