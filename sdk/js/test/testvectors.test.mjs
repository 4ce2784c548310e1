// Every case of sdk/testvectors.json (docs/assignment.md, section 10) against the JS evaluator.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { compileConfig } from "../src/evaluator.js";
import { layerBucket, murmur3 } from "../src/hash.js";

const vectors = JSON.parse(readFileSync(new URL("../../testvectors.json", import.meta.url), "utf8"));

test("the file holds the promised coverage", () => {
  assert.ok(vectors.cases.length >= 300);
  const reasons = new Set(vectors.cases.map((c) => c.expected_reason));
  for (const reason of ["split", "not_in_traffic", "not_targeted", "override", "winner", "stopped", "invalid_input"]) {
    assert.ok(reasons.has(reason), reason);
  }
});

test("hash values and layer buckets", () => {
  for (const item of vectors.hashes) {
    if ("text" in item) assert.equal(murmur3(item.text), item.murmur3_32, JSON.stringify(item.text));
    else assert.equal(layerBucket(item.layer_key, item.unit_id), item.bucket, item.unit_id);
  }
});

test("published MurmurHash3 values", () => {
  assert.equal(murmur3(""), 0);
  assert.equal(murmur3("\0\0\0\0"), 0x2362f9de);
  assert.equal(murmur3("abc"), 3017643002);
});

for (const c of vectors.cases) {
  test(`case ${c.name} | ${JSON.stringify(c.unit_id).slice(0, 30)}`, () => {
    const experiment = c.experiment;
    const overrides = c.client_overrides ? { [experiment.key]: c.client_overrides } : {};
    const errors = [];
    const experiments = compileConfig({ version: 1, experiments: [experiment] }, overrides, (m) => errors.push(m));
    const got = experiments.get(experiment.key).assign(c.unit_id, c.attributes);
    const label = `${c.name} | ${JSON.stringify(c.unit_id).slice(0, 40)}`;
    assert.deepEqual(errors.filter((m) => m.startsWith("left out")), [], label);
    assert.deepEqual(
      [got.variant, got.inExperiment, got.reason],
      [c.expected_variant, c.expected_in_experiment, c.expected_reason],
      label,
    );
    assert.deepEqual(got.payload, experiment.variants.find((v) => v.key === c.expected_variant).payload ?? null, label);
  });
}
