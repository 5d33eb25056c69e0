/**
 * Synthetic surfaces and data sets for the inverse network.
 *
 *  - `proxy`: the seed's "Heston-like" generator (chapter IX.2.3), kept faithfully and labelled a
 *    PROXY: iv = max(sqrt(θ + (v0 − θ)e^{−κT}) + ρ·k/sqrt(1 + T) + σ·k², 1e-4). It is a
 *    geometric sketch, not Heston: a network trained on it learns that formula, not the model.
 *  - `heston`: true Heston surfaces, priced with the Float64 pricer and inverted to implied vols
 *    (src/core/heston/surface.ts); points with no information (OTM price below ~1e-7·S) come
 *    back masked.
 *
 * Sample i always draws its parameters from Rng.stream(seed, i), so a data set is bit-identical
 * however it is split across workers or threads (`start` / `count` select a slice).
 */
import { InputError } from '../errors.ts';
import { cancellationPoint, throttledProgress, throwIfAborted, withEta, type JobContext } from '../jobs.ts';
import { Rng } from '../math/rng.ts';
import { PARAM_NAMES, SEED_PRIOR, paramsFromArray, type HestonParams, type HestonPrior, type PriorDim } from '../heston/params.ts';
import { hestonIvSurface } from '../heston/surface.ts';
import { readNpz, writeNpz } from '../io/npz.ts';
import { scalarF64, scalarString, toNumbers, toStrings, type NdArray } from '../io/npy.ts';
import { SEED_GRID, type Surface } from './types.ts';
import { checkMaskedVols } from './validate.ts';

export { SEED_GRID };

/** Synthetic surfaces carry this timestamp (2020-01-01 UTC): they describe no market moment. */
export const SYNTHETIC_TIMESTAMP = Date.UTC(2020, 0, 1);

export type SynthKind = 'heston' | 'proxy';

export interface HestonDataset {
  kind: SynthKind;
  /** [n × 5] in PARAM_NAMES order (kappa, theta, sigma, rho, v0). */
  params: Float64Array;
  /** [n × nk × nt] implied vols (decimals); NaN where masked. */
  iv: Float32Array | Float64Array;
  /** [n × nk × nt], 1 = masked. */
  mask: Uint8Array;
  kGrid: number[];
  tGrid: number[];
  prior: HestonPrior;
  seed: number;
  /** Samples in this data set (a slice holds samples start … start + n − 1). */
  n: number;
  /** Index of the first sample (0 unless this is a slice). */
  start?: number;
}

export interface GenerateOptions {
  kind: SynthKind;
  /** Total samples in the data set. */
  n: number;
  seed: number;
  kGrid?: number[];
  tGrid?: number[];
  prior?: HestonPrior;
  /** Produce only samples start … start + count − 1 (for splitting across workers). */
  start?: number;
  count?: number;
  /** Storage type of `iv` (default float32: half the memory; vols need ~7 digits at most). */
  dtype?: 'float32' | 'float64';
}

function drawDim(d: PriorDim, rng: Rng): number {
  return d.kind === 'logUniform' ? rng.logUniform(d.lo, d.hi) : rng.range(d.lo, d.hi);
}

/** One parameter set from the prior; coordinates drawn in PARAM_NAMES order. */
export function samplePrior(prior: HestonPrior, rng: Rng): HestonParams {
  const v = PARAM_NAMES.map((name) => drawDim(prior[name], rng));
  return paramsFromArray(v);
}

export function priorProblems(prior: HestonPrior): string[] {
  const out: string[] = [];
  for (const name of PARAM_NAMES) {
    const d = prior?.[name];
    if (!d) {
      out.push(`prior.${name} is missing`);
      continue;
    }
    if (d.kind !== 'uniform' && d.kind !== 'logUniform') out.push(`prior.${name}.kind must be "uniform" or "logUniform"`);
    if (!Number.isFinite(d.lo) || !Number.isFinite(d.hi) || d.lo > d.hi) out.push(`prior.${name}: need finite lo ≤ hi (got ${d.lo}, ${d.hi})`);
    if (d.kind === 'logUniform' && !(d.lo > 0)) out.push(`prior.${name}: a log-uniform range needs lo > 0`);
  }
  return out;
}

