// vekst.d.ts against the sources, for what tsc cannot see: tsc (checkJs) refuses an option the
// code reads but vekst.d.ts does not declare, not one it declares but the code never reads.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { test } from "node:test";

const read = (path) => readFileSync(new URL(path, import.meta.url), "utf8");

// The sources without their comments (JSDoc names the options too).
const code = readdirSync(new URL("../src/", import.meta.url))
  .map((name) => read(`../src/${name}`))
  .join("\n")
  .replace(/\/\*[\s\S]*?\*\//g, "")
  .replace(/^\s*\/\/.*$/gm, "");

test("the code reads every option that ClientOptions declares", () => {
  const body = read("../vekst.d.ts").match(/export interface ClientOptions \{([^}]+)\}/)[1];
  const declared = [...body.matchAll(/^\s*(\w+)\?:/gm)].map((match) => match[1]);
  assert.ok(declared.length >= 15, declared.join());
  // Read as `settings.name`, or taken by name in a destructuring pattern.
  const unread = declared.filter(
    (name) => !new RegExp(`\\.${name}\\b|[{,]\\s*${name}\\s*[,}]`).test(code),
  );
  assert.deepEqual(unread, []);
});
