// MurmurHash3 x86_32, seed 0, over the UTF-8 bytes of a string (docs/assignment.md, section 1).
// The string is encoded into a reused buffer (encodeInto allocates nothing): assignment must
// stay well under a microsecond. Lone surrogates are refused before anything is hashed.

const encoder = new TextEncoder();
let buffer = new Uint8Array(4096);

/** MurmurHash3 x86_32 (seed 0) of the UTF-8 bytes of `text`, as an unsigned 32-bit integer. */
export function murmur3(text) {
  if (buffer.length < text.length * 3 + 3) buffer = new Uint8Array(text.length * 3 + 3);
  const b = buffer;
  const n = encoder.encodeInto(text, b).written;
  b[n] = b[n + 1] = b[n + 2] = 0; // the last, partial block reads zeros past the end
  let h = 0;
  for (let i = 0; i < n; i += 4) {
    let k = b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
    k = Math.imul(k, 0xcc9e2d51);
    h ^= Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    if (i + 4 <= n) h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
  }
  h ^= n;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export const SPACE = 4294967296;

/** Exclusive upper hash bound of each variant but the last (section 3), in IEEE doubles. */
export function variantBounds(weights) {
  let total = 0;
  for (const w of weights) total += w;
  const bounds = [];
  let cumulative = 0;
  for (let i = 0; i < weights.length - 1; i++) {
    cumulative += weights[i];
    bounds.push(Math.floor((cumulative * SPACE) / total));
  }
  return bounds;
}

/** The unit's bucket in [0, 10000) of a layer (section 5); exact in doubles. */
export function layerBucket(layerKey, unitId) {
  return Math.floor((murmur3(`layer:${layerKey}:${unitId}`) * 10000) / SPACE);
}
