/**
 * The seed's FeatureEngine (chapter II): modules, each reading only its own sub-context, return a
 * Record<string, number>; the engine merges them as `module.feature`, in sorted order fixed once
 * and for all, and checks at EVERY step that each module returned exactly the keys it declared (a
 * module that adds, drops or renames a key is an error naming the module, the step and the key —
 * the seed froze the order at the first call and would silently shift every later column).
 *
 * A MarketFeatureModule is built over one MarketData and hands the engine the sub-context of step t
 * (`contextAt(t)`) built from data at steps ≤ t only — windows are views ending at t — so a
 * feature cannot see the future however it is written; batched work (inverse networks over every
 * surface at once) happens in `prepare`, whose per-step results are functions of that step's own
 * data. buildMatrix walks t = 0 … n−1 and returns the raw [n, D] matrix.
 *
 * A feature whose window has not filled is NaN. `warmup` is the first step at which every feature
 * is defined; episodes and normalisation start there. It is decided by data up to that step only
 * (a later NaN must not move it: that would be look-ahead), so a feature that is NaN again after
 * warmup is an error naming the feature and the step — modules carry their last value forward.
 */
import { LabError } from '../errors.ts';
import { throttledProgress, throwIfAborted, yieldToEventLoop, type JobContext } from '../jobs.ts';

export interface FeatureModule<C = unknown> {
  /** The context key and name prefix: 'btc', 'shitcoin', 'sentiment', 'generic'. */
  readonly name: string;
  /** The keys computeFeatures returns (without the prefix), fixed at construction. */
  readonly featureNames: readonly string[];
  /** Features of one step from this module's sub-context. Values are plain numbers (NaN: not yet defined). */
  computeFeatures(ctx: C): Record<string, number>;
}

export interface MarketFeatureModule<C = unknown> extends FeatureModule<C> {
  /** Steps of history a context needs (the longest window, t included). */
  readonly lookback: number;
  /** Batched work before the walk (e.g. the inverse network over every surface). */
  prepare?(ctx: JobContext): Promise<void>;
  /** Sub-context of step t, from data at steps ≤ t only. */
  contextAt(t: number): C;
  /** Notes for the user (a provider that fell back, a network that extrapolates …). */
  readonly notes?: string[];
}

/** C4: the raw feature matrix. */
export interface FeatureMatrix {
  /** 'btc.atm_iv_short', … sorted, frozen. */
  names: string[];
  n: number;
  d: number;
  /** [n × d] row-major; NaN before `warmup`. */
  values: Float64Array;
  /** First step at which every feature is defined (n if none); every later step is defined too. */
  warmup: number;
  /** Modules that were on, in name order. */
  modules: string[];
  /** What the user should know about how the features were made. */
  notes: string[];
}

export class FeatureEngine {
  readonly names: readonly string[];
  private readonly modules: FeatureModule[];
  private readonly slots: { module: FeatureModule; key: string; col: number }[][];

  constructor(modules: readonly FeatureModule[]) {
    const seen = new Set<string>();
    for (const m of modules) {
      if (!/^[a-z][a-z0-9_]*$/.test(m.name)) throw new LabError(`module name "${m.name}" must be lower-case letters, digits and _`);
      if (seen.has(m.name)) throw new LabError(`two modules are named "${m.name}"`);
      seen.add(m.name);
      if (new Set(m.featureNames).size !== m.featureNames.length) throw new LabError(`module ${m.name} declares a feature twice`);
    }
    this.modules = [...modules].sort((a, b) => (a.name < b.name ? -1 : 1));
    const all = this.modules.flatMap((m) => m.featureNames.map((f) => `${m.name}.${f}`)).sort();
    this.names = Object.freeze(all);
    const col = new Map(all.map((n, i) => [n, i]));
    this.slots = this.modules.map((m) => m.featureNames.map((key) => ({ module: m, key, col: col.get(`${m.name}.${key}`)! })));
  }

  get dim(): number {
    return this.names.length;
  }

