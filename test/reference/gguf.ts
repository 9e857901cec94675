// A minimal GGUF reader for the reference forward pass, written from the GGUF specification
// (ggml/docs/gguf.md), not from runtime/gguf.ts: the metadata key/value pairs, the tensor table,
// and each tensor's bytes. Little endian, versions 2 and 3; no validation beyond what it needs.
//
//   u32 magic "GGUF", u32 version, u64 tensor count, u64 metadata count
//   metadata: string key, u32 value type, value     (string = u64 length + UTF-8 bytes)
//   tensors:  string name, u32 n_dims, u64 dims[n_dims] (innermost first), u32 ggml type, u64 offset
//   data:     at the next multiple of general.alignment (default 32); offsets are relative to it

export type RefValue = number | bigint | boolean | string | RefValue[];

export interface RefTensor { name: string; shape: number[]; type: number; bytes: Uint8Array }

export interface RefGguf { metadata: Map<string, RefValue>; tensors: Map<string, RefTensor> }

export function readRefGguf(buf: Uint8Array, tensorBytes: (type: number, count: number) => number): RefGguf {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let o = 0;
  const u32 = () => { const x = v.getUint32(o, true); o += 4; return x; };
  const u64 = () => { const x = Number(v.getBigUint64(o, true)); o += 8; return x; };
  const str = () => { const n = u64(); const s = new TextDecoder().decode(buf.subarray(o, o + n)); o += n; return s; };
  // value types 0..12: u8 i8 u16 i16 u32 i32 f32 bool string array u64 i64 f64
  const value = (t: number): RefValue => {
    switch (t) {
      case 0: return v.getUint8(o++);
      case 1: return v.getInt8(o++);
      case 2: { const x = v.getUint16(o, true); o += 2; return x; }
      case 3: { const x = v.getInt16(o, true); o += 2; return x; }
      case 4: return u32();
      case 5: { const x = v.getInt32(o, true); o += 4; return x; }
      case 6: { const x = v.getFloat32(o, true); o += 4; return x; }
      case 7: return v.getUint8(o++) !== 0;
      case 8: return str();
      case 9: { const et = u32(), n = u64(); return Array.from({ length: n }, () => value(et)); }
      case 10: { const x = v.getBigUint64(o, true); o += 8; return x; }
      case 11: { const x = v.getBigInt64(o, true); o += 8; return x; }
      case 12: { const x = v.getFloat64(o, true); o += 8; return x; }
      default: throw new Error(`GGUF value type ${t} at byte ${o - 4}`);
    }
  };

  if (u32() !== 0x46554747) throw new Error('not a GGUF file');
  const version = u32();
  if (version !== 2 && version !== 3) throw new Error(`GGUF version ${version}`);
  const nTensors = u64(), nKv = u64();
  const metadata = new Map<string, RefValue>();
  for (let i = 0; i < nKv; i++) { const key = str(); metadata.set(key, value(u32())); }
  const infos = Array.from({ length: nTensors }, () => {
    const name = str(), shape = Array.from({ length: u32() }, u64), type = u32(), offset = u64();
    return { name, shape, type, offset };
  });
  const align = Number(metadata.get('general.alignment') ?? 32);
  const data = Math.ceil(o / align) * align;
  const tensors = new Map<string, RefTensor>();
  for (const t of infos) {
    const start = data + t.offset, size = tensorBytes(t.type, t.shape.reduce((a, b) => a * b, 1));
    if (start + size > buf.length) throw new Error(`tensor ${t.name} runs past the end of the file`);
    tensors.set(t.name, { ...t, bytes: buf.subarray(start, start + size) });
  }
  return { metadata, tensors };
}