/** The seed's IX.2.3 proxy ("Heston-like", NOT Heston), written into `out` [nk × nt]. */
export function proxySurface(p: HestonParams, kGrid: readonly number[], tGrid: readonly number[], out = new Float64Array(kGrid.length * tGrid.length)): Float64Array {
  const nt = tGrid.length;
  for (let j = 0; j < nt; j++) {
    const T = tGrid[j]!;
    const level = Math.sqrt(p.theta + (p.v0 - p.theta) * Math.exp(-p.kappa * T));
    const skewScale = p.rho / Math.sqrt(1 + T);
    for (let i = 0; i < kGrid.length; i++) {
      const k = kGrid[i]!;
      out[i * nt + j] = Math.max(level + skewScale * k + p.sigma * k * k, 1e-4);
    }
  }
  return out;
}

/** One synthetic surface as a library Surface (spot 1, F = S, labelled by kind). */
export function syntheticSurface(kind: SynthKind, p: HestonParams, kGrid: readonly number[] = SEED_GRID.kGrid, tGrid: readonly number[] = SEED_GRID.tGrid): Surface {
  let iv: Float64Array;
  let mask: Uint8Array | undefined;
  if (kind === 'proxy') iv = proxySurface(p, kGrid, tGrid);
  else {
    const r = hestonIvSurface(p, kGrid, tGrid);
    iv = Float64Array.from(r.iv);
    mask = r.mask;
  }
  const s: Surface = { kGrid: [...kGrid], tGrid: [...tGrid], iv, spot: 1, timestamp: SYNTHETIC_TIMESTAMP, source: kind === 'proxy' ? 'synthetic:proxy' : 'synthetic:heston' };
  if (mask && mask.some((m) => m === 1)) s.mask = mask;
  return s;
}

export async function generateDataset(opts: GenerateOptions, ctx: JobContext = {}): Promise<HestonDataset> {
  const kGrid = opts.kGrid ?? SEED_GRID.kGrid;
  const tGrid = opts.tGrid ?? SEED_GRID.tGrid;
  const prior = opts.prior ?? SEED_PRIOR;
  if (opts.kind !== 'heston' && opts.kind !== 'proxy') throw new InputError(`kind must be "heston" or "proxy" (got ${String(opts.kind)})`, 'kind');
  if (!Number.isInteger(opts.n) || opts.n < 1) throw new InputError(`n must be a positive integer (got ${opts.n})`, 'n');
  if (!Number.isInteger(opts.seed)) throw new InputError(`seed must be an integer (got ${opts.seed})`, 'seed');
  const pp = priorProblems(prior);
  if (pp.length) throw new InputError(pp.join('; '), 'prior');
  const start = opts.start ?? 0;
  const count = opts.count ?? opts.n - start;
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > opts.n) {
    throw new InputError(`slice start=${start} count=${count} does not fit in n=${opts.n}`, 'start');
  }
  const nk = kGrid.length;
  const nt = tGrid.length;
  const m = nk * nt;
  const params = new Float64Array(count * 5);
  const iv = opts.dtype === 'float64' ? new Float64Array(count * m) : new Float32Array(count * m);
  const mask = new Uint8Array(count * m);
  const one = new Float64Array(m);
  const progress = throttledProgress(withEta(ctx));
  // A true-Heston surface takes ~0.3 ms, a proxy one ~2 µs: a cancellation point every 16
  // samples (a real yield every 10 ms) lets a Cancel land within ~15 ms either way.
  const tick = cancellationPoint(ctx.signal);
  const t0 = Date.now();
  for (let s = 0; s < count; s++) {
    const p = samplePrior(prior, Rng.stream(opts.seed, start + s));
    params.set([p.kappa, p.theta, p.sigma, p.rho, p.v0], s * 5);
    if (opts.kind === 'proxy') {
      proxySurface(p, kGrid, tGrid, one);
      iv.set(one, s * m);
    } else {
      const r = hestonIvSurface(p, kGrid, tGrid);
      for (let x = 0; x < m; x++) {
        const masked = r.mask[x] === 1 || !(r.iv[x]! > 0);
        mask[s * m + x] = masked ? 1 : 0;
        iv[s * m + x] = masked ? NaN : r.iv[x]!;
      }
    }
    if ((s & 15) === 15) {
      await tick();
      progress({ done: s + 1, total: count, message: `generated ${s + 1}/${count} ${opts.kind} surfaces`, metrics: { surfacesPerSecond: ((s + 1) * 1000) / Math.max(1, Date.now() - t0) } });
    }
  }
  throwIfAborted(ctx.signal);
  progress({ done: count, total: count, message: `generated ${count} ${opts.kind} surfaces` });
  const ds: HestonDataset = { kind: opts.kind, params, iv, mask, kGrid: [...kGrid], tGrid: [...tGrid], prior, seed: opts.seed, n: count };
  if (start !== 0) ds.start = start;
  return ds;
}