  /**
   * The seed's compute_features(context): context[module.name] is each module's sub-context.
   * Writes the merged vector (this.names order) into `out` (a fresh Float64Array by default).
   */
  computeFeatures(contexts: Record<string, unknown>, out = new Float64Array(this.dim), step?: number): Float64Array {
    this.modules.forEach((m, i) => {
      const feats = m.computeFeatures(contexts[m.name]);
      this.check(m, feats, step);
      for (const s of this.slots[i]!) out[s.col] = feats[s.key]!;
    });
    return out;
  }

  private check(m: FeatureModule, feats: Record<string, number>, step?: number): void {
    const keys = Object.keys(feats);
    const at = step === undefined ? '' : ` at step ${step}`;
    if (keys.length === m.featureNames.length && m.featureNames.every((k) => typeof feats[k] === 'number')) return;
    const declared = new Set(m.featureNames);
    const extra = keys.filter((k) => !declared.has(k));
    const missing = m.featureNames.filter((k) => !(k in feats));
    const notNumber = m.featureNames.filter((k) => k in feats && typeof feats[k] !== 'number');
    throw new LabError(`module ${m.name} changed its keys${at}: ${[extra.length ? `extra ${extra.join(', ')}` : '', missing.length ? `missing ${missing.join(', ')}` : '', notNumber.length ? `not a number: ${notNumber.join(', ')}` : ''].filter(Boolean).join('; ')} (its features are fixed at construction)`);
  }

  /** The raw matrix over steps 0 … n−1 of the modules' market. */
  async buildMatrix(modules: readonly MarketFeatureModule[], n: number, ctx: JobContext = {}): Promise<FeatureMatrix> {
    if (modules.length !== this.modules.length || modules.some((m) => !this.modules.includes(m))) throw new LabError('buildMatrix needs the engine’s own modules');
    for (const m of modules) {
      if (m.prepare) await m.prepare(ctx);
      throwIfAborted(ctx.signal);
    }
    const d = this.dim;
    const values = new Float64Array(n * d);
    const contexts: Record<string, unknown> = {};
    const progress = throttledProgress(ctx);
    for (let t = 0; t < n; t++) {
      for (const m of modules) contexts[m.name] = m.contextAt(t);
      this.computeFeatures(contexts, values.subarray(t * d, (t + 1) * d), t);
      // A step costs ~5–50 µs: yield every 256 (cancel well within 50 ms), report every 1024.
      if (t % 256 === 255) {
        if (t % 1024 === 1023) progress({ done: t + 1, total: n, message: `features ${t + 1}/${n}` });
        await yieldToEventLoop();
        throwIfAborted(ctx.signal);
      }
    }
    progress({ done: n, total: n, message: `features ${n}/${n}` });
    const warmup = warmupOf(values, n, d);
    for (let t = warmup + 1; t < n; t++) {
      for (let j = 0; j < d; j++) {
        if (!Number.isFinite(values[t * d + j]!)) throw new LabError(`feature ${this.names[j]} is ${values[t * d + j]} at step ${t}, after every feature was defined at step ${warmup}: its module must carry its last value forward`);
      }
    }
    return { names: [...this.names], n, d, values, warmup, modules: this.modules.map((m) => m.name), notes: modules.flatMap((m) => (m.notes ?? []).map((x) => `${m.name}: ${x}`)) };
  }
}

/** First step whose row is finite everywhere (n when none is). */
export function warmupOf(values: Float64Array, n: number, d: number): number {
  for (let t = 0; t < n; t++) {
    let ok = true;
    for (let j = 0; j < d && ok; j++) ok = Number.isFinite(values[t * d + j]!);
    if (ok) return t;
  }
  return n;
}

/** names[i] of the first non-finite value in row t, for messages. */
export function firstUndefined(m: FeatureMatrix, t: number): string | undefined {
  for (let j = 0; j < m.d; j++) if (!Number.isFinite(m.values[t * m.d + j]!)) return m.names[j];
  return undefined;
}
