/**
 * Surface file commands: inspect a .npz / .csv surface, convert between the two, and generate
 * synthetic data sets (`synth`, split across worker threads).
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { InputError } from '../../src/core/errors.ts';
import type { CsvReadOptions } from '../../src/core/surface/csv.ts';
import { parseIvUnit, type ReaderAssumptions } from '../../src/core/surface/units.ts';
import { readNpz } from '../../src/core/io/npz.ts';
import { SEED_PRIOR, type HestonPrior } from '../../src/core/heston/params.ts';
import { parseSurfaceBytes, surfaceToCsv, surfaceToNpz, type ParsedSurfaceFile } from '../../src/core/surface/files.ts';
import { datasetFromNpz, datasetToNpz, priorProblems, type SynthKind } from '../../src/core/surface/synthetic.ts';
import type { Surface } from '../../src/core/surface/types.ts';
import { gridProblems, ivRange, maskedCount, parseGridText } from '../../src/core/surface/validate.ts';
import { SEED_GRID } from '../../src/core/surface/types.ts';
import { checkLabelledSurfaces } from '../../src/core/inverse/datasets.ts';
import { intOption, numberOption, parse, positiveIntOption, readJsonInput, requireOption, writeAtomicSync, type CommandDef } from '../io.ts';
import { defaultThreads, generateDatasetThreaded } from '../synthThreads.ts';
import { generationPlan } from '../../src/core/surface/generationPlan.ts';

function readBytes(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new InputError(`cannot read: ${(e as Error).message}`, file);
  }
}

function gridList(text: string | undefined, flag: string): number[] | undefined {
  return text === undefined ? undefined : parseGridText(text, flag);
}

export const CSV_OPTIONS = {
  'iv-unit': { type: 'string' },
  spot: { type: 'string' },
  'k-grid': { type: 'string' },
  't-grid': { type: 'string' },
  at: { type: 'string' },
} as const;

export function csvOptions(values: Partial<Record<keyof typeof CSV_OPTIONS, string | undefined>>): CsvReadOptions {
  const o: CsvReadOptions = {};
  if (values['iv-unit'] !== undefined) o.ivUnit = parseIvUnit(values['iv-unit'], '--iv-unit');
  if (values.spot !== undefined) o.spot = numberOption(values.spot, '--spot');
  const k = gridList(values['k-grid'], '--k-grid');
  const t = gridList(values['t-grid'], '--t-grid');
  if (k) o.kGrid = k;
  if (t) o.tGrid = t;
  if (values.at !== undefined) {
    const ms = Date.parse(values.at);
    if (!Number.isFinite(ms)) throw new InputError(`--at must be an ISO time, got "${values.at}"`);
    o.at = ms;
  }
  return o;
}

/** A reader's assumptions as the CLI prints them (snake_case, like every other key). */
export function assumptionsJson(a: ReaderAssumptions): Record<string, string> {
  return { iv_unit: a.ivUnit.unit, iv_unit_from: a.ivUnit.from, spot_from: a.spot.from, timestamp_from: a.timestamp.from };
}

/** Reads a surface from .npz or any CSV layout; warnings come back for the user to see. */
export function readSurfaceFile(file: string, opts: CsvReadOptions = {}): ParsedSurfaceFile {
  return parseSurfaceBytes(readBytes(file), basename(file), opts);
}

const inspect: CommandDef = {
  name: 'surface inspect',
  summary: 'Summarise a surface file (.npz or .csv): grids, spot, timestamp, vol range, masked points',
  usage: [
    'surface inspect FILE [--iv-unit pct|decimal] [--spot S] [--k-grid ...] [--t-grid ...] [--at ISO]',
    '  prints {"nk","nt","k_grid","t_grid","spot","timestamp","iv_min","iv_max","masked", "assumptions", …}; timestamp in ms since the epoch.',
    '  assumptions: {"iv_unit","iv_unit_from","spot_from","timestamp_from"}: what the reader assumed and why (option, file, format, inferred …).',
    '  --iv-unit: how the file writes vols (default: what the file states, else inferred; .npz holds decimals). A vol above 300 % in',
    '  decimals is refused with the unit named.',
    '  CSV options apply to quote layouts (long, Deribit book summary, Tardis options_chain).',
    '  A data set written by synth is summarised instead: {"dataset": true, "kind", "n", "nk", "nt", "masked_fraction", "prior", …}.',
  ].join('\n'),
  async run(argv) {
    const { values, positionals } = parse(argv, CSV_OPTIONS, true);
    if (positionals.length !== 1) throw new InputError('give exactly one FILE');
    const file = positionals[0]!;
    if (extname(file).toLowerCase() === '.npz') {
      const arrays = readNpz(readBytes(file), basename(file));
      if (arrays.params && arrays.iv && !arrays.iv_surface) {
        // A synthetic data set (synth --out): summarise it instead of refusing it.
        const ds = datasetFromNpz(readBytes(file), basename(file));
        checkLabelledSurfaces(ds, basename(file));
        let masked = 0;
        for (const m of ds.mask) masked += m;
        return { dataset: true, kind: ds.kind, n: ds.n, seed: ds.seed, nk: ds.kGrid.length, nt: ds.tGrid.length, k_grid: ds.kGrid, t_grid: ds.tGrid, masked_fraction: masked / ds.mask.length, prior: ds.prior };
      }
    }
    const { surface: s, warnings, layout, assumptions } = readSurfaceFile(file, csvOptions(values));
    const { min, max } = ivRange(s);
    return {
      nk: s.kGrid.length,
      nt: s.tGrid.length,
      k_grid: s.kGrid,
      t_grid: s.tGrid,
      spot: s.spot,
      timestamp: s.timestamp,
      timestamp_iso: new Date(s.timestamp).toISOString(),
      iv_min: min,
      iv_max: max,
      masked: maskedCount(s),
      source: s.source,
      layout,
      assumptions: assumptionsJson(assumptions),
      ...(s.forward ? { forward: s.forward } : {}),
      ...(warnings.length ? { warnings } : {}),
    };
  },
};

