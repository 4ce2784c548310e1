// Browser SDK benchmark: `assign` per call over 200,000 distinct ids, beside GrowthBook's JS SDK
// on the same ids in the same run, and the gzipped bundle sizes beside GrowthBook's and
// Statsig's (measured from their npm packages, dev dependencies of this benchmark only).
//
//   cd sdk/js && npm ci && npm run bench        (or: node bench/assign.mjs --ids 200000 --runs 7)
import { readFileSync } from "node:fs";
import os from "node:os";
import { gzipSync } from "node:zlib";
import { GrowthBook, GrowthBookClient } from "@growthbook/growthbook";
import { createClient } from "../dist/vekst.min.mjs";
import { CONFIG } from "./config.mjs";

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .join(" ")
    .split("--")
    .filter(Boolean)
    .map((a) => a.trim().split(" ")),
);
const IDS = Number(args.ids || 200000);
const RUNS = Number(args.runs || 7);

const GB_EXPERIMENT = {
  key: "cta-text",
  variations: ["Legg i handlekurven", "Kjøp nå"],
  hashAttribute: "id",
};
const page = { crypto, navigator: { userAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0" } };

/** Nanoseconds per call of `body(id)` over `ids`; the checksum keeps the work observable. */
function perCall(ids, body) {
  let checksum = 0;
  const start = process.hrtime.bigint();
  for (const id of ids) checksum += body(id) ? 1 : 0;
  const elapsed = Number(process.hrtime.bigint() - start);
  if (checksum < 0) throw new Error("unreachable");
  return { ns: elapsed / ids.length, checksum };
}

function contenders() {
  // Vekst without events: assignment alone (a client built from a config, as on a server page).
  const offline = createClient({ config: CONFIG, global: page, unitId: "x" });
  // Vekst with events on: every id is new, so every call also queues its first exposure.
  const sink = async () => ({ status: 202, headers: { get: () => null }, json: async () => ({}) });
  const online = createClient({
    config: CONFIG,
    global: page,
    apiUrl: "http://127.0.0.1:9",
    sdkKey: "vk_sdk_bench",
    fetch: sink,
    refreshInterval: 0,
    flushInterval: 3600e3,
    maxBatch: 1e9,
    maxQueue: 1e9,
  });
  // GrowthBook, the browser class: attributes are per instance, so each id is set, then run().
  const gb = new GrowthBook({ attributes: { id: "x" }, trackingCallback: () => {} });
  // GrowthBook's multi-user client: the id travels with each call.
  const gbClient = new GrowthBookClient({});
  return [
    ["vekst assign (no events)", (id) => offline.assign("cta-text", id).inExperiment],
    ["vekst assign (+ first exposure queued)", (id) => online.assign("cta-text", id).inExperiment],
    // The same ids again on the same client: exposed already, the case of a page's repeat calls.
    [
      "vekst assign (events on, already exposed)",
      (id) => online.assign("cta-text", id).inExperiment,
    ],
    [
      "growthbook setAttributes + run()",
      (id) => (gb.setAttributes({ id }), gb.run(GB_EXPERIMENT).inExperiment),
    ],
    [
      "growthbook client runInlineExperiment",
      (id) =>
        gbClient.runInlineExperiment(GB_EXPERIMENT, {
          attributes: { id },
          trackingCallback: () => {},
        }).inExperiment,
    ],
  ];
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const packageFile = (name, file) => new URL(`../node_modules/${name}/${file}`, import.meta.url);

function gzipped(path) {
  return gzipSync(readFileSync(path), { level: 9 }).length;
}

const sizes = [
  ["vekst (dist/vekst.min.mjs)", gzipped(new URL("../dist/vekst.min.mjs", import.meta.url))],
  [
    "vekst (dist/vekst.min.js, script tag)",
    gzipped(new URL("../dist/vekst.min.js", import.meta.url)),
  ],
  [
    "@growthbook/growthbook (dist/bundles/index.min.js)",
    gzipped(packageFile("@growthbook/growthbook", "dist/bundles/index.min.js")),
  ],
  [
    "@statsig/js-client (build/statsig-js-client.min.js)",
    gzipped(packageFile("@statsig/js-client", "build/statsig-js-client.min.js")),
  ],
];
const versions = ["@growthbook/growthbook", "@statsig/js-client"].map(
  (name) => `${name} ${JSON.parse(readFileSync(packageFile(name, "package.json"))).version}`,
);

console.log(
  `machine: ${os.cpus()[0].model}, ${os.cpus().length} cores, Node ${process.version}; ${versions.join(", ")}`,
);
console.log(
  `${IDS} distinct ids per run, ${RUNS} runs (a fresh id set per run, the same ids for everyone in a run), after a warm-up of 50,000 calls each`,
);
// Ids as a page reads them from a cookie: flat strings (a template literal makes a rope,
// which the first contender to read it would pay to flatten for all the others).
const distinctIds = (prefix, n) =>
  JSON.parse(JSON.stringify(Array.from({ length: n }, (_, i) => `${prefix}-${i}`)));
const timings = new Map();
const warmUp = distinctIds("warm-up", 50000);
for (const [, body] of contenders()) perCall(warmUp, body); // let the JIT compile everyone first
for (let run = 0; run < RUNS; run++) {
  const ids = distinctIds(`visitor-${run}`, IDS);
  for (const [name, body] of contenders()) {
    const { ns } = perCall(ids, body);
    if (!timings.has(name)) timings.set(name, []);
    timings.get(name).push(ns);
  }
}
const base = median(timings.get("vekst assign (no events)"));
console.log("\nper call (median of runs):");
for (const [name, values] of timings) {
  const value = median(values);
  console.log(
    `  ${name.padEnd(42)} ${(value / 1000).toFixed(3)} us   x${(value / base).toFixed(1)}`,
  );
}
console.log("\ngzipped bundle sizes (gzip -9):");
for (const [name, bytes] of sizes)
  console.log(`  ${name.padEnd(54)} ${(bytes / 1000).toFixed(1)} KB (${bytes} B)`);
