/**
 * Heston pricer benchmark: options priced per second on 5×6 surfaces (one thread, and all cores
 * with worker threads), max error against the 30-digit fixtures, the seed's trapezoid measured in
 * the same run as the baseline, implied-vol inversions per second and hestonIvSurface surfaces/s.
 *   npx tsx bench/pricer.bench.ts   → one JSON object on stdout
 */
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { LewisControlVariateEngine, SeedTrapezoidEngine, priceGrid, type HestonEngine } from '../src/core/heston/pricer.ts';
import { bsPrice, impliedVol } from '../src/core/heston/blackScholes.ts';
import { hestonIvSurface } from '../src/core/heston/surface.ts';
import { PARAM_NAMES, SEED_PRIOR, paramsFromArray, type HestonParams } from '../src/core/heston/params.ts';
import { Rng } from '../src/core/math/rng.ts';

const K_GRID = [-0.4, -0.2, 0, 0.2, 0.4];
const T_GRID = [0.05, 0.1, 0.25, 0.5, 1, 2];
const STRIKES = K_GRID.map((k) => 100 * Math.exp(k));

function draws(n: number, seed: number): HestonParams[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () =>
    paramsFromArray(PARAM_NAMES.map((name) => (SEED_PRIOR[name].kind === 'logUniform' ? rng.logUniform(SEED_PRIOR[name].lo, SEED_PRIOR[name].hi) : rng.range(SEED_PRIOR[name].lo, SEED_PRIOR[name].hi)))),
  );
}

/**
 * Options per second pricing 5×6 surfaces for `ms` milliseconds: per wall-clock second and per
 * second of this thread's CPU time (the machine is shared; CPU time is what the code costs).
 */
function throughput(engine: HestonEngine, ms: number, seed: number): { wall: number; cpu: number } {
  const ps = draws(256, seed);
  for (let i = 0; i < 50; i++) priceGrid(ps[i % 256]!, 100, STRIKES, T_GRID, 0.02, 0.01, engine); // warm-up (JIT)
  let n = 0;
  const t0 = performance.now();
  const c0 = process.threadCpuUsage ? process.threadCpuUsage() : process.cpuUsage();
  while (performance.now() - t0 < ms) {
    priceGrid(ps[n % 256]!, 100, STRIKES, T_GRID, 0.02, 0.01, engine);
    n++;
  }
  const c1 = process.threadCpuUsage ? process.threadCpuUsage(c0) : process.cpuUsage(c0);
  const options = n * STRIKES.length * T_GRID.length;
  return { wall: options / ((performance.now() - t0) / 1000), cpu: options / ((c1.user + c1.system) / 1e6) };
}
const optionsPerSecond = (engine: HestonEngine, ms: number, seed: number) => throughput(engine, ms, seed).wall;

