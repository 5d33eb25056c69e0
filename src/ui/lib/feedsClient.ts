/**
 * The Data page's worker, one per browser tab and created on first use: the snapshot scheduler
 * runs inside it, so it keeps running when the user switches to another page of the lab and
 * stops only when the tab closes (the seed's "every X minutes while it runs").
 */
import { jobClient, type JobClient } from './jobClient.ts';
import type { FeedsJobs } from '../../../workers/feeds.worker.ts';

let client: JobClient<FeedsJobs> | undefined;

export function feedsClient(): JobClient<FeedsJobs> {
  return (client ??= jobClient<FeedsJobs>(new Worker(new URL('../../../workers/feeds.worker.ts', import.meta.url), { type: 'module' })));
}

export interface FeedErrorView {
  kind: string;
  message: string;
  at: number;
}

/** Errors that mean "the browser cannot call this endpoint directly": offer the file import. */
export function isRefused(e: FeedErrorView | undefined): boolean {
  return e !== undefined && (e.kind === 'network' || e.kind === 'geo-blocked');
}

/** Currencies with a snapshot schedule on, so the app can resume them whatever page opens first. */
export const SCHEDULE_FLAG = 'heston-lab/snapshot-schedules';

export function markSchedule(currency: string, on: boolean): void {
  const set = new Set<string>(JSON.parse(localStorage.getItem(SCHEDULE_FLAG) ?? '[]') as string[]);
  if (on) set.add(currency);
  else set.delete(currency);
  if (set.size) localStorage.setItem(SCHEDULE_FLAG, JSON.stringify([...set]));
  else localStorage.removeItem(SCHEDULE_FLAG);
}

/** Called by the shell at start-up when SCHEDULE_FLAG is set: wakes the worker's schedulers. */
export async function resumeSchedules(): Promise<void> {
  const currencies = JSON.parse(localStorage.getItem(SCHEDULE_FLAG) ?? '[]') as string[];
  for (const currency of currencies) await feedsClient().run('scheduleState', { currency });
}
