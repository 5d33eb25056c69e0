/**
 * Small dense linear algebra for Levenberg–Marquardt (5 unknowns): Cholesky solve of a symmetric
 * positive-definite system held row-major in a Float64Array.
 */

/**
 * Solves A x = b for symmetric positive-definite A (n × n, row-major). Returns false (leaving x
 * untouched) when A is not numerically positive definite, so the caller can raise its damping.
 */
export function choleskySolve(a: Float64Array, b: Float64Array, n: number, x: Float64Array): boolean {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      if (i === j) {
        if (!(s > 0) || !Number.isFinite(s)) return false;
        l[i * n + i] = Math.sqrt(s);
      } else {
        l[i * n + j] = s / l[j * n + j]!;
      }
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * n + k]! * y[k]!;
    y[i] = s / l[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * x[k]!;
    x[i] = s / l[i * n + i]!;
  }
  return true;
}
