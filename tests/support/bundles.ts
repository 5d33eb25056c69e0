/** Helpers for the tests that forge checkpoint bundles (src/core/io/bundle.ts layout). */
import { sha256 } from '../../src/core/io/bundle.ts';

/** Edits the manifest of a valid file and re-seals it with a fresh hash, as a careful forger (or a buggy writer) would. */
export async function reseal(bytes: Uint8Array, edit: (m: any) => void): Promise<Uint8Array> {
  const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const m = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len)));
  edit(m);
  const json = new TextEncoder().encode(JSON.stringify(m));
  const oldHeader = 12 + len + ((4 - ((12 + len) % 4)) % 4);
  const pad = (4 - ((12 + json.length) % 4)) % 4;
  const data = bytes.subarray(oldHeader, bytes.length - 32);
  const out = new Uint8Array(12 + json.length + pad + data.length + 32);
  out.set(bytes.subarray(0, 8));
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  out.set(data, 12 + json.length + pad);
  out.set(await sha256(out.subarray(0, out.length - 32)), out.length - 32);
  return out;
}

/** A copy of `bytes` with the trailing content hash recomputed (after editing the payload). */
export async function rehash(bytes: Uint8Array): Promise<Uint8Array> {
  const out = bytes.slice();
  out.set(await sha256(out.subarray(0, out.length - 32)), out.length - 32);
  return out;
}
