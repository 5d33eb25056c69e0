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

/** A constant selection matrix and its transpose, kept across steps (the transpose feeds the gradient). */
interface Selection {
  m: tf.Tensor2D;
  mT: tf.Tensor2D;
}

const cache = new Map<string, Selection>();

/**
 * P for this map and patch spec, as 'patch' [H·W, Ho·Wo·kh·kw] (gathers patches) or as 'offset'
 * [H·W·Ho·Wo, kh·kw] (the same entries: row i·HoWo + o has a 1 at the offset linking input i to
 * output o, which denseConv2d multiplies the kernel by).
 */
function selection(layout: 'patch' | 'offset', h: number, w: number, spec: PatchSpec): Selection {
  // Tensors live on one backend; key by backend so a backend switch builds a fresh P there.
  const key = `${tf.getBackend()}:${layout}:${h}x${w}:${spec.kh}x${spec.kw}/${spec.stride}`;
  let entry = cache.get(key);
  if (!entry || entry.m.isDisposed) {
    const [ho, wo] = outputSize(h, w, spec);
    const k = spec.kh * spec.kw;
    const shape: [number, number] = layout === 'patch' ? [h * w, ho * wo * k] : [h * w * ho * wo, k];
    const m = tf.keep(tf.tensor2d(patchMatrix(h, w, spec), shape));
    entry = { m, mT: tf.keep(tf.transpose(m)) };
    cache.set(key, entry);
  }
  return entry;
}

/**
 * a @ b with a gradient built from explicit transposes and plain matMuls. Why: the wasm backend's
 * matMul with a transposed operand (what tf.matMul's own gradient uses) measured ~10× slower
 * than a transpose followed by a plain matMul ([2304, 288] × [288, 64]: 50 ms against 4 ms).
 */
export const fastMatMul = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
      tf.matMul(dy as tf.Tensor2D, tf.transpose(saved[1]!) as tf.Tensor2D),
      tf.matMul(tf.transpose(saved[0]!) as tf.Tensor2D, dy as tf.Tensor2D),
    ],
  };
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/** rows @ P for the constant selection matrix P: only rows gets a gradient (dy @ Pᵀ, Pᵀ cached). */
function select(rows: tf.Tensor2D, sel: Selection): tf.Tensor2D {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.matMul(args[0] as tf.Tensor2D, sel.m),
    gradFunc: (dy: tf.Tensor) => tf.matMul(dy as tf.Tensor2D, sel.mT),
  }))(rows) as tf.Tensor2D;
}

/** Patches of x [B, H, W, C] as rows [B·C, Ho·Wo·K] (K = kh·kw, offset fastest). */
function gatherPatches(x: tf.Tensor4D, spec: PatchSpec): tf.Tensor2D {
  const [b, h, w, c] = x.shape;
  const rows = x.transpose([0, 3, 1, 2]).reshape([b * c, h * w]) as tf.Tensor2D;
  return select(rows, selection('patch', h, w, spec));
}

/** Patches of x [B, H, W, C] → [B, Ho·Wo, kh·kw, C]. */
export function extractPatches(x: tf.Tensor4D, spec: PatchSpec): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const [ho, wo] = outputSize(h, w, spec);
    const k = spec.kh * spec.kw;
    return gatherPatches(x, spec).reshape([b, c, ho * wo, k]).transpose([0, 2, 3, 1]) as tf.Tensor4D;
  });
}

/**
 * Row-wise max of p [N, K] → [N, 1]. Its gradient routes dy to the maxima (ties share it, as
 * tf.max's does) but broadcasts with matMuls by a ones row: wasm's broadcasting `equal`, which
 * tf.max's gradient uses, measured ~15× slower than the same-shape one.
 */
function rowMax(p: tf.Tensor2D): tf.Tensor2D {
  const k = p.shape[1];
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const y = tf.max(x, 1, true);
    save([x, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const ones = tf.ones([1, k]) as tf.Tensor2D;
        const hit = tf.cast(tf.equal(saved[0]!, tf.matMul(saved[1]! as tf.Tensor2D, ones)), 'float32');
        return tf.mul(hit, tf.matMul(dy as tf.Tensor2D, ones));
      },
    };
  })(p) as tf.Tensor2D;
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
    const patches = extractPatches(x, spec).reshape([b * ho * wo, kh * kw * c]) as tf.Tensor2D;
    return fastMatMul(patches, kernel.reshape([kh * kw * c, f]) as tf.Tensor2D).reshape([b, ho, wo, f]) as tf.Tensor4D;
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
    const rows = gatherPatches(x, spec).reshape([b * c * ho * wo, spec.kh * spec.kw]) as tf.Tensor2D;
    return rowMax(rows).reshape([b, c, ho, wo]).transpose([0, 2, 3, 1]) as tf.Tensor4D;
  });
}

/** Frees the cached selection matrices (e.g. before switching backends for good). */
export function disposePatchCache(): void {
  for (const e of cache.values()) tf.dispose([e.m, e.mT]);
  cache.clear();
}

/**
 * a @ b where a is data that needs no gradient (the network input): the gradient is only
 * aᵀ @ dy, so the backward pass skips the matMul a full fastMatMul would spend on dL/da.
 */
export const weightOnlyMatMul = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([a]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.zerosLike(saved[0]!), tf.matMul(tf.transpose(saved[0]!) as tf.Tensor2D, dy as tf.Tensor2D)],
  };
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/** Above this many entries the dense conv weight costs more than the patch route. */
const MAX_DENSE_CONV_ENTRIES = 2_000_000;

/** Whether denseConv2d takes its dense route for this map and kernel (otherwise it falls back to patchConv2d). */
export function denseConvFits(h: number, w: number, kh: number, kw: number, c: number, f: number): boolean {
  const [ho, wo] = outputSize(h, w, { kh, kw, stride: 1 });
  return h * w * c * ho * wo * f <= MAX_DENSE_CONV_ENTRIES;
}

