/**
 * The RL worker: environment (and, later, PPO training) jobs for the RL page. Thin comlink adapter
 * over core jobs; the job table is exported so other RL jobs are added as entries here.
 */
import { exposeJobs } from './expose.ts';
import { backendJobs } from './backend.ts';
import { envEpisodeJob } from '../src/core/rl/envJobs.ts';

export const rlJobs = {
  ...backendJobs,
  /** Simulate a market, build its features, run one seeded episode (src/core/rl/envJobs.ts). */
  envEpisode: envEpisodeJob,
};

export type RlJobs = typeof rlJobs;

exposeJobs(rlJobs);
