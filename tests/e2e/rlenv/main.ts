/**
 * Test page for tests/e2e/rlenv.e2e.test.ts: puts a job client for the RL worker on window, the
 * way a page would create it, so the test can run worker jobs before any RL page exists.
 */
import { jobClient } from '../../../src/ui/lib/jobClient.ts';
import type { RlJobs } from '../../../workers/rl.worker.ts';

const client = jobClient<RlJobs>(new Worker(new URL('../../../workers/rl.worker.ts', import.meta.url), { type: 'module' }));
(window as unknown as { rlJobs: typeof client }).rlJobs = client;
document.body.dataset.ready = '1';