/** Joins slices (in sample order) back into one data set. */
export function mergeDatasets(parts: HestonDataset[]): HestonDataset {
  if (parts.length === 0) throw new InputError('nothing to merge');
  const sorted = [...parts].sort((a, b) => (a.start ?? 0) - (b.start ?? 0));
  const first = sorted[0]!;
  const m = first.kGrid.length * first.tGrid.length;
  const n = sorted.reduce((a, p) => a + p.n, 0);
  const iv = first.iv instanceof Float32Array ? new Float32Array(n * m) : new Float64Array(n * m);
  const params = new Float64Array(n * 5);
  const mask = new Uint8Array(n * m);
  let at = 0;
  let expect = first.start ?? 0;
  for (const p of sorted) {
    if ((p.start ?? 0) !== expect) throw new InputError(`slices do not join: expected a slice starting at ${expect}, got ${p.start ?? 0}`);
    if (p.kind !== first.kind || p.seed !== first.seed) throw new InputError('slices come from different generators or seeds');
    params.set(p.params, at * 5);
    iv.set(p.iv, at * m);
    mask.set(p.mask, at * m);
    at += p.n;
    expect += p.n;
  }
  const out: HestonDataset = { ...first, params, iv, mask, n };
  if (first.start) out.start = first.start;
  else delete out.start;
  return out;
}

/**
 * Contiguous sample ranges for `parts` workers. Every sample draws from its own stream
 * (Rng.stream(seed, i)), so merging the slices in order gives the single-worker data set.
 */
export function splitSamples(n: number, parts: number): { start: number; count: number }[] {
  return Array.from({ length: parts }, (_, w) => {
    const start = Math.floor((w * n) / parts);
    return { start, count: Math.floor(((w + 1) * n) / parts) - start };
  });
}

/** How the library names one synthetic surface: kind, seed and its parameters to 3 digits. */
export function syntheticName(kind: SynthKind, seed: number, p: HestonParams): string {
  const f = (x: number) => +x.toPrecision(3);
  return `${kind === 'proxy' ? 'Proxy (seed IX.2.3)' : 'Heston'} seed ${seed}: κ=${f(p.kappa)} θ=${f(p.theta)} σ=${f(p.sigma)} ρ=${f(p.rho)} v0=${f(p.v0)}`;
}

/** Surface i of a data set (0-based within it), for the library and the pages. */
export function datasetSurface(ds: HestonDataset, i: number): Surface {
  const m = ds.kGrid.length * ds.tGrid.length;
  const iv = Float64Array.from(ds.iv.subarray(i * m, (i + 1) * m));
  const mask = ds.mask.slice(i * m, (i + 1) * m);
  const s: Surface = { kGrid: [...ds.kGrid], tGrid: [...ds.tGrid], iv, spot: 1, timestamp: SYNTHETIC_TIMESTAMP, source: `synthetic:${ds.kind}` };
  if (mask.some((x) => x === 1)) s.mask = mask;
  return s;
}

/** One surface from a one-sample data set, named for the library (the Surfaces page's "Add one"). */
export async function namedSyntheticSurface(kind: SynthKind, seed: number, ctx: JobContext = {}): Promise<Surface> {
  const ds = await generateDataset({ kind, n: 1, seed }, ctx);
  return { ...datasetSurface(ds, 0), name: syntheticName(kind, seed, paramsFromArray(ds.params)) };
}

// ---------------------------------------------------------------------------------------------
// .npz form: params [N, 5], iv [N, nk, nt], mask [N, nk, nt] bool, k_grid, t_grid,
// prior [5, 3] (lo, hi, 1 if log-uniform) in PARAM_NAMES order, kind, seed, start, param_names.

