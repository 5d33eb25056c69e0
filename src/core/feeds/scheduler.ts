/**
 * The seed's "run it every X minutes to accumulate surfaces", for a page that may be reloaded or
 * opened twice. Time is cut into slots of the interval (slot = floor(now / interval)); at most one
 * snapshot is stored per slot:
 *  - the persisted state remembers the last slot stored, so a reload inside a slot waits for the
 *    next one instead of taking a second snapshot;
 *  - the library write carries dedupKey "source:interval:slot", so two tabs racing in the same
 *    slot store one surface;
 *  - the library writes a snapshot atomically and the slot is recorded only after it landed, so
 *    a crash mid-way leaves either nothing or a whole snapshot, and the slot is retried.
 * Timers and clock are injected so tests run in virtual time.
 */
import { errorMessage } from '../errors.ts';
import type { Store } from '../store/store.ts';
import type { Surface } from '../surface/types.ts';
import type { Clock } from './http.ts';

/** What the scheduler needs of the surface library (SurfaceLibrary satisfies it). */
export interface SnapshotSink {
  add(surface: Surface, meta: { name: string; tags: string[]; dedupKey?: string }): Promise<string>;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

export const systemTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};

export interface SchedulerState {
  enabled: boolean;
  intervalMs: number;
  /** Which feed the snapshots come from, e.g. "deribit:BTC" (part of the dedup key). */
  source: string;
  lastSlot?: number;
  lastRunAt?: number;
  lastSurfaceId?: string;
  lastError?: { message: string; at: number };
  /** Snapshots this schedule has stored. */
  taken: number;
}

export interface SchedulerOptions {
  /** Where the schedule state lives (survives reloads); key `snapshotSchedule/<source>`. */
  store: Store;
  sink: SnapshotSink;
  /** Takes one snapshot (fetch + build). */
  take: (signal: AbortSignal) => Promise<Surface>;
  clock: Clock;
  timers?: Timers;
  onChange?: (state: SchedulerState) => void;
  tags?: string[];
  /** After a failed run, retry within the same slot after this long (default 60 s). */
  retryMs?: number;
}

export const MIN_INTERVAL_MS = 60_000;

export class SnapshotScheduler {
  private state: SchedulerState;
  private timer: unknown;
  private running: Promise<void> | undefined;
  private abort = new AbortController();
  private readonly timers: Timers;
  private readonly key: string;

  constructor(
    source: string,
    private readonly opts: SchedulerOptions,
  ) {
    this.timers = opts.timers ?? systemTimers;
    this.key = `snapshotSchedule/${source}`;
    this.state = { enabled: false, intervalMs: 15 * 60_000, source, taken: 0 };
  }

  get current(): SchedulerState {
    return { ...this.state };
  }

  /** On page load: picks up a schedule left enabled before the reload. */
  async resume(): Promise<SchedulerState> {
    const saved = await this.opts.store.get<SchedulerState>(this.key);
    if (saved && saved.source === this.state.source) this.state = { ...saved };
    if (this.state.enabled) this.arm();
    this.emit();
    return this.current;
  }

  async start(intervalMs: number): Promise<void> {
    if (!(intervalMs >= MIN_INTERVAL_MS)) throw new RangeError(`snapshot interval must be at least ${MIN_INTERVAL_MS / 60_000} minute (got ${intervalMs} ms)`);
    if (intervalMs !== this.state.intervalMs) delete this.state.lastSlot; // slots of another size
    this.state = { ...this.state, enabled: true, intervalMs };
    await this.persist();
    this.arm();
    this.emit();
  }

  async stop(): Promise<void> {
    this.state.enabled = false;
    this.disarm();
    await this.persist();
    this.emit();
  }

  /** Stops timers without changing the persisted schedule (page closing). */
  dispose(): void {
    this.disarm();
    this.abort.abort();
  }

  private disarm(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private slotOf(t: number): number {
    return Math.floor(t / this.state.intervalMs);
  }

  /** Next run: now if this slot has no snapshot yet, else at the start of the next slot. */
  private arm(): void {
    this.disarm();
    if (!this.state.enabled) return;
    const now = this.opts.clock.now();
    const slot = this.slotOf(now);
    const nextSlotIn = (slot + 1) * this.state.intervalMs - now;
    let delay = this.state.lastSlot !== undefined && this.state.lastSlot >= slot ? nextSlotIn : 0;
    // A failed run is retried after retryMs, not in a tight loop, and never past the slot's end.
    const err = this.state.lastError;
    if (delay === 0 && err && this.slotOf(err.at) === slot) delay = Math.min(nextSlotIn, Math.max(0, err.at + (this.opts.retryMs ?? 60_000) - now));
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      void this.tick().finally(() => this.arm());
    }, delay);
  }

  /** One scheduled run (also used by "snapshot now" when a schedule is on). */
  tick(): Promise<void> {
    // Never two runs at once: a slow fetch and the next timer share one promise.
    if (!this.running) this.running = this.runSlot().finally(() => (this.running = undefined));
    return this.running;
  }

  private async runSlot(): Promise<void> {
    const now = this.opts.clock.now();
    const slot = this.slotOf(now);
    if (this.state.lastSlot !== undefined && this.state.lastSlot >= slot) return;
    try {
      const surface = await this.opts.take(this.abort.signal);
      const id = await this.opts.sink.add(surface, {
        name: surface.name ?? `${this.state.source} ${new Date(surface.timestamp).toISOString()}`,
        tags: this.opts.tags ?? ['deribit', 'snapshot'],
        dedupKey: `${this.state.source}:${this.state.intervalMs}:${slot}`,
      });
      this.state = { ...this.state, lastSlot: slot, lastRunAt: this.opts.clock.now(), lastSurfaceId: id, taken: this.state.taken + 1 };
      delete this.state.lastError;
    } catch (e) {
      if (this.abort.signal.aborted) return;
      this.state = { ...this.state, lastError: { message: errorMessage(e), at: this.opts.clock.now() } };
    }
    await this.persist();
    this.emit();
  }

  private async persist(): Promise<void> {
    await this.opts.store.set(this.key, this.state);
  }

  private emit(): void {
    this.opts.onChange?.(this.current);
  }
}
