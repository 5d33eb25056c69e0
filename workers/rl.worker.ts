/**
 * The RL worker: environment (and, later, PPO training) jobs for the RL page. Thin comlink adapter
 * over core jobs; the job table is exported so other RL jobs are added as entries here.
 */
import { exposeJobs } from './expose.ts';
import { backendJobs } from './backend.ts';
import { envEpisodeJob } from '../src/core/rl/envJobs.ts';
import type { JobContext } from '../src/core/jobs.ts';
import { IdbStore } from '../src/core/store/idb.ts';
import { namespaced } from '../src/core/store/store.ts';
import { PauseGate } from '../src/core/inverse/pauseGate.ts';
import { savedRun, trainJob, type TrainJobArgs } from '../src/core/rl/ppo.ts';
import { backtestJob } from '../src/core/rl/backtest.ts';
import { PaperSession, type PaperSessionArgs } from '../src/core/rl/paperTrader.ts';
import type { WebSocketCtor } from '../src/core/feeds/deribitStream.ts';

/** PPO training state: the pause gate of the running job and the run's store (IndexedDB "rl/"). */
const gate = new PauseGate();
const rlStore = namespaced(new IdbStore(), 'rl');
/** The paper-trading session of this worker (one at a time; src/core/rl/paperTrader.ts). */
let paper: PaperSession | undefined;

export const rlJobs = {
  ...backendJobs,
  /** Simulate a market, build its features, run one seeded episode (src/core/rl/envJobs.ts). */
  envEpisode: envEpisodeJob,
  /** PPO on a market's first part; periodic resumable states in IndexedDB (src/core/rl/ppo.ts trainJob). */
  train: (a: TrainJobArgs, ctx: JobContext) => {
    gate.resume();
    return trainJob(a, { store: rlStore, gate }, ctx);
  },
  pause: () => gate.pause(),
  resume: () => gate.resume(),
  savedRun: () => savedRun(rlStore),
  /** The deterministic policy on the held-out span beside buy-and-hold and flat (src/core/rl/backtest.ts). */
  backtest: backtestJob,
  /** Paper trading: REST warm-up, then the Binance kline stream; no order is ever sent (paperTrader.ts). */
  paperStart: async (a: PaperSessionArgs) => {
    paper?.stop();
    paper = await PaperSession.open(a, { WebSocket: globalThis.WebSocket as unknown as WebSocketCtor });
    await paper.start();
    return paper.snapshot(200);
  },
  paperStop: () => {
    paper?.stop();
    return paper?.snapshot(200) ?? null;
  },
  paperState: (a?: { last?: number }) => paper?.snapshot(a?.last ?? 200) ?? null,
};

export type RlJobs = typeof rlJobs;

exposeJobs(rlJobs);
