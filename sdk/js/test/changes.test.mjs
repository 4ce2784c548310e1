// The no-code rules against the shared cases of sdk/testvectors.json (`changes`): what the
// server refuses, the SDK ignores (a config edited past the server). Applying them to a page
// is tested in Chromium (tests/sdk/test_browser_nocode.py).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { destination } from "../src/auto.js";
import { checkChanges, safeCss } from "../src/changes.js";

const vectors = JSON.parse(
  readFileSync(new URL("../../testvectors.json", import.meta.url), "utf8"),
);
const page = new URL("https://shop.example/product/42?utm_source=mail#reviews");

for (const { variant, refused } of vectors.changes) {
  test(`shared case: ${refused ?? "accepted"} ${JSON.stringify(variant).slice(0, 60)}`, () => {
    const warnings = [];
    if (variant.changes) {
      const checked = checkChanges(variant.changes, "changes", (m) => warnings.push(m));
      const kept = refused === "changes" ? 0 : variant.changes.length - (refused ? 1 : 0);
      assert.equal(checked.length, kept);
      if (refused) assert.match(warnings[0], /^ignored changes/);
    }
    if ("css" in variant) assert.equal(safeCss(variant.css, 10000), refused !== "css");
    if ("redirect" in variant)
      assert.equal(destination(variant.redirect, page) === null, refused === "redirect");
  });
}

test("a redirect keeps the query string and the hash, unless it has its own", () => {
  assert.equal(
    destination("/product/42-b", page).href,
    "https://shop.example/product/42-b?utm_source=mail#reviews",
  );
  assert.equal(
    destination("https://b.shop.example/p?x=1", page).href,
    "https://b.shop.example/p?x=1#reviews",
  );
});

test("a list that is no list, or too long, is ignored whole; no changes, nothing", () => {
  const warnings = [];
  assert.deepEqual(checkChanges({ selector: "#a" }, "p", (m) => warnings.push(m)), []);
  assert.deepEqual(checkChanges(undefined, "p", (m) => warnings.push(m)), []);
  assert.deepEqual(checkChanges([], "p", (m) => warnings.push(m)), []);
  assert.deepEqual(warnings, ["ignored p"]);
});
