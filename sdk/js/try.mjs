import { build } from "esbuild";
import { minify } from "terser";
import { writeFileSync } from "node:fs";
const r = await build({ entryPoints: ["src/index.js"], bundle: true, minify: true, mangleProps: /^(fixed|flushHidden|wake|enqueue)$/, format: "esm", target: "es2020", legalComments: "none", write: false });
for (const [n, c] of [["a", { passes: 2 }], ["b", { passes: 2, unsafe: true }]]) {
  const m = await minify(r.outputFiles[0].text, { module: true, compress: c, mangle: true, format: { beautify: true } });
  writeFileSync(`/tmp/devcli-${n}.js`, m.code);
}