/**
 * 'same'-padded stride-1 convolution of a batch of small maps given FLAT in NHWC order,
 * x [B, H·W·C] → [B, Ho·Wo·F] (also NHWC). Same result as patchConv2d, computed as ONE matMul
 * with the dense weight W [H·W·C, Ho·Wo·F] that the kernel induces on this map size
 * (W = S·kernel, rearranged; S the fixed offset selection). Why: on the seed's 5 × 6 grid the
 * patch route spends most of a training step transposing and gathering batch-sized tensors
 * (tens of kernels per conv); here every rearrangement acts on weight-sized tensors and the
 * batch meets a single matMul forward and two backward. `inputGrad` false (the network input)
 * skips dL/dx. Maps too large for a dense W fall back to patchConv2d.
 */
export function denseConv2d(x: tf.Tensor2D, kernel: tf.Tensor4D, h: number, w: number, inputGrad = true): tf.Tensor2D {
  const [kh, kw, c, f] = kernel.shape;
  const b = x.shape[0];
  const spec = { kh, kw, stride: 1 };
  const [ho, wo] = outputSize(h, w, spec);
  if (!denseConvFits(h, w, kh, kw, c, f)) {
    return tf.tidy(() => patchConv2d(x.reshape([b, h, w, c]) as tf.Tensor4D, kernel).reshape([b, ho * wo * f]) as tf.Tensor2D);
  }
  return tf.tidy(() => {
    const sel = selection('offset', h, w, spec);
    const kr = kernel.reshape([kh * kw, c * f]) as tf.Tensor2D;
    // S @ kernel with the constant S: only the kernel gets a gradient (Sᵀ @ dy, Sᵀ cached).
    const sk = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
      value: tf.matMul(sel.m, args[0] as tf.Tensor2D),
      gradFunc: (dy: tf.Tensor) => tf.matMul(sel.mT, dy as tf.Tensor2D),
    }))(kr) as tf.Tensor2D;
    const dense = sk.reshape([h * w, ho * wo, c, f]).transpose([0, 2, 1, 3]).reshape([h * w * c, ho * wo * f]) as tf.Tensor2D;
    return inputGrad ? fastMatMul(x, dense) : weightOnlyMatMul(x, dense);
  });
}

/**
 * max(a, b) as b + relu(a − b): the same value up to one rounding, but from ops (sub, relu,
 * add, and relu's step in the gradient) that wasm runs ~20× faster than its Maximum / Less /
 * GreaterEqual kernels (measured on [768, 192]: 0.07 ms against 1.2–2.4 ms).
 */
function pairMax(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.add(b, tf.relu(tf.sub(a, b)));
}

/**
 * x [N, F] + bias [F] whose bias gradient is ones[1, N] @ dy, a matMul: wasm's Sum over the
 * batch axis (what tf.add's broadcast gradient uses) measured ~4× slower on [7680, 32].
 */
export const biasAdd = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, bias] = args as [tf.Tensor2D, tf.Tensor1D];
  const [n, f] = x.shape;
  return {
    value: tf.add(x, bias),
    // dy is copied before it meets the matMul: the same buffer also reaches the layer below as a
    // gradient of ANOTHER shape (a reshape shares it), and wasm's matMul caches its packed right
    // operand by buffer, not by shape — two shapes on one buffer read out of bounds.
    gradFunc: (dy: tf.Tensor) => [dy, tf.matMul(tf.ones([1, n]) as tf.Tensor2D, tf.add(dy, 0) as tf.Tensor2D).reshape([f])],
  };
}) as (x: tf.Tensor2D, bias: tf.Tensor) => tf.Tensor2D;

/**
 * 'same'-padded max pooling with window = stride = `size` of x [B, H, W, C] (the inverse
 * network's pools), from zero padding, slices and pairwise maxima: every op is elementwise on
 * at most the input's size, and tf.maximum's gradient is same-shape (no broadcasting `equal`,
 * slow on wasm). Padded cells read as 0: use it after a ReLU, like patchMaxPool. Equal to
 * patchMaxPool in value; on exact ties the gradient goes to one of the tied cells rather than
 * to all (after a ReLU the common tie is 0 = 0, whose upstream gradient is 0 anyway).
 */
export function strideMaxPool(x: tf.Tensor4D, size = 2): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const [ho, wo] = outputSize(h, w, { kh: size, kw: size, stride: size });
  return tf.tidy(() => {
    const padH = ho * size - h;
    const padW = wo * size - w;
    const top = Math.floor(padH / 2);
    const left = Math.floor(padW / 2);
    let p: tf.Tensor = padH > 0 || padW > 0 ? tf.pad(x, [[0, 0], [top, padH - top], [left, padW - left], [0, 0]]) : x;
    // Rows: [B·Ho, size, Wo·size·C], max over the window's rows.
    p = p.reshape([b * ho, size, wo * size * c]);
    let m: tf.Tensor = tf.slice(p, [0, 0, 0], [b * ho, 1, wo * size * c]);
    for (let r = 1; r < size; r++) m = pairMax(m, tf.slice(p, [0, r, 0], [b * ho, 1, wo * size * c]));
    // Columns: [B·Ho·Wo, size, C], max over the window's columns.
    m = m.reshape([b * ho * wo, size, c]);
    let out: tf.Tensor = tf.slice(m, [0, 0, 0], [b * ho * wo, 1, c]);
    for (let r = 1; r < size; r++) out = pairMax(out, tf.slice(m, [0, r, 0], [b * ho * wo, 1, c]));
    return out.reshape([b, ho, wo, c]) as tf.Tensor4D;
  });
}