if (!isMainThread) {
  parentPort!.postMessage(optionsPerSecond(new LewisControlVariateEngine(), workerData.ms, workerData.seed));
} else {
  const ref = JSON.parse(readFileSync(new URL('../tests/fixtures/heston/reference.json', import.meta.url), 'utf8'));
  const qlRef = JSON.parse(readFileSync(new URL('../tests/fixtures/heston/quantlib_reference.json', import.meta.url), 'utf8'));

  function maxError(engine: HestonEngine) {
    let published = 0;
    let hard = 0;
    let grid = 0;
    for (const c of ref.cases) {
      const g = priceGrid(c.params, c.spot, [c.strike], [c.T], c.r, c.q, engine);
      const e = Math.max(Math.abs(g.calls[0]! - c.call), Math.abs(g.puts[0]! - c.put)) / c.spot;
      if (c.source === 'hard case') hard = Math.max(hard, e);
      else published = Math.max(published, e);
    }
    for (const s of ref.grid) {
      const g = priceGrid(s.params, s.spot, s.strikes, s.maturities, s.r, s.q, engine);
      const nt = s.maturities.length;
      s.calls.forEach((row: number[], i: number) => row.forEach((c, j) => (grid = Math.max(grid, Math.abs(g.calls[i * nt + j]! - c) / s.spot, Math.abs(g.puts[i * nt + j]! - s.puts[i][j]) / s.spot))));
    }
    let quantlibCases = 0;
    for (const c of qlRef.cases) {
      const g = priceGrid(c.params, c.spot, [c.strike], [c.T], c.r, c.q, engine);
      quantlibCases = Math.max(quantlibCases, Math.abs(g.calls[0]! - c.call) / c.spot, Math.abs(g.puts[0]! - c.put) / c.spot);
    }
    return { published, hard, grid, quantlibCases, all: Math.max(published, hard, grid, quantlibCases) };
  }

  /**
   * QuantLib on the same 5×6 surfaces in this run (scripts/fixtures/quantlib_bench.py), when a
   * Python with QuantLib is present (Debian's quantlib-python installs into /usr/bin/python3's path).
   */
  function quantlib(params: HestonParams[]): { result: Record<string, any> | null; reason?: string } {
    const request = JSON.stringify({ params, spot: 100, r: 0.02, q: 0.01, strikes: STRIKES, days: T_GRID.map((T) => Math.round(T * 360)), seconds: 2 });
    for (const py of ['python3', '/usr/bin/python3']) {
      if (spawnSync(py, ['-c', 'import QuantLib'], { stdio: 'ignore' }).status !== 0) continue;
      const run = spawnSync(py, [new URL('../scripts/fixtures/quantlib_bench.py', import.meta.url).pathname], { input: request, encoding: 'utf8', timeout: 60_000 });
      if (run.status !== 0) return { result: null, reason: `quantlib_bench.py failed: ${(run.stderr || String(run.error)).trim().split('\n').pop()}` };
      return { result: JSON.parse(run.stdout) };
    }
    return { result: null, reason: "QuantLib not importable (python3 -c 'import QuantLib' fails for python3 and /usr/bin/python3)" };
  }

  const lewis = new LewisControlVariateEngine();
  const seedEngine = new SeedTrapezoidEngine();
  const errLewis = maxError(lewis);
  const errSeed = maxError(seedEngine);
  const singleT = throughput(new LewisControlVariateEngine(), 3000, 1);
  const single = singleT.wall;
  const seedT = throughput(seedEngine, 2000, 1);
  const seedSingle = seedT.wall;
  // CF evaluations per 5×6 surface (cost pinned like QuantLib's test-suite does).
  const counter = new LewisControlVariateEngine();
  for (const p of draws(100, 3)) priceGrid(p, 100, STRIKES, T_GRID, 0.02, 0.01, counter);

  // Days under Actual/360 give these maturities exactly (18/360 = 0.05 …).
  if (T_GRID.some((T) => Math.round(T * 360) / 360 !== T)) throw new Error('T_GRID must be whole Actual/360 days for the QuantLib comparison');
  const ql = quantlib(draws(256, 1));
  const qlFigures = (name: 'default' | 'accurate' | 'ap_laguerre192') => {
    const r = ql.result?.[name];
    return {
      [`quantlib_${name}_options_per_s`]: r ? Math.round(r.options_per_s) : null,
      [`quantlib_${name}_options_per_cpu_s`]: r ? Math.round(r.options_per_cpu_s) : null,
      [`quantlib_${name}_max_abs_error_over_spot`]: r ? r.max_abs_error_over_spot : null,
      [`ratio_options_per_s_lab_over_quantlib_${name}`]: r ? single / r.options_per_s : null,
      [`ratio_options_per_cpu_s_lab_over_quantlib_${name}`]: r ? singleT.cpu / r.options_per_cpu_s : null,
      [`ratio_max_error_lab_over_quantlib_${name}`]: r ? errLewis.all / r.max_abs_error_over_spot : null,
    };
  };

  const threads = cpus().length;
  const perThread = await Promise.all(
    Array.from({ length: threads }, (_, i) =>
      new Promise<number>((resolve, reject) => {
        // cli/threadBoot.mjs registers tsx inside the thread (loader hooks do not cross into workers).
        const w = new Worker(new URL('../cli/threadBoot.mjs', import.meta.url), { workerData: { __module: import.meta.url, ms: 3000, seed: 10 + i } });
        w.once('message', (v) => {
          resolve(v as number);
          void w.terminate();
        });
        w.once('error', reject);
      }),
    ),
  );

  // Implied-vol inversions per second: OTM prices over vols 0.05–1, T 0.02–2, |k| ≤ 0.4.
  const rng = new Rng(5);
  const quotes = Array.from({ length: 4096 }, () => {
    const vol = rng.range(0.05, 1);
    const T = rng.range(0.02, 2);
    const k = rng.range(-0.4, 0.4);
    const o = { forward: 100, strike: 100 * Math.exp(k), T, isCall: k >= 0 };
    return { o, price: bsPrice(vol, o), vol };
  });
  let worstIv = 0;
  for (const q of quotes) worstIv = Math.max(worstIv, Math.abs(impliedVol(q.price, q.o).iv / q.vol - 1));
  let nIv = 0;
  let t0 = performance.now();
  let c0 = process.cpuUsage();
  while (performance.now() - t0 < 2000) {
    const q = quotes[nIv % 4096]!;
    impliedVol(q.price, q.o);
    nIv++;
  }
  const ivPerSecond = nIv / ((performance.now() - t0) / 1000);
  let cu = process.cpuUsage(c0);
  const ivPerCpuSecond = nIv / ((cu.user + cu.system) / 1e6);

  // hestonIvSurface (prices + IV + mask): what the synthetic generators call.
  const ps = draws(256, 7);
  let nSurf = 0;
  t0 = performance.now();
  c0 = process.cpuUsage();
  while (performance.now() - t0 < 2000) {
    hestonIvSurface(ps[nSurf % 256]!, K_GRID, T_GRID);
    nSurf++;
  }
  const surfWallS = (performance.now() - t0) / 1000;
  cu = process.cpuUsage(c0);

  console.log(
    JSON.stringify({
      benchmark: 'pricer',
      grid: '5 strikes (k = ln(K/S) in [-0.4, 0.4]) × 6 maturities (0.05–2 y), seed-box parameters, r = 2%, q = 1%',
      options_per_s_single_thread: Math.round(single),
      options_per_cpu_s_single_thread: Math.round(singleT.cpu),
      options_per_s_all_cores: Math.round(perThread.reduce((a, b) => a + b, 0)),
      threads,
      cf_evaluations_per_surface: Math.round(counter.cfEvaluations / 100),
      max_abs_error_over_spot_published: errLewis.published,
      max_abs_error_over_spot_hard_cases: errLewis.hard,
      max_abs_error_over_spot_seed_box_grid: errLewis.grid,
      max_abs_error_over_spot_quantlib_cases: errLewis.quantlibCases,
      max_abs_error_over_spot_all_fixtures: errLewis.all,
      quantlib: ql.result
        ? `QuantLib ${ql.result.quantlib_version} via Python (scripts/fixtures/quantlib_bench.py): same parameter draws and 5×6 grid, one thread, a new HestonModel per surface, one NPV per option (Python call overhead included); default = AnalyticHestonEngine(model) (Gauss–Laguerre 144), accurate = AndersenPiterbarg + Gauss–Lobatto 1e-12, ap_laguerre192 = AndersenPiterbarg + Gauss–Laguerre 192; errors over the same fixtures (30-digit mpmath)`
        : null,
      quantlib_null_reason: ql.reason ?? null,
      ...qlFigures('default'),
      ...qlFigures('accurate'),
      ...qlFigures('ap_laguerre192'),
      seed_trapezoid_options_per_s: Math.round(seedSingle),
      seed_trapezoid_max_abs_error_over_spot_published: errSeed.published,
      seed_trapezoid_max_abs_error_over_spot_hard_cases: errSeed.hard,
      seed_trapezoid_max_abs_error_over_spot_seed_box_grid: errSeed.grid,
      seed_trapezoid_options_per_cpu_s: Math.round(seedT.cpu),
      speedup_vs_seed_trapezoid: singleT.cpu / seedT.cpu,
      iv_inversions_per_s: Math.round(ivPerSecond),
      iv_inversions_per_cpu_s: Math.round(ivPerCpuSecond),
      iv_round_trip_max_rel_error: worstIv,
      iv_surfaces_per_s_5x6: Math.round(nSurf / surfWallS),
      iv_surfaces_per_cpu_s_5x6: Math.round(nSurf / ((cu.user + cu.system) / 1e6)),
      machine_load_note: 'shared 2-core machine: *_per_s are wall-clock (lower bounds under load), *_per_cpu_s per second of this thread\'s CPU time', load_average_1min: (await import('node:os')).loadavg()[0],
    }),
  );
}
