// Every case of sdk/testvectors.json (docs/assignment.md, section 10) against the JS evaluator.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { compileConfig } from "../src/evaluator.js";
import { hasher, layerBucket, murmur3, overrideDigest } from "../src/hash.js";

const vectors = JSON.parse(
  readFileSync(new URL("../../testvectors.json", import.meta.url), "utf8"),
);

// Reasons the client gives around the evaluation of a definition (no config loaded yet, a key
// not in it, a definition it left out, a bot, no consent, a failure): no case can reach them.
const CLIENT_REASONS = new Set([
  "not_ready",
  "unknown_experiment",
  "invalid_config",
  "bot",
  "no_consent",
  "error",
]);

test("the file holds the promised coverage", () => {
  assert.ok(vectors.cases.length >= 300);
  // Every reason vekst.d.ts declares that a definition can give (docs/assignment.md, section 6).
  const declarations = readFileSync(new URL("../vekst.d.ts", import.meta.url), "utf8");
  const union = declarations.match(/export type Reason =([^;]+);/)[1];
  const declared = [...union.matchAll(/"(\w+)"/g)].map((match) => match[1]);
  const reasons = new Set(vectors.cases.map((c) => c.expected_reason));
  assert.deepEqual(
    [...reasons].sort(),
    declared.filter((reason) => !CLIENT_REASONS.has(reason)).sort(),
  );
});

test("hash values and layer buckets", () => {
  for (const item of vectors.hashes) {
    if ("text" in item)
      assert.equal(murmur3(item.text), item.murmur3_32, JSON.stringify(item.text));
    else if ("override_digest" in item)
      assert.equal(overrideDigest(item.salt)(item.unit_id), item.override_digest, item.unit_id);
    else assert.equal(layerBucket(item.layer_key)(item.unit_id), item.bucket, item.unit_id);
  }
  assert.ok(vectors.hashes.some((item) => "override_digest" in item));
});

test("a known override digest: seeds 0 and 1, 8 hex digits each", () => {
  assert.equal(overrideDigest("9f2c1d0e7a4b")("visitor-1"), "ed8133c11dcb1da2");
  // Leading zeros are kept: a first hash below 2**28 still gives 8 digits.
  assert.equal(overrideDigest("9f2c1d0e7a4b")("visitor-2"), "0f26c1b50c00ca03");
});

test("published MurmurHash3 values", () => {
  assert.equal(murmur3(""), 0);
  assert.equal(murmur3("\0\0\0\0"), 0x2362f9de);
  assert.equal(murmur3("abc"), 3017643002);
});

// The hooks the client lends the evaluator, over a plain store: "<experiment>:<version>:<unit>"
// -> variant, as the vectors list it, and a list of the holdout exposures sent.
function testHooks(entries = []) {
  const store = new Map(entries.map((s) => [`${s.experiment}:${s.version}:${s.unit_id}`, s.variant]));
  const exposed = [];
  return {
    store,
    exposed,
    hooks: {
      stick: (name, variant) => (variant ? void store.set(name, variant) : store.get(name)),
      expose: (experiment, variant) => exposed.push({ experiment, variant }),
    },
  };
}

for (const c of vectors.cases) {
  test(`case ${c.name} | ${JSON.stringify(c.unit_id).slice(0, 30)}`, () => {
    const experiment = c.experiment;
    const overrides = c.client_overrides ? { [experiment.key]: c.client_overrides } : {};
    const errors = [];
    const { store, exposed, hooks } = testHooks(c.sticky_store);
    const config = { version: 1, experiments: [experiment], holdouts: c.holdouts };
    const experiments = compileConfig(
      config,
      overrides,
      (m) => errors.push(m),
      hooks.stick,
      hooks.expose,
    );
    const got = experiments.get(experiment.key).decide(c.unit_id, c.attributes);
    const label = `${c.name} | ${JSON.stringify(c.unit_id).slice(0, 40)}`;
    assert.deepEqual(
      errors.filter((m) => m.startsWith("left out")),
      [],
      label,
    );
    assert.deepEqual(
      [got.variant, got.inExperiment, got.reason],
      [c.expected_variant, c.expected_in_experiment, c.expected_reason],
      label,
    );
    assert.deepEqual(
      got.payload,
      experiment.variants.find((v) => v.key === c.expected_variant).payload ?? null,
      label,
    );
    if ("holdouts" in c)
      assert.deepEqual(exposed, c.expected_holdout_exposure ? [c.expected_holdout_exposure] : [], label);
    if ("sticky_store" in c) {
      const after = testHooks(c.expected_sticky_store).store;
      assert.deepEqual([...store].sort(), [...after].sort(), label);
    }
  });
}

// A literal, independent MurmurHash3 x86_32 over TextEncoder's bytes, as a reference.
function referenceMurmur3(text) {
  const bytes = new TextEncoder().encode(text);
  const blocks = bytes.length >> 2;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = 0;
  for (let i = 0; i < blocks; i++) {
    let k = view.getUint32(i * 4, true);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, c2);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  for (let i = bytes.length - 1; i >= blocks * 4; i--) k = (k << 8) | bytes[i];
  if (bytes.length & 3) {
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, c2);
  }
  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

test("the reference agrees with the published and the Python values", () => {
  assert.equal(referenceMurmur3("\0\0\0\0"), 0x2362f9de);
  for (const item of vectors.hashes)
    if ("text" in item) assert.equal(referenceMurmur3(item.text), item.murmur3_32);
});

test("a prefix hasher equals the reference over the joined string, at every prefix length", () => {
  for (const prefix of ["", "a", "ab", "abc", "abcd", "variant:5f1e0c2a9b7d4e31:", "layer:æøå:", "ø".repeat(1500)]) {
    const hash = hasher(prefix);
    for (const text of [
      "",
      "x",
      "visitor-1",
      "Ærlig-Øyvind",
      "🛒🛍️",
      "y".repeat(1299),
      "z".repeat(5000),
      "€".repeat(1400),
    ]) {
      assert.equal(hash(text), referenceMurmur3(prefix + text), `${prefix} + ${text.slice(0, 12)}`);
    }
  }
});

for (const [i, item] of vectors.exposure_attributes.entries()) {
  test(`exposure attributes ${i} | ${JSON.stringify(item.experiment.dimensions)}`, () => {
    const { experiment, attributes, expected } = item;
    const config = { version: 1, experiments: [experiment] };
    const { hooks } = testHooks();
    const experiments = compileConfig(config, {}, () => {}, hooks.stick, hooks.expose);
    const compiled = experiments.get(experiment.key);
    assert.equal(compiled.decide("visitor-1", attributes).inExperiment, true);
    const picked = compiled.pick(attributes || {});
    assert.deepEqual(picked ?? null, expected);
    if (picked) {
      const order = experiment.dimensions.filter((name) => name in picked);
      assert.deepEqual(Object.keys(picked), order);
    }
  });
}
