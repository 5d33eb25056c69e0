/**
 * How a synthetic data set is split across workers (Web Workers on the Surfaces page, worker
 * threads in `synth --threads`): one plan for both, so the page and the CLI never disagree about
 * when splitting pays. Sample i always comes from Rng.stream(seed, i), so any plan gives the same
 * bytes; the plan only decides speed.
 *
 * A worker costs a start-up (module load and JIT warm-up) before it generates anything: measured
 * 135–155 ms for a Node worker thread through cli/threadBoot.mjs (3 runs, generating one surface),
 * and of the same order for a Web Worker loading the surface bundle. A part is worth its own
 * worker only if it holds at least that start-up's worth of work at the generator's per-core rate.
 */
import type { SynthKind } from './synthetic.ts';
import { splitSamples } from './synthetic.ts';

/**
 * Surfaces per second on one core on the seed's 5×6 grid (bench/synth.bench.ts: true Heston
 * ~3,050/s, the seed's proxy ~480,000/s: it prices nothing).
 */
export const GENERATION_RATE_PER_CORE: Record<SynthKind, number> = { heston: 3000, proxy: 480_000 };

/** Seconds to start one worker before it produces anything (see the module comment). */
export const WORKER_START_SECONDS = 0.15;

export interface GenerationPlan {
  /** Number of workers (1: generate in place, no worker to start). */
  parts: number;
  /** Contiguous sample ranges, one per worker, in order. */
  slices: { start: number; count: number }[];
  /** Smallest part the plan allows for this kind (the start-up's worth of work). */
  minPerPart: number;
}

/**
 * Splits n samples of `kind` across at most `cores` workers, each part holding at least
 * GENERATION_RATE_PER_CORE[kind] × WORKER_START_SECONDS samples (450 true-Heston surfaces, 72,000
 * proxy ones), so no worker spends longer starting than working.
 */
export function generationPlan(n: number, kind: SynthKind, cores: number): GenerationPlan {
  const total = Math.max(0, Math.floor(n));
  const minPerPart = Math.ceil(GENERATION_RATE_PER_CORE[kind] * WORKER_START_SECONDS);
  const maxParts = Math.max(1, Math.floor(cores));
  const parts = Math.max(1, Math.min(maxParts, Math.floor(total / minPerPart)));
  return { parts, slices: splitSamples(total, parts), minPerPart };
}
