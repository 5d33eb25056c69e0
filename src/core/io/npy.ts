/**
 * NumPy .npy files (format versions 1.0, 2.0 and 3.0), read and written without numpy.
 *
 * The header is a Python dict literal such as {'descr': '<f8', 'fortran_order': False,
 * 'shape': (5, 6), }. It is parsed by a small grammar of its own (strings, booleans, integer
 * tuples), never evaluated. Object arrays ('O' descr) are refused: in a .npy they are a pickle,
 * and unpickling executes code from the file.
 *
 * After reading, data is always C order and native (little-endian) byte order, whatever the file
 * used, so consumers index it as data[i * nt + j] with no further thought.
 */
import { InputError } from '../errors.ts';

export type DType =
  | 'float64'
  | 'float32'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint64'
  | 'uint32'
  | 'uint16'
  | 'uint8'
  | 'bool'
  /** numpy '<U n': fixed-width UTF-32 strings; data holds itemSize code points per element. */
  | 'unicode';

export type NdData =
  | Float64Array
  | Float32Array
  | BigInt64Array
  | BigUint64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint32Array
  | Uint16Array
  | Uint8Array;

export interface NdArray {
  dtype: DType;
  shape: number[];
  /** C order, native byte order. bool is one byte per element (0 or 1). */
  data: NdData;
  /** 'unicode' only: characters per element (numpy's '<U n'). */
  itemSize?: number;
}

interface DTypeInfo {
  /** numpy kind character + item size, as in '<f8'. */
  code: string;
  size: number;
  make: (buf: ArrayBuffer, offset: number, length: number) => NdData;
  alloc: (length: number) => NdData;
}

const DTYPES: Record<Exclude<DType, 'unicode'>, DTypeInfo> = {
  float64: { code: 'f8', size: 8, make: (b, o, n) => new Float64Array(b, o, n), alloc: (n) => new Float64Array(n) },
  float32: { code: 'f4', size: 4, make: (b, o, n) => new Float32Array(b, o, n), alloc: (n) => new Float32Array(n) },
  int64: { code: 'i8', size: 8, make: (b, o, n) => new BigInt64Array(b, o, n), alloc: (n) => new BigInt64Array(n) },
  int32: { code: 'i4', size: 4, make: (b, o, n) => new Int32Array(b, o, n), alloc: (n) => new Int32Array(n) },
  int16: { code: 'i2', size: 2, make: (b, o, n) => new Int16Array(b, o, n), alloc: (n) => new Int16Array(n) },
  int8: { code: 'i1', size: 1, make: (b, o, n) => new Int8Array(b, o, n), alloc: (n) => new Int8Array(n) },
  uint64: { code: 'u8', size: 8, make: (b, o, n) => new BigUint64Array(b, o, n), alloc: (n) => new BigUint64Array(n) },
  uint32: { code: 'u4', size: 4, make: (b, o, n) => new Uint32Array(b, o, n), alloc: (n) => new Uint32Array(n) },
  uint16: { code: 'u2', size: 2, make: (b, o, n) => new Uint16Array(b, o, n), alloc: (n) => new Uint16Array(n) },
  uint8: { code: 'u1', size: 1, make: (b, o, n) => new Uint8Array(b, o, n), alloc: (n) => new Uint8Array(n) },
  bool: { code: 'b1', size: 1, make: (b, o, n) => new Uint8Array(b, o, n), alloc: (n) => new Uint8Array(n) },
};

const CODE_TO_DTYPE = new Map<string, DType>(Object.entries(DTYPES).map(([k, v]) => [v.code, k as DType]));

