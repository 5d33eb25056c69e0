/**
 * Calibration residuals as the Pricer page and reports show them: model − data in vol points
 * (1 vol point = 0.01 in decimal vol), NaN where the data point is masked or missing so a heatmap
 * leaves it blank rather than drawing a residual against nothing.
 */

/** (model − data) × 100 per grid point; NaN where mask = 1 or either value is not finite. */
export function residualsVolPoints(model: ArrayLike<number>, data: ArrayLike<number>, mask?: ArrayLike<number>): Float64Array {
  if (model.length !== data.length) throw new Error(`residuals: model has ${model.length} points, data ${data.length}`);
  return Float64Array.from({ length: data.length }, (_, n) => {
    const m = model[n]!;
    const d = data[n]!;
    return mask?.[n] === 1 || !Number.isFinite(m) || !Number.isFinite(d) ? NaN : 100 * (m - d);
  });
}
