import { build } from "esbuild";
import { minify } from "terser";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
const flags = (name) => ({ name, setup(b) { b.onResolve({ filter: /\/features\.js$/ }, () => ({ path: fileURLToPath(new URL(`src/features-${name}.js`, "file://" + process.cwd() + "/")) })); } });
const mangleProps = /^(fixed|flushHidden|wake|enqueue|id|firstExposure|compile|refresh|settle|compiled|pick|kind|decide|whenReady|flushAll|stop|giveConsent|page|targeted|variants|writes|selector|apply|undo|look)$/;
const opts = JSON.parse(process.argv[2] || "{}");
for (const [entry, fmt, plug] of [["src/global.js","iife","core"],["src/global.js","iife",null]]) {
  const r = await build({ entryPoints:[entry], plugins: plug?[flags(plug)]:[], bundle:true, minify:true, mangleProps, format:fmt, target:"es2020", legalComments:"none", write:false });
  const out = await minify(r.outputFiles[0].text, { module: fmt==="esm", compress:{passes:2, ...opts.compress}, mangle:true, ...opts.top });
  console.log(plug||"nocode", gzipSync(out.code,{level:9}).length);
}