const convert: CommandDef = {
  name: 'surface convert',
  summary: 'Convert a surface between .npz and .csv (grid layout); quote CSVs become a grid',
  usage: [
    'surface convert IN OUT [--iv-unit pct|decimal] [--spot S] [--k-grid ...] [--t-grid ...] [--at ISO] [--compress]',
    '  IN: .npz or .csv (grid, long, Deribit book summary, Tardis options_chain); OUT: .npz or .csv (grid layout).',
  ].join('\n'),
  async run(argv) {
    const { values, positionals } = parse(argv, { ...CSV_OPTIONS, compress: { type: 'boolean' } }, true);
    if (positionals.length !== 2) throw new InputError('give IN and OUT');
    const [input, output] = positionals as [string, string];
    const { surface, warnings, assumptions } = readSurfaceFile(input, csvOptions(values));
    const ext = extname(output).toLowerCase();
    if (ext === '.npz') writeAtomicSync(output, surfaceToNpz(surface, { compress: values.compress ?? false }));
    else if (ext === '.csv') writeAtomicSync(output, surfaceToCsv(surface));
    else throw new InputError('OUT must end in .npz or .csv', output);
    return { in: input, out: output, nk: surface.kGrid.length, nt: surface.tGrid.length, masked: maskedCount(surface), bytes: statSync(output).size, assumptions: assumptionsJson(assumptions), ...(warnings.length ? { warnings } : {}) };
  },
};

function readGridFile(file: string): { kGrid: number[]; tGrid: number[] } {
  if (extname(file).toLowerCase() === '.json') {
    const j = readJsonInput(file) as Record<string, unknown>;
    const kGrid = (j.kGrid ?? j.k_grid) as number[];
    const tGrid = (j.tGrid ?? j.t_grid) as number[];
    const problems = [...gridProblems(kGrid, 'k_grid'), ...gridProblems(tGrid, 't_grid', true)];
    if (problems.length) throw new InputError(problems.join('; '), file);
    return { kGrid, tGrid };
  }
  const { surface } = readSurfaceFile(file);
  return { kGrid: surface.kGrid, tGrid: surface.tGrid };
}

const synth: CommandDef = {
  name: 'synth',
  summary: 'Generate a synthetic data set (true Heston or the seed’s proxy) as one .npz',
  usage: [
    'synth --kind heston|proxy --n N --seed S --out FILE.npz [--grid FILE] [--prior FILE.json] [--threads T] [--float64] [--compress]',
    '  --grid: a .json {"k_grid": [...], "t_grid": [...]} or a surface file whose grids to use (default: the seed’s 5×6 grid).',
    '  --prior: JSON {"kappa": {"kind": "logUniform", "lo": 0.5, "hi": 8}, …} (default: the seed’s box).',
    '  The .npz holds params [N,5], iv [N,nk,nt], mask [N,nk,nt], k_grid, t_grid, prior [5,3], kind, seed.',
    '  Sample i depends only on (seed, i): any --threads gives the same file.',
  ].join('\n'),
  async run(argv, ctx) {
    const { values } = parse(argv, {
      kind: { type: 'string' },
      n: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      grid: { type: 'string' },
      prior: { type: 'string' },
      threads: { type: 'string' },
      float64: { type: 'boolean' },
      compress: { type: 'boolean' },
    });
    const kind = requireOption(values.kind, '--kind');
    if (kind !== 'heston' && kind !== 'proxy') throw new InputError(`--kind must be heston or proxy, got "${kind}"`);
    const n = positiveIntOption(values.n, '--n');
    const seed = intOption(values.seed, '--seed');
    const out = requireOption(values.out, '--out');
    if (extname(out).toLowerCase() !== '.npz') throw new InputError('--out must end in .npz', out);
    const grid = values.grid ? readGridFile(values.grid) : SEED_GRID;
    let prior: HestonPrior = SEED_PRIOR;
    if (values.prior) {
      prior = { ...SEED_PRIOR, ...(readJsonInput(values.prior) as Partial<HestonPrior>) };
      const pp = priorProblems(prior);
      if (pp.length) throw new InputError(pp.join('; '), values.prior);
    }
    const threads = intOption(values.threads, '--threads', defaultThreads());
    if (threads < 1) throw new InputError('--threads must be at least 1');
    const t0 = performance.now();
    const ds = await generateDatasetThreaded({ kind: kind as SynthKind, n, seed, kGrid: grid.kGrid, tGrid: grid.tGrid, prior, dtype: values.float64 ? 'float64' : 'float32' }, threads, ctx);
    const seconds = (performance.now() - t0) / 1000;
    writeAtomicSync(out, datasetToNpz(ds, { compress: values.compress ?? false }));
    let masked = 0;
    for (const m of ds.mask) masked += m;
    return {
      out,
      kind,
      n,
      seed,
      nk: grid.kGrid.length,
      nt: grid.tGrid.length,
      threads: generationPlan(n, kind, threads).parts,
      masked_fraction: masked / ds.mask.length,
      seconds,
      surfaces_per_second: n / seconds,
      bytes: statSync(out).size,
    };
  },
};

export const surfaceCommands: CommandDef[] = [inspect, convert, synth];
