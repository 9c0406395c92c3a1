// MD5 of a string's UTF-8 bytes, as lowercase hex (RFC 1321). Only for the marketplace's
// request signature (mtop signs `token&time&appKey&data` with MD5); never for security.
// A classic script: content scripts get `globalThis.PicGuardMd5`, modules import it for
// that side effect.
globalThis.PicGuardMd5 = globalThis.PicGuardMd5 || (() => {
  "use strict";
  const S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
  const K = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) >>> 0);

  return function md5(text) {
    const data = new TextEncoder().encode(String(text));
    const bitLength = data.length * 8;
    const padded = new Uint8Array(((data.length + 8) >> 6) * 64 + 64);
    padded.set(data);
    padded[data.length] = 0x80;
    const view = new DataView(padded.buffer);
    view.setUint32(padded.length - 8, bitLength >>> 0, true);
    view.setUint32(padded.length - 4, Math.floor(bitLength / 2 ** 32), true);
    let a0 = 0x67452301;
    let b0 = 0xefcdab89;
    let c0 = 0x98badcfe;
    let d0 = 0x10325476;
    const M = new Uint32Array(16);
    for (let offset = 0; offset < padded.length; offset += 64) {
      for (let j = 0; j < 16; j += 1) M[j] = view.getUint32(offset + j * 4, true);
      let [a, b, c, d] = [a0, b0, c0, d0];
      for (let i = 0; i < 64; i += 1) {
        let f;
        let g;
        if (i < 16) {
          f = (b & c) | (~b & d);
          g = i;
        } else if (i < 32) {
          f = (d & b) | (~d & c);
          g = (5 * i + 1) % 16;
        } else if (i < 48) {
          f = b ^ c ^ d;
          g = (3 * i + 5) % 16;
        } else {
          f = c ^ (b | ~d);
          g = (7 * i) % 16;
        }
        const sum = (a + f + K[i] + M[g]) >>> 0;
        const s = S[(i >> 4) * 4 + (i % 4)];
        a = d;
        d = c;
        c = b;
        b = (b + ((sum << s) | (sum >>> (32 - s)))) >>> 0;
      }
      a0 = (a0 + a) >>> 0;
      b0 = (b0 + b) >>> 0;
      c0 = (c0 + c) >>> 0;
      d0 = (d0 + d) >>> 0;
    }
    const out = new DataView(new ArrayBuffer(16));
    [a0, b0, c0, d0].forEach((word, i) => out.setUint32(i * 4, word, true));
    return [...new Uint8Array(out.buffer)].map((x) => x.toString(16).padStart(2, "0")).join("");
  };
})();
