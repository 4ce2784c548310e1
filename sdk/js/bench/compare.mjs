// Two builds of the core module side by side: `assign` per call over the same distinct ids,
// the builds alternating within each run, so a loaded machine slows both alike. For a change's
// cost in speed, against the build it started from:
//
//   node build.mjs && git show main:api/browser_sdk/vekst.min.mjs > dist/before.mjs
//   node bench/compare.mjs dist/before.mjs dist/vekst.min.mjs --runs 5
import os from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { CONFIG } from "./config.mjs";

const [beforePath, afterPath, ...rest] = process.argv.slice(2);
if (!afterPath) throw Error("usage: node bench/compare.mjs <before.mjs> <after.mjs> [--runs N]");
const RUNS = Number(rest[rest.indexOf("--runs") + 1] || 5);
const ROUNDS = 9;
const IDS = 200000;

const page = { crypto, navigator: { userAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0" } };
const ids = Array.from({ length: IDS }, (_, i) => `visitor-${i}-${(i * 2654435761) % 1e9}`);
const load = async (path) =>
  (await import(pathToFileURL(resolve(path)).href)).createClient({ config: CONFIG, global: page });
const clients = { before: await load(beforePath), after: await load(afterPath) };

/** Nanoseconds per `assign` over all ids; the checksum keeps the work observable. */
function time(client) {
  let checksum = 0;
  const start = process.hrtime.bigint();
  for (const id of ids) checksum += client.assign("cta-text", id).variant.length;
  const ns = Number(process.hrtime.bigint() - start) / IDS;
  if (!checksum) throw Error("no assignment");
  return ns;
}

const median = (values) => values.toSorted((a, b) => a - b)[values.length >> 1];
console.log(`${os.cpus().length} cores, load average ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}`);
for (let run = 1; run <= RUNS; run++) {
  const times = { before: [], after: [] };
  for (let round = 0; round < ROUNDS; round++)
    for (const name of round % 2 ? ["after", "before"] : ["before", "after"])
      times[name].push(time(clients[name]));
  const [before, after] = [median(times.before), median(times.after)];
  console.log(
    `run ${run}: before ${before.toFixed(0)} ns, after ${after.toFixed(0)} ns, ratio ${(after / before).toFixed(3)}`,
  );
}
