// The shipped files: their size, their public surface and the classic-script global.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { runInNewContext } from "node:vm";
import { gzipSync } from "node:zlib";
import * as sdk from "../dist/vekst.min.mjs";
import { CONFIG } from "./fakes.mjs";

const MAX_GZIPPED_BYTES = 5000;
const read = (name) => readFileSync(new URL(`../dist/${name}`, import.meta.url));

test("both bundles are under 5 KB gzipped", () => {
  for (const name of ["vekst.min.mjs", "vekst.min.js"]) {
    const size = gzipSync(read(name), { level: 9 }).length;
    assert.ok(size < MAX_GZIPPED_BYTES, `${name} is ${size} bytes gzipped`);
  }
});

test("the server ships this build (api/browser_sdk, served at /static/)", () => {
  for (const name of ["vekst.min.mjs", "vekst.min.js"]) {
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

test("the classic script defines Vekst.createClient and nothing else", () => {
  const page = { TextEncoder, URL, crypto, console };
  runInNewContext(read("vekst.min.js").toString(), page);
  const added = Object.keys(page).filter(
    (name) => !["TextEncoder", "URL", "crypto", "console"].includes(name),
  );
  assert.deepEqual(added, ["Vekst"]);
  const client = page.Vekst.createClient({ config: CONFIG, global: page });
  assert.equal(client.assign("cta-text", "visitor-1").inExperiment, true);
});
