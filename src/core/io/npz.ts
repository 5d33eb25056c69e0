/**
 * NumPy .npz archives (np.savez / np.savez_compressed): a zip of .npy members, one per key.
 * Unzipping is fflate's; every failure — a truncated archive, a bad CRC, a member that is not an
 * array — becomes an InputError naming the file and the key.
 */
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { InputError } from '../errors.ts';
import { readNpy, writeNpy, type NdArray } from './npy.ts';

/** Decompressed size beyond which an archive is refused (a zip bomb must not exhaust memory). */
const MAX_UNCOMPRESSED = 2 ** 31;

export function readNpz(bytes: Uint8Array, fileName = 'arrays.npz'): Record<string, NdArray> {
  if (bytes.length < 22 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) {
    if (bytes.length >= 6 && bytes[0] === 0x93 && bytes[1] === 0x4e) {
      throw new InputError('this is a single .npy array, not an .npz archive', fileName);
    }
    throw new InputError('not an .npz file (not a zip archive)', fileName);
  }
  const crcs = checkCentralDirectory(bytes, fileName);
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(bytes);
  } catch (e) {
    throw new InputError(`corrupt or truncated zip archive (${(e as Error).message})`, fileName);
  }
  const out: Record<string, NdArray> = {};
  const names = Object.keys(members);
  if (names.length === 0) throw new InputError('the archive holds no arrays', fileName);
  for (const name of names) {
    if (name.endsWith('/')) continue;
    const key = name.endsWith('.npy') ? name.slice(0, -4) : name;
    // numpy (Python's zipfile) checks every member's CRC-32; so do we: a flipped bit in a vol
    // is corruption to report, not a number to use.
    const want = crcs.get(name);
    if (want !== undefined && crc32(members[name]!) !== want) throw new InputError(`member '${key}' fails its CRC-32 check (the file is corrupted)`, fileName);
    out[key] = readNpy(members[name]!, `${fileName}: ${key}`);
  }
  return out;
}

export function writeNpz(arrays: Record<string, NdArray>, opts: { compress?: boolean } = {}): Uint8Array {
  const files: Zippable = {};
  for (const [key, a] of Object.entries(arrays)) {
    if (!/^[\w.-]+$/.test(key)) throw new InputError(`array name "${key}" must use letters, digits, '_', '.' or '-'`);
    files[`${key}.npy`] = writeNpy(a);
  }
  // mtime fixed: the same arrays always give the same bytes (content hashes stay stable).
  return zipSync(files, { level: opts.compress ? 6 : 0, mtime: new Date(1980, 0, 1) });
}

/**
 * fflate trusts the archive's own sizes; walk the central directory first so a corrupt entry
 * count, offset or a declared size out of all proportion is reported rather than allocated.
 */
function checkCentralDirectory(b: Uint8Array, where: string): Map<string, number> {
  const crcs = new Map<string, number>();
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let eocd = -1;
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 0xffff); i--) {
    if (dv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new InputError('truncated zip archive (no end-of-central-directory record)', where);
  let count = dv.getUint16(eocd + 10, true);
  let cdOffset = dv.getUint32(eocd + 16, true);
  // zip64: numpy's savez always writes zip64 members; large archives also get a zip64 EOCD.
  if ((count === 0xffff || cdOffset === 0xffffffff) && eocd >= 20 && dv.getUint32(eocd - 20, true) === 0x07064b50) {
    const z64 = Number(dv.getBigUint64(eocd - 12, true));
    if (z64 + 56 > b.length || dv.getUint32(z64, true) !== 0x06064b50) throw new InputError('corrupt zip64 directory', where);
    count = Number(dv.getBigUint64(z64 + 32, true));
    cdOffset = Number(dv.getBigUint64(z64 + 48, true));
  }
  if (cdOffset > b.length) throw new InputError('corrupt zip archive (central directory lies past the end of the file)', where);
  let p = cdOffset;
  let total = 0;
  for (let e = 0; e < count; e++) {
    if (p + 46 > b.length || dv.getUint32(p, true) !== 0x02014b50) throw new InputError(`corrupt zip archive (entry ${e + 1} of ${count} in the central directory is damaged)`, where);
    const method = dv.getUint16(p + 10, true);
    if (method !== 0 && method !== 8) throw new InputError(`zip entry ${e + 1} uses compression method ${method}; only stored and deflate are supported`, where);
    let usize = dv.getUint32(p + 24, true);
    let csize = dv.getUint32(p + 20, true);
    let local = dv.getUint32(p + 42, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    const extraStart = p + 46 + nameLen;
    if (extraStart + extraLen > b.length) throw new InputError(`corrupt zip archive (entry ${e + 1} runs past the end)`, where);
    crcs.set(new TextDecoder().decode(b.subarray(p + 46, extraStart)), dv.getUint32(p + 16, true));
    if (extraStart + extraLen > b.length) throw new InputError(`corrupt zip archive (entry ${e + 1} runs past the end)`, where);
    // zip64 extended information: present fields appear in the order usize, csize, local offset.
    for (let x = extraStart; x + 4 <= extraStart + extraLen; ) {
      const id = dv.getUint16(x, true);
      const len = dv.getUint16(x + 2, true);
      if (id === 1) {
        let q = x + 4;
        const end = Math.min(x + 4 + len, extraStart + extraLen);
        if (usize === 0xffffffff && q + 8 <= end) (usize = Number(dv.getBigUint64(q, true))), (q += 8);
        if (csize === 0xffffffff && q + 8 <= end) (csize = Number(dv.getBigUint64(q, true))), (q += 8);
        if (local === 0xffffffff && q + 8 <= end) (local = Number(dv.getBigUint64(q, true))), (q += 8);
      }
      x += 4 + len;
    }
    if (local + 30 > b.length || csize > b.length) throw new InputError(`corrupt zip archive (entry ${e + 1} points past the end of the file)`, where);
    if (method === 0 && usize !== csize) throw new InputError(`corrupt zip archive (stored entry ${e + 1} has inconsistent sizes)`, where);
    total += usize;
    if (total > MAX_UNCOMPRESSED) throw new InputError('archive expands to more than 2 GiB; refused', where);
    p = extraStart + extraLen + commentLen;
  }
  return crcs;
}

let CRC_TABLE: Uint32Array | undefined;

export function crc32(u: Uint8Array): number {
  if (!CRC_TABLE) {
    CRC_TABLE = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      CRC_TABLE[n] = c >>> 0;
    }
  }
  const t = CRC_TABLE;
  let c = 0xffffffff;
  for (let i = 0; i < u.length; i++) c = t[(c ^ u[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