export function datasetToNpz(ds: HestonDataset, opts: { compress?: boolean } = {}): Uint8Array {
  const nk = ds.kGrid.length;
  const nt = ds.tGrid.length;
  const prior = new Float64Array(15);
  PARAM_NAMES.forEach((name, r) => prior.set([ds.prior[name].lo, ds.prior[name].hi, ds.prior[name].kind === 'logUniform' ? 1 : 0], r * 3));
  const arrays: Record<string, NdArray> = {
    params: { dtype: 'float64', shape: [ds.n, 5], data: ds.params },
    iv: { dtype: ds.iv instanceof Float32Array ? 'float32' : 'float64', shape: [ds.n, nk, nt], data: ds.iv },
    mask: { dtype: 'bool', shape: [ds.n, nk, nt], data: ds.mask },
    k_grid: { dtype: 'float64', shape: [nk], data: Float64Array.from(ds.kGrid) },
    t_grid: { dtype: 'float64', shape: [nt], data: Float64Array.from(ds.tGrid) },
    prior: { dtype: 'float64', shape: [5, 3], data: prior },
    kind: scalarString(ds.kind),
    seed: scalarF64(ds.seed),
    start: scalarF64(ds.start ?? 0),
    param_names: scalarString(PARAM_NAMES.join(',')),
  };
  return writeNpz(arrays, opts);
}

export function datasetFromNpz(bytes: Uint8Array, fileName = 'dataset.npz'): HestonDataset {
  const a = readNpz(bytes, fileName);
  const need = (k: string) => {
    const x = a[k];
    if (!x) throw new InputError(`missing array '${k}' (a data set .npz holds params, iv, mask, k_grid, t_grid, prior, kind, seed)`, fileName);
    return x;
  };
  const kGrid = Array.from(toNumbers(need('k_grid')));
  const tGrid = Array.from(toNumbers(need('t_grid')));
  const P = need('params');
  if (P.shape.length !== 2 || P.shape[1] !== 5) throw new InputError(`params has shape (${P.shape.join(', ')}); expected (N, 5)`, fileName);
  const n = P.shape[0]!;
  const ivA = need('iv');
  const want = [n, kGrid.length, tGrid.length];
  if (ivA.shape.join() !== want.join()) throw new InputError(`iv has shape (${ivA.shape.join(', ')}); expected (${want.join(', ')}) from params, k_grid and t_grid`, fileName);
  const iv = ivA.dtype === 'float32' ? (ivA.data as Float32Array) : toNumbers(ivA);
  const maskA = a.mask;
  let mask: Uint8Array;
  if (maskA) {
    if (maskA.shape.join() !== want.join()) throw new InputError(`mask has shape (${maskA.shape.join(', ')}); expected (${want.join(', ')})`, fileName);
    mask = new Uint8Array(maskA.data.length);
    // Plain loops: typed-array from() with a map function is ~20× slower on millions of points.
    if (maskA.dtype === 'bool' || maskA.dtype === 'uint8') mask.set(maskA.data as Uint8Array);
    else {
      const m = toNumbers(maskA);
      for (let x = 0; x < m.length; x++) mask[x] = m[x] ? 1 : 0;
    }
  } else {
    mask = new Uint8Array(iv.length);
    for (let x = 0; x < iv.length; x++) mask[x] = Number.isNaN(iv[x]!) ? 1 : 0;
  }
  const kindText = a.kind ? toStrings(a.kind)[0] : 'heston';
  if (kindText !== 'heston' && kindText !== 'proxy') throw new InputError(`kind "${kindText}" must be heston or proxy`, fileName);
  let prior: HestonPrior = SEED_PRIOR;
  if (a.prior) {
    if (a.prior.shape.join() !== '5,3') throw new InputError(`prior has shape (${a.prior.shape.join(', ')}); expected (5, 3)`, fileName);
    const p = toNumbers(a.prior);
    prior = Object.fromEntries(PARAM_NAMES.map((name, r) => [name, { kind: p[r * 3 + 2] ? 'logUniform' : 'uniform', lo: p[r * 3]!, hi: p[r * 3 + 1]! }])) as HestonPrior;
  }
  const ds: HestonDataset = {
    kind: kindText,
    params: toNumbers(P),
    iv,
    mask,
    kGrid,
    tGrid,
    prior,
    seed: a.seed ? toNumbers(a.seed)[0]! : 0,
    n,
  };
  const start = a.start ? toNumbers(a.start)[0]! : 0;
  if (start) ds.start = start;
  // The reader refuses what no caller can use (issue 14 item 2): a NaN or non-positive vol where
  // the mask says valid — typically a mask written 1 = valid — named by surface and cell.
  checkMaskedVols({ iv, mask, kGrid, tGrid, itemName: 'surface' }, fileName);
  return ds;
}
