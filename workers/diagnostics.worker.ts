/**
 * The Diagnostics page's worker: backend choice and self-test, the plumbing probes, and the
 * IndexedDB storage check. Running the self-test here (not on the page) tests the same thread
 * kind that every compute job runs in.
 */
import { exposeJobs } from './expose.ts';
import { backendJobs } from './backend.ts';
import { probeBackends } from '../src/core/backend/backends.ts';
import { runSelftest } from '../src/core/backend/selftest.ts';
import { measuredSpeeds } from '../src/core/backend/rank.ts';
import type { JobContext } from '../src/core/jobs.ts';
import { exclusive } from '../src/core/backend/lock.ts';
import { probeCount, probeFailure } from '../src/core/backend/probes.ts';
import { checkIdbStore } from '../src/core/store/idb.ts';

export const diagnosticsJobs = {
  ...backendJobs,
  probeBackends: exclusive((args: { restore?: Parameters<typeof probeBackends>[1] }) => probeBackends(undefined, args.restore)),
  /** The report plus the training speeds it measured (what "auto" ranks backends by: src/core/backend/rank.ts). */
  selftest: exclusive(async (opts: Parameters<typeof runSelftest>[0], ctx: JobContext) => {
    const report = await runSelftest(opts, ctx);
    return { ...report, speeds: measuredSpeeds(report) };
  }),
  probeFailure,
  probeCount,
  storeCheck: () => checkIdbStore(),
};

export type DiagnosticsJobs = typeof diagnosticsJobs;

exposeJobs(diagnosticsJobs);
