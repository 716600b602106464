// sha256.js: SHA-256 (FIPS 180-4) fed in pieces, for files too big to
// read at once. WebCrypto's crypto.subtle.digest takes the whole input in
// one buffer and has no incremental form, and hashing slices with it
// gives a hash of hashes, not the file's SHA-256 the ledger holds: so the
// desk and the download feed each slice of a file (or each chunk of an
// answer) to one Sha256, and memory stays one slice, whatever the size.
// About 100-300 MB/s in V8: a GiB hashes in seconds, not minutes.
// internal/web/datajs_test.go holds it to Go's crypto/sha256.

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

export class Sha256 {
  constructor() {
    this.h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    this.w = new Uint32Array(64);
    this.buf = new Uint8Array(64); // a block not yet full
    this.fill = 0;
    this.length = 0; // bytes fed, below 2^53
    this.done = false;
  }

  // blocks compresses the whole 64-byte blocks of b from offset off.
  blocks(b, off, end) {
    const w = this.w;
    const h = this.h;
    let h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4], h5 = h[5], h6 = h[6], h7 = h[7];
    for (; off + 64 <= end; off += 64) {
      for (let i = 0; i < 16; i++) {
        const j = off + 4 * i;
        w[i] = (b[j] << 24) | (b[j + 1] << 16) | (b[j + 2] << 8) | b[j + 3];
      }
      for (let i = 16; i < 64; i++) {
        const x = w[i - 15], y = w[i - 2];
        const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
        const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
      }
      let a = h0, bb = h1, c = h2, d = h3, e = h4, f = h5, g = h6, hh = h7;
      for (let i = 0; i < 64; i++) {
        const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
        const t1 = (hh + S1 + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
        const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
        const t2 = (S0 + ((a & bb) ^ (a & c) ^ (bb & c))) | 0;
        hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = bb; bb = a; a = (t1 + t2) | 0;
      }
      h0 = (h0 + a) | 0; h1 = (h1 + bb) | 0; h2 = (h2 + c) | 0; h3 = (h3 + d) | 0;
      h4 = (h4 + e) | 0; h5 = (h5 + f) | 0; h6 = (h6 + g) | 0; h7 = (h7 + hh) | 0;
    }
    h[0] = h0; h[1] = h1; h[2] = h2; h[3] = h3; h[4] = h4; h[5] = h5; h[6] = h6; h[7] = h7;
    return off;
  }

  // update feeds bytes (a Uint8Array or an ArrayBuffer).
  update(data) {
    if (this.done) throw new Error('sha256: update after digest');
    const b = data instanceof Uint8Array ? data : new Uint8Array(data);
    this.length += b.length;
    let off = 0;
    if (this.fill > 0) {
      const n = Math.min(64 - this.fill, b.length);
      this.buf.set(b.subarray(0, n), this.fill);
      this.fill += n;
      off = n;
      if (this.fill < 64) return this;
      this.blocks(this.buf, 0, 64);
      this.fill = 0;
    }
    off = this.blocks(b, off, b.length);
    if (off < b.length) {
      this.buf.set(b.subarray(off), 0);
      this.fill = b.length - off;
    }
    return this;
  }

  // digest ends the hash: its 32 bytes.
  digest() {
    if (this.done) throw new Error('sha256: digest twice');
    this.done = true;
    const bits = this.length * 8;
    const pad = new Uint8Array(this.fill < 56 ? 64 : 128);
    pad.set(this.buf.subarray(0, this.fill));
    pad[this.fill] = 0x80;
    const dv = new DataView(pad.buffer);
    dv.setUint32(pad.length - 8, Math.floor(bits / 2 ** 32));
    dv.setUint32(pad.length - 4, bits >>> 0);
    this.blocks(pad, 0, pad.length);
    const out = new Uint8Array(32);
    const odv = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) odv.setUint32(4 * i, this.h[i]);
    return out;
  }

  // hex ends the hash: its lowercase hex, as a DATA value writes it.
  hex() {
    return Array.from(this.digest(), (x) => x.toString(16).padStart(2, '0')).join('');
  }
}

// SLICE is how much of a file is read at once while hashing it.
export const SLICE = 8 << 20;

// hashFile is the SHA-256 (hex) of a File or Blob, read a slice at a
// time; onProgress is told the bytes hashed so far.
export async function hashFile(file, onProgress = () => {}) {
  const h = new Sha256();
  for (let off = 0; off < file.size; off += SLICE) {
    h.update(new Uint8Array(await file.slice(off, Math.min(off + SLICE, file.size)).arrayBuffer()));
    onProgress(Math.min(off + SLICE, file.size));
  }
  onProgress(file.size);
  return h.hex();
}
