/**
 * A child process for the tracking tests: `node --import tsx writer.ts DIR EXPERIMENT MODE N`.
 * Starts a run in DIR, logs N points of `loss` (step i, value 1/(i+1), timestamp start + 1000 + i),
 * flushes, prints the run id, then ends the run (MODE=end) or exits without ending it (MODE=crash:
 * what a killed process leaves behind).
 */
import { openFileTracker } from '../../../src/core/tracking/fileTracker.ts';

const [dir, experiment, mode, n] = process.argv.slice(2);
const tracker = await openFileTracker(dir);
const run = await tracker.startRun({ experiment, name: `${mode}-${process.pid}`, params: { pid: process.pid } });
const t0 = (await tracker.getRun(run.runId)).info.startTime + 1000;
for (let i = 0; i < Number(n); i++) run.logMetrics(i, { loss: 1 / (i + 1) }, t0 + i);
await run.flush();
process.stdout.write(run.runId + '\n');
if (mode === 'end') await run.end();
process.exit(0);
