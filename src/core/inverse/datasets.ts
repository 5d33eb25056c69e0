/**
 * The two data sets of seed chapter IX, already encoded for the network:
 *  - HestonInverseDataset: synthetic surfaces with known parameters (supervised);
 *  - RealIvSurfaceDataset: library surfaces without labels (reconstruction only, IX.3).
 * Both are flat Float32Arrays so a batch is a cheap copy and the same code serves every backend.
 */
import { InputError } from '../errors.ts';
import type { Surface } from '../surface/types.ts';
import { checkMaskedVols } from '../surface/validate.ts';
import { encodeParamsInto, encodeSurfaceInto, type InverseNormalisation } from './normalisation.ts';

/**
 * The shape of a synthetic data set (src/core/surface/synthetic.ts HestonDataset satisfies it):
 * params [N × 5] in PARAM_NAMES order, iv and mask [N × nk × nt] row-major, mask 1 = masked.
 */
export interface LabelledSurfaces {
  n: number;
  kGrid: number[];
  tGrid: number[];
  params: ArrayLike<number>;
  iv: ArrayLike<number>;
  mask: ArrayLike<number>;
}

export interface EncodedSet {
  n: number;
  cells: number;
  /** Network input [n, nk, nt, 2]. */
  x: Float32Array;
  /** z-scored parameters [n, 5], for labelled sets. */
  y?: Float32Array;
}

/**
 * Refuses a data set with a NaN, infinite or non-positive vol where its mask says 0 (valid),
 * naming `where` (the file), the cell, the lab's convention (1 = masked) and an inverted mask
 * when it looks like one (issue 14: a mask written 1 = valid fed NaN to the network and printed
 * R² of −1.2 with exit 0). One pass over iv and mask, ~1 ns a cell.
 */
export function checkLabelledSurfaces(ds: LabelledSurfaces, where: string): void {
  const cells = ds.kGrid.length * ds.tGrid.length;
  if (ds.iv.length !== ds.n * cells || ds.mask.length !== ds.n * cells) {
    throw new InputError(`iv has ${ds.iv.length} and mask ${ds.mask.length} values; ${ds.n} surfaces on a ${ds.kGrid.length} × ${ds.tGrid.length} grid need ${ds.n * cells}`, where);
  }
  checkMaskedVols({ iv: ds.iv, mask: ds.mask, kGrid: ds.kGrid, tGrid: ds.tGrid, itemName: 'surface' }, where);
}

function encodeLabelled(ds: LabelledSurfaces, indices: ArrayLike<number>, norm: InverseNormalisation, where = 'data set'): EncodedSet {
  checkLabelledSurfaces(ds, where);
  const cells = ds.kGrid.length * ds.tGrid.length;
  const x = new Float32Array(indices.length * cells * 2);
  const y = new Float32Array(indices.length * 5);
  for (let ii = 0; ii < indices.length; ii++) {
    const i = indices[ii]!;
    encodeSurfaceInto(ds.iv, ds.mask, i * cells, norm, x, ii * cells * 2);
    encodeParamsInto(ds.params, i, norm, y, ii * 5);
  }
  return { n: indices.length, cells, x, y };
}

export const HestonInverseDataset = {
  encode: encodeLabelled,
};

/** Checks a surface sits on the model's grid exactly (to 1e-9), naming the first mismatch. */
export function checkGrid(kGrid: readonly number[], tGrid: readonly number[], want: { kGrid: readonly number[]; tGrid: readonly number[] }, where: string): void {
  const fmt = (a: readonly number[]) => `[${a.map((v) => +v.toFixed(6)).join(', ')}]`;
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) <= 1e-9 * Math.max(1, Math.abs(v)));
  if (!same(kGrid, want.kGrid)) {
    throw new InputError(`k grid ${fmt(kGrid)} differs from the model's ${fmt(want.kGrid)} (resample the surface onto the model's grid first)`, where);
  }
  if (!same(tGrid, want.tGrid)) {
    throw new InputError(`T grid ${fmt(tGrid)} differs from the model's ${fmt(want.tGrid)} (resample the surface onto the model's grid first)`, where);
  }
}

/**
 * Surfaces on the model's grid → network inputs [n · cells · 2] (surface channel, mask channel).
 * For training, `requireData` refuses a surface with every point masked: it would teach nothing
 * (prediction accepts it and lets the out-of-distribution check speak).
 */
export function encodeSurfaces(surfaces: readonly Surface[], grid: { kGrid: readonly number[]; tGrid: readonly number[] }, norm: InverseNormalisation, requireData = false): Float32Array {
  const cells = grid.kGrid.length * grid.tGrid.length;
  const x = new Float32Array(surfaces.length * cells * 2);
  surfaces.forEach((s, i) => {
    const where = s.name ?? s.source ?? `surface ${i}`;
    checkGrid(s.kGrid, s.tGrid, grid, where);
    if (s.iv.length !== cells) throw new InputError(`iv has ${s.iv.length} values, expected ${cells}`, where);
    if (requireData && !s.iv.some((v, c) => s.mask?.[c] !== 1 && Number.isFinite(v))) throw new InputError('every point is masked: nothing to learn from', where);
    encodeSurfaceInto(s.iv, s.mask, 0, norm, x, i * cells * 2);
  });
  return x;
}

/** Library surfaces on the model's grid → network inputs (no labels). */
export const RealIvSurfaceDataset = {
  encode(surfaces: readonly Surface[], grid: { kGrid: readonly number[]; tGrid: readonly number[] }, norm: InverseNormalisation): EncodedSet {
    const cells = grid.kGrid.length * grid.tGrid.length;
    return { n: surfaces.length, cells, x: encodeSurfaces(surfaces, grid, norm, true) };
  },
};

/** Copies rows `indices[from … from+len)` of a set into batch buffers. */
export function gatherBatch(set: EncodedSet, indices: ArrayLike<number>, from: number, len: number): { x: Float32Array; y?: Float32Array } {
  const row = set.cells * 2;
  const x = new Float32Array(len * row);
  const y = set.y ? new Float32Array(len * 5) : undefined;
  for (let b = 0; b < len; b++) {
    const i = indices[from + b]!;
    x.set(set.x.subarray(i * row, (i + 1) * row), b * row);
    if (y) y.set(set.y!.subarray(i * 5, i * 5 + 5), b * 5);
  }
  return { x, y };
}
