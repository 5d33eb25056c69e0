/**
 * Convolution and max-pooling written as matrix products, so they train on EVERY tfjs backend.
 *
 * Why: the wasm backend registers no Conv2DBackpropFilter (nor pool gradients), and the cpu
 * backend's conv gradient is orders of magnitude slower than a matMul (one Adam step of a small conv
 * net on a [64, 5, 6, 1] batch took ~2 s in Node). On the small grids of this lab (a 5 × 6 surface)
 * a convolution is cheaper as: gather every kh × kw patch with one fixed 0/1 selection matrix P
 * (a matMul, which every backend differentiates), then one matMul with the kernel. P has
 * (H·W) × (Ho·Wo·kh·kw) entries, 30 × 270 for a 5 × 6 grid with a 3 × 3 kernel; for big inputs
 * (more than MAX_PATCH_ENTRIES) and a backend with native conv gradients we use tf.conv2d instead.
 *
 * Padding follows TensorFlow's 'same' rule (extra padding at the bottom/right) so results match
 * tf.conv2d / tf.maxPool exactly; padded cells read as 0.
 */
import * as tf from '@tensorflow/tfjs';

export interface PatchSpec {
  kh: number;
  kw: number;
  stride: number;
}

/** Above this many entries in P the selection matrix costs more than it saves. */
const MAX_PATCH_ENTRIES = 4_000_000;

export function outputSize(h: number, w: number, spec: PatchSpec): [number, number] {
  return [Math.ceil(h / spec.stride), Math.ceil(w / spec.stride)];
}

/**
 * The 0/1 selection matrix P [H·W, Ho·Wo·kh·kw]: column (o·K + k) picks the input cell that kernel
 * offset k of output position o reads, or nothing (zero padding).
 */
export function patchMatrix(h: number, w: number, spec: PatchSpec): Float32Array {
  const { kh, kw, stride } = spec;
  const [ho, wo] = outputSize(h, w, spec);
  const padTop = Math.floor(Math.max((ho - 1) * stride + kh - h, 0) / 2);
  const padLeft = Math.floor(Math.max((wo - 1) * stride + kw - w, 0) / 2);
  const k = kh * kw;
  const cols = ho * wo * k;
  const p = new Float32Array(h * w * cols);
  for (let oy = 0; oy < ho; oy++) {
    for (let ox = 0; ox < wo; ox++) {
      const o = oy * wo + ox;
      for (let dy = 0; dy < kh; dy++) {
        const iy = oy * stride + dy - padTop;
        if (iy < 0 || iy >= h) continue;
        for (let dx = 0; dx < kw; dx++) {
          const ix = ox * stride + dx - padLeft;
          if (ix < 0 || ix >= w) continue;
          p[(iy * w + ix) * cols + o * k + dy * kw + dx] = 1;
        }
      }
    }
  }
  return p;
}

const cache = new Map<string, tf.Tensor2D>();

function selection(h: number, w: number, spec: PatchSpec): tf.Tensor2D {
  // Tensors live on one backend; key by backend so a backend switch builds a fresh P there.
  const key = `${tf.getBackend()}:${h}x${w}:${spec.kh}x${spec.kw}/${spec.stride}`;
  let p = cache.get(key);
  if (!p || p.isDisposed) {
    const [ho, wo] = outputSize(h, w, spec);
    p = tf.keep(tf.tensor2d(patchMatrix(h, w, spec), [h * w, ho * wo * spec.kh * spec.kw]));
    cache.set(key, p);
  }
  return p;
}

/** Patches of x [B, H, W, C] → [B, Ho·Wo, kh·kw, C]. */
export function extractPatches(x: tf.Tensor4D, spec: PatchSpec): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const [ho, wo] = outputSize(h, w, spec);
    const k = spec.kh * spec.kw;
    const rows = x.transpose([0, 3, 1, 2]).reshape([b * c, h * w]);
    const gathered = tf.matMul(rows, selection(h, w, spec)); // [B·C, Ho·Wo·K]
    return gathered.reshape([b, c, ho * wo, k]).transpose([0, 2, 3, 1]) as tf.Tensor4D;
  });
}

function useNative(h: number, w: number, spec: PatchSpec): boolean {
  const [ho, wo] = outputSize(h, w, spec);
  return h * w * ho * wo * spec.kh * spec.kw > MAX_PATCH_ENTRIES && tf.getBackend() !== 'wasm';
}

/** 'same'-padded 2-D convolution, x [B, H, W, C], kernel [kh, kw, C, F] → [B, Ho, Wo, F]. */
export function patchConv2d(x: tf.Tensor4D, kernel: tf.Tensor4D, stride = 1): tf.Tensor4D {
  const [kh, kw, c, f] = kernel.shape;
  const [b, h, w] = x.shape;
  const spec = { kh, kw, stride };
  if (useNative(h, w, spec)) return tf.conv2d(x, kernel, stride, 'same');
  return tf.tidy(() => {
    const [ho, wo] = outputSize(h, w, spec);
    const patches = extractPatches(x, spec).reshape([b * ho * wo, kh * kw * c]);
    return tf.matMul(patches, kernel.reshape([kh * kw * c, f])).reshape([b, ho, wo, f]) as tf.Tensor4D;
  });
}

/**
 * 'same'-padded max pooling. Padded cells read as 0, which equals tf.maxPool only for inputs ≥ 0:
 * use it after a ReLU (as the inverse network does), where that holds.
 */
export function patchMaxPool(x: tf.Tensor4D, size = 2, stride = 2): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const spec = { kh: size, kw: size, stride };
  if (useNative(h, w, spec)) return tf.maxPool(x, size, stride, 'same');
  return tf.tidy(() => {
    const [ho, wo] = outputSize(h, w, spec);
    return extractPatches(x, spec).max(2).reshape([b, ho, wo, c]) as tf.Tensor4D;
  });
}

/** Frees the cached selection matrices (e.g. before switching backends for good). */
export function disposePatchCache(): void {
  for (const p of cache.values()) p.dispose();
  cache.clear();
}
