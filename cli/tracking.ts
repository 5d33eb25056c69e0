/**
 * Tracking options shared by every training command (contract C2): spread TRACKING_OPTIONS into
 * the command's parseArgs options, call trackerFromArgs, start a run, wrap the job in runTracked
 * (FINISHED / KILLED on Ctrl-C / FAILED). Runs land in MLflow's FileStore layout under
 * --tracking-uri (default ./mlruns in the directory the command was started from), where
 * `mlflow ui --backend-store-uri ./mlruns` shows them.
 */
import { openFileTracker, trackingDir } from '../src/core/tracking/fileTracker.ts';
import type { ActiveRun, LabTracker, StartRunOptions } from '../src/core/tracking/tracker.ts';

export const TRACKING_OPTIONS = {
  'tracking-uri': { type: 'string' },
  experiment: { type: 'string' },
} as const;

export const DEFAULT_TRACKING_URI = 'mlruns';

export const TRACKING_HELP = `  --tracking-uri DIR            where runs are recorded: an MLflow FileStore directory or a file: URI
                                (default ./mlruns; "none" records nothing)
  --experiment NAME             experiment of the run (created if missing)`;

export interface TrackingValues {
  'tracking-uri'?: string;
  experiment?: string;
}

/** The tracker of --tracking-uri (default ./mlruns); opening it marks dead processes' runs KILLED. */
export async function trackerFromArgs(values: TrackingValues): Promise<LabTracker> {
  return openFileTracker(trackingDir(values['tracking-uri'] ?? DEFAULT_TRACKING_URI), { sourceName: `heston-lab ${process.argv.slice(2, 4).join(' ')}`.trim() });
}

/**
 * A run for a training command, or undefined with `--tracking-uri none`. `defaults.experiment`
 * is used when --experiment is not given.
 */
export async function startRunFromArgs(values: TrackingValues, o: StartRunOptions): Promise<ActiveRun | undefined> {
  if (values['tracking-uri'] === 'none') return undefined;
  const tracker = await trackerFromArgs(values);
  return tracker.startRun({ ...o, experiment: values.experiment ?? o.experiment });
}
