/**
 * The Data page's worker: REST fetches, parsing, snapshot building and storage run here, off the
 * page's thread, and so does the snapshot scheduler (it lives as long as the page keeps this
 * worker). Thin adapter over core/app/dataDesk over IndexedDB.
 */
import { exposeJobs } from './expose.ts';
import type { JobContext } from '../src/core/jobs.ts';
import { IdbStore } from '../src/core/store/idb.ts';
import { DataDesk, outcome, type MarketDataArgs, type SeriesArgs, type SnapshotArgs } from '../src/core/app/dataDesk.ts';

let instance: DataDesk | undefined;
const desk = () => (instance ??= new DataDesk(new IdbStore()));

export const feedsJobs = {
  deribitSnapshot: (args: SnapshotArgs, ctx: JobContext) => outcome(() => desk().snapshot(args, ctx)),
  binanceSeries: (args: SeriesArgs, ctx: JobContext) => outcome(() => desk().fetchSeries(args, ctx)),
  importSeriesCsv: (args: { text: string; fileName: string }) => outcome(() => desk().importSeriesCsv(args.text, args.fileName)),
  importSurfaceNpz: (args: { bytes: Uint8Array; fileName: string }) => outcome(() => desk().importSurfaceNpz(args.bytes, args.fileName)),
  latestSnapshot: (args: { currency: string }) => desk().latestSnapshot(args.currency),
  exportNpz: (args: { id: string }) => desk().exportNpz(args.id),
  scheduleStart: (args: SnapshotArgs & { intervalMs: number }) => outcome(() => desk().scheduleStart(args)),
  scheduleStop: (args: { currency: string }) => desk().scheduleStop(args.currency),
  scheduleState: (args: { currency: string }) => desk().scheduleState(args.currency),
  buildMarketData: (args: MarketDataArgs) => outcome(() => desk().buildMarketData(args)),
};

export type FeedsJobs = typeof feedsJobs;

exposeJobs(feedsJobs);
