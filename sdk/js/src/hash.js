// MurmurHash3 x86_32, seed 0, over the UTF-8 bytes of a string (docs/assignment.md, section 1).
// Every hash input is a fixed prefix ("variant:<salt>:") and a unit id: the prefix is encoded
// once per experiment, and each call copies its bytes to a reused buffer and encodes only the
// id after them (encodeInto allocates nothing): assignment must stay well under a microsecond.

const encoder = new TextEncoder();
// Prefix and text fit the buffer, with 3 zeros after them, when the prefix's bytes and 3 bytes
// per UTF-16 unit of the text stay within BUFFER_FILL; longer ones are encoded on their own.
const BUFFER_FILL = 4096;
const buffer = new Uint8Array(BUFFER_FILL + 3);

/** The number of 32-bit hash values: a hash divided by it is a fraction in [0, 1). */
export const HASH_SPACE = 2 ** 32;

/** The number of buckets of a layer (section 5): a unit falls in one of [0, LAYER_BUCKETS). */
export const LAYER_BUCKETS = 10000;

/**
 * A function returning MurmurHash3 x86_32 (unsigned) of the UTF-8 bytes of `prefix + text`.
 * @param {string} prefix
 * @returns {(text: string) => number}
 */
export function hasher(prefix, seed = 0) {
  const head = encoder.encode(prefix);
  const after = buffer.subarray(head.length);
  return (text) => {
    let b = buffer;
    let n = head.length;
    if (n + 3 * text.length > BUFFER_FILL) n = (b = encoder.encode(prefix + text + "\0\0\0")).length - 3;
    else {
      b.set(head);
      n += encoder.encodeInto(text, after).written;
      b[n] = b[n + 1] = b[n + 2] = 0;
    }
    let h = seed;
    // (A last, partial block reads the zeros after the bytes.)
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
  };
}

/** MurmurHash3 x86_32 (seed 0) of the UTF-8 bytes of `text`, as an unsigned 32-bit integer. */
export const murmur3 = hasher("");

/**
 * A function returning the 16 hex digits under which the config publishes a unit's QA override
 * (section 6): the hashes of `override:<salt>:<unit id>` with seeds 0 and 1.
 * @param {string} salt
 * @returns {(unitId: string) => string}
 */
export function overrideDigest(salt) {
  const seeds = [0, 1].map((seed) => hasher(`override:${salt}:`, seed));
  // (2**32 + h in hex is "1" and h's 8 digits with leading zeros.)
  return (unitId) => seeds.map((h) => (HASH_SPACE + h(unitId)).toString(16).slice(1)).join("");
}

/**
 * Exclusive upper hash bound of each variant but the last (section 3), in IEEE doubles.
 * @param {number[]} weights
 */
export function variantBounds(weights) {
  // Summed left to right, as the other implementations do, so the doubles agree.
  const total = weights.reduce((sum, w) => sum + w, 0);
  let cumulative = 0;
  return weights.slice(0, -1).map((w) => Math.floor(((cumulative += w) * HASH_SPACE) / total));
}

/**
 * A function returning a unit's bucket in [0, LAYER_BUCKETS) of the layer `layerKey` (section 5);
 * exact in doubles.
 * @param {string} layerKey
 * @returns {(unitId: string) => number}
 */
export function layerBucket(layerKey) {
  const hash = hasher(`layer:${layerKey}:`);
  return (unitId) => Math.floor((hash(unitId) * LAYER_BUCKETS) / HASH_SPACE);
}