function dtypeInfo(dtype: DType, itemSize = 1): DTypeInfo {
  if (dtype !== 'unicode') return DTYPES[dtype];
  return {
    code: `U${itemSize}`,
    size: 4 * itemSize,
    make: (b, o, n) => new Uint32Array(b, o, n * itemSize),
    alloc: (n) => new Uint32Array(n * itemSize),
  };
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** Refuse element counts beyond this: a corrupt shape must not make us allocate terabytes. */
const MAX_ELEMENTS = 2 ** 31 - 1;

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Parses an .npy file. `where` (a file name, or "file.npz: key") prefixes every error. */
export function readNpy(bytes: Uint8Array, where = 'array.npy'): NdArray {
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1]! <= 5) {
    throw new InputError('this is a Python pickle, not an .npy array; pickles are never loaded (they can run code)', where);
  }
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) {
    throw new InputError('not an .npy file (missing the \\x93NUMPY magic)', where);
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = bytes[8]! | (bytes[9]! << 8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new InputError('file ends inside the .npy preamble', where);
    headerLen = (bytes[8]! | (bytes[9]! << 8) | (bytes[10]! << 16)) + bytes[11]! * 2 ** 24;
    headerStart = 12;
  } else {
    throw new InputError(`unsupported .npy format version ${major}.${minor} (1.0, 2.0 and 3.0 are supported)`, where);
  }
  if (minor !== 0) throw new InputError(`unsupported .npy format version ${major}.${minor} (1.0, 2.0 and 3.0 are supported)`, where);
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) throw new InputError(`file ends inside the header (header says ${headerLen} bytes, file has ${bytes.length - headerStart})`, where);
  const headerBytes = bytes.subarray(headerStart, dataStart);
  let header: string;
  try {
    header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: major === 3 }).decode(headerBytes);
  } catch {
    throw new InputError('header is not valid UTF-8', where);
  }
  const dict = parseHeader(header, where);

  const descr = dict.descr;
  if (typeof descr !== 'string') {
    throw new InputError('structured (record) dtypes are not supported; save plain numeric arrays', where);
  }
  if (/^[<>|=]?O/.test(descr) || descr.includes('O')) {
    throw new InputError(`object arrays (dtype ${descr}) are refused: they are stored as pickles, which are never loaded; save numeric arrays instead`, where);
  }
  const m = /^([<>|=])?([a-zA-Z])(\d+)$/.exec(descr);
  const dtype = m ? (m[2] === 'U' ? 'unicode' : CODE_TO_DTYPE.get(`${m[2]}${m[3]}`)) : undefined;
  if (!m || !dtype) throw new InputError(`unsupported dtype '${descr}' (supported: float64, float32, int64, int32, int16, int8, uint*, bool)`, where);
  const bigEndian = m[1] === '>';
  const fortran = dict.fortran_order;
  if (typeof fortran !== 'boolean') throw new InputError("header field 'fortran_order' must be True or False", where);
  const shape = dict.shape as number[];
  if (!Array.isArray(shape)) throw new InputError("header field 'shape' must be a tuple of integers", where);

  const itemSize = dtype === 'unicode' ? Number(m[3]) : undefined;
  const info = dtypeInfo(dtype, itemSize);
  const n = elementCount(shape);
  if (dtype === 'unicode' && fortran && shape.length > 1) throw new InputError('Fortran-ordered string arrays are not supported', where);
  if (n * info.size > MAX_ELEMENTS * 8) throw new InputError(`shape (${shape.join(', ')}) is too large`, where);
  const need = n * info.size;
  const have = bytes.length - dataStart;
  if (have < need) throw new InputError(`data is truncated: shape (${shape.join(', ')}) of ${dtype} needs ${need} bytes, file has ${have}`, where);
  if (have > need) throw new InputError(`${have - need} unexpected bytes after the data (shape (${shape.join(', ')}) of ${dtype} needs ${need})`, where);

  // Copy into a fresh, aligned buffer; then fix byte order and memory order in place.
  const buf = new ArrayBuffer(need);
  new Uint8Array(buf).set(bytes.subarray(dataStart, dataStart + need));
  if (bigEndian && info.size > 1) swapBytes(new Uint8Array(buf), dtype === 'unicode' ? 4 : info.size);
  let data = info.make(buf, 0, n);
  if (dtype === 'bool') {
    const u = data as Uint8Array;
    for (let i = 0; i < n; i++) if (u[i]! > 1) u[i] = 1;
  }
  if (fortran && shape.length > 1) data = fortranToC(data, shape, info);
  return itemSize === undefined ? { dtype, shape: [...shape], data } : { dtype, shape: [...shape], data, itemSize };
}

/** Serialises an array as .npy format 1.0 (2.0 if the header outgrows 64 KiB), little-endian, C order. */
export function writeNpy(a: NdArray): Uint8Array {
  if (a.dtype !== 'unicode' && !DTYPES[a.dtype]) throw new InputError(`cannot write dtype ${String(a.dtype)}`);
  const info = dtypeInfo(a.dtype, a.itemSize ?? 1);
  const n = elementCount(a.shape);
  if (a.data.length !== (a.dtype === 'unicode' ? n * (a.itemSize ?? 1) : n)) throw new InputError(`data has ${a.data.length} elements but shape (${a.shape.join(', ')}) needs ${n}`);
  const shapeText = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  const descr = info.size === 1 ? `|${info.code}` : `<${info.code}`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // numpy pads the header with spaces so the data starts on a 64-byte boundary.
  let version = 1;
  let pre = 10;
  let total = pre + dict.length + 1;
  if (total + 63 > 0xffff + pre) {
    version = 2;
    pre = 12;
    total = pre + dict.length + 1;
  }
  const pad = (64 - (total % 64)) % 64;
  dict = dict + ' '.repeat(pad) + '\n';
  const headerLen = dict.length;
  const out = new Uint8Array(pre + headerLen + n * info.size);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  if (version === 1) {
    out[8] = headerLen & 0xff;
    out[9] = headerLen >>> 8;
  } else {
    new DataView(out.buffer).setUint32(8, headerLen, true);
  }
  for (let i = 0; i < headerLen; i++) out[pre + i] = dict.charCodeAt(i);
  const bytes = new Uint8Array(a.data.buffer, a.data.byteOffset, n * info.size);
  out.set(bytes, pre + headerLen);
  return out;
}

