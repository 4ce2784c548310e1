// The shipped files: their size, their public surface and the classic-script global.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { runInNewContext } from "node:vm";
import { gzipSync } from "node:zlib";
import * as sdk from "../dist/vekst.min.mjs";
import { CONFIG } from "./fakes.mjs";

// The core bundles' budget; the segments build (core plus segment attributes) and the no-code
// build (core plus URL targeting and autoApply) have their own. Each was 5,000 / 6,000 / 7,000
// until sticky assignment and holdouts (about 290 bytes that every build needs, so that a held
// out visitor never sees a variant and a bandit never moves a visitor); the sources were then
// trimmed until the core was under 5,000 bytes again (issue 22, item 9), and the other two
// budgets are the sizes reached, rounded up to 10 bytes: docs/benchmarks.md, "Bundle sizes after
// sticky assignment and holdouts".
const MAX_GZIPPED_BYTES = {
  "vekst.min": 5000,
  "vekst-segments.min": 5890,
  "vekst-nocode.min": 7000,
};
const BUNDLES = Object.keys(MAX_GZIPPED_BYTES).flatMap((name) => [`${name}.mjs`, `${name}.js`]);
const read = (name) => readFileSync(new URL(`../dist/${name}`, import.meta.url));

test("core bundles under 5,000 bytes gzipped, segments under 5,890, no-code under 7,000", () => {
  for (const name of BUNDLES) {
    const size = gzipSync(read(name), { level: 9 }).length;
    const budget = MAX_GZIPPED_BYTES[name.replace(/\.m?js$/, "")];
    assert.ok(size < budget, `${name} is ${size} bytes gzipped`);
  }
});

test("the server ships this build (api/browser_sdk, served at /static/)", () => {
  for (const name of BUNDLES) {
    const shipped = readFileSync(new URL(`../../../api/browser_sdk/${name}`, import.meta.url));
    assert.ok(
      shipped.equals(read(name)),
      `api/browser_sdk/${name} differs from this build: run \`make browser-sdk\` and commit it`,
    );
  }
});

test("the module exports exactly what the README and vekst.d.ts document", () => {
  assert.deepEqual(Object.keys(sdk), ["createClient"]);
  const declarations = readFileSync(new URL("../vekst.d.ts", import.meta.url), "utf8");
  assert.match(declarations, /export declare function createClient\(/);
});

test("the classic scripts define Vekst.createClient and nothing else", () => {
  for (const name of ["vekst.min.js", "vekst-segments.min.js", "vekst-nocode.min.js"]) {
    const page = { TextEncoder, URL, crypto, console };
    runInNewContext(read(name).toString(), page);
    const added = Object.keys(page).filter(
      (key) => !["TextEncoder", "URL", "crypto", "console"].includes(key),
    );
    assert.deepEqual(added, ["Vekst"], name);
    const client = page.Vekst.createClient({ config: CONFIG, global: page });
    assert.equal(client.assign("cta-text", "visitor-1").inExperiment, true, name);
  }
});

test("URL targeting: the segments and no-code builds take it, the core build leaves it out", async () => {
  const targeted = {
    ...CONFIG,
    experiments: [
      {
        ...CONFIG.experiments[0],
        targeting: { attribute: "path", op: "starts_with", value: "/product/" },
      },
    ],
  };
  const here = { path: "/product/42" };
  for (const [name, reason] of [
    ["vekst.min.mjs", "invalid_config"],
    ["vekst-segments.min.mjs", "split"],
    ["vekst-nocode.min.mjs", "split"],
  ]) {
    const { createClient } = await import(`../dist/${name}`);
    const page = { console: { warn() {} }, crypto, TextEncoder };
    const client = createClient({ config: targeted, global: page });
    assert.equal(client.assign("cta-text", "visitor-1", here).reason, reason, name);
  }
});