/** Convenience constructors (the common cases in the lab). */
export function f64(data: ArrayLike<number>, shape?: number[]): NdArray {
  const d = Float64Array.from(data);
  return { dtype: 'float64', shape: shape ?? [d.length], data: d };
}

/** A 0-d numpy string (dtype '<U n'), as np.array('text') writes it. */
export function scalarString(text: string): NdArray {
  const cps = Array.from(text, (c) => c.codePointAt(0)!);
  const itemSize = Math.max(1, cps.length);
  const data = new Uint32Array(itemSize);
  data.set(cps);
  return { dtype: 'unicode', shape: [], data, itemSize };
}

/** The strings of a 'unicode' array, trailing NULs stripped as numpy does. */
export function toStrings(a: NdArray): string[] {
  if (a.dtype !== 'unicode') throw new InputError(`expected a string array, got ${a.dtype}`);
  const size = a.itemSize ?? 1;
  const d = a.data as Uint32Array;
  const out: string[] = [];
  for (let e = 0; e * size < d.length; e++) {
    let s = '';
    for (let c = 0; c < size; c++) {
      const cp = d[e * size + c]!;
      if (cp === 0) break;
      s += cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
    }
    out.push(s);
  }
  return out;
}

export function scalarF64(x: number): NdArray {
  return { dtype: 'float64', shape: [], data: Float64Array.of(x) };
}

/** Element i as a JS number (BigInt types converted; exact up to 2^53). */
export function toNumbers(a: NdArray): Float64Array {
  if (a.dtype === 'unicode') throw new InputError('expected a numeric array, got strings');
  const out = new Float64Array(a.data.length);
  const d = a.data as ArrayLike<number | bigint>;
  for (let i = 0; i < out.length; i++) out[i] = Number(d[i]);
  return out;
}

function swapBytes(u: Uint8Array, size: number): void {
  for (let off = 0; off + size <= u.length; off += size) {
    for (let a = off, b = off + size - 1; a < b; a++, b--) {
      const t = u[a]!;
      u[a] = u[b]!;
      u[b] = t;
    }
  }
}

function fortranToC(src: NdData, shape: number[], info: DTypeInfo): NdData {
  const n = src.length;
  const out = info.alloc(n);
  const nd = shape.length;
  // Fortran strides: first axis fastest.
  const fStride = new Array<number>(nd);
  let s = 1;
  for (let d = 0; d < nd; d++) {
    fStride[d] = s;
    s *= shape[d]!;
  }
  const idx = new Array<number>(nd).fill(0);
  const o = out as unknown as { [i: number]: number | bigint };
  const inp = src as unknown as { [i: number]: number | bigint };
  for (let c = 0; c < n; c++) {
    let f = 0;
    for (let d = 0; d < nd; d++) f += idx[d]! * fStride[d]!;
    o[c] = inp[f]!;
    for (let d = nd - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

type HeaderValue = string | boolean | number[];

/** Parses the header dict literal with a tiny tokenizer; anything unexpected is an InputError. */
function parseHeader(text: string, where: string): Record<string, HeaderValue | unknown[]> {
  let i = 0;
  const fail = (what: string): never => {
    throw new InputError(`malformed .npy header (${what} at character ${i}): ${JSON.stringify(text.slice(0, 120))}`, where);
  };
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const str = (): string => {
    const q = text[i];
    if (q !== "'" && q !== '"') fail('expected a string');
    const end = text.indexOf(q!, i + 1);
    if (end < 0) fail('unterminated string');
    const s = text.slice(i + 1, end);
    i = end + 1;
    return s;
  };
  const int = (): number => {
    const m = /^\d+L?/.exec(text.slice(i, i + 24));
    if (!m) fail('expected an integer');
    i += m![0].length;
    const v = Number(m![0].replace('L', ''));
    if (!Number.isSafeInteger(v)) fail('dimension too large');
    return v;
  };
  const value = (): HeaderValue | unknown[] => {
    ws();
    const c = text[i];
    if (c === "'" || c === '"') return str();
    if (text.startsWith('True', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('False', i)) {
      i += 5;
      return false;
    }
    if (c === '(') {
      i++;
      const dims: number[] = [];
      for (;;) {
        ws();
        if (text[i] === ')') {
          i++;
          return dims;
        }
        dims.push(int());
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== ')') fail("expected ',' or ')' in shape");
      }
    }
    if (c === '[') return [fail('structured dtype')];
    return fail('unexpected value');
  };
  ws();
  if (text[i] !== '{') fail("expected '{'");
  i++;
  const out: Record<string, HeaderValue | unknown[]> = {};
  for (;;) {
    ws();
    if (text[i] === '}') break;
    if (i >= text.length) fail("missing '}'");
    const key = str();
    ws();
    if (text[i] !== ':') fail("expected ':'");
    i++;
    if (key === 'descr') {
      ws();
      if (text[i] === '[') {
        out.descr = [];
        return out;
      }
    }
    out[key] = value();
    ws();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') fail("expected ',' or '}'");
  }
  for (const k of ['descr', 'fortran_order', 'shape']) if (!(k in out)) fail(`missing key '${k}'`);
  return out;
}
