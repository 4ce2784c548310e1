// Builds the two minified bundles: an ES module, and a classic script that defines
// window.Vekst for the one-script-tag use. Run with `npm run build`.
// esbuild bundles and minifies; terser then compresses further (about 3 % of the gzipped size,
// which the 5 KB budget needs).
import { mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { minify } from "terser";

// The names of the internal factories' methods are shortened too (none is part of the public
// API, and no public name may be listed here).
const mangleProps =
  /^(fixed|flushHidden|wake|enqueue|id|firstExposure|pick|kind|decide|flushAll|stop|giveConsent|stick|held|page|targeted|paint|revert)$/;

// Each build takes its feature flags from its own module (features-core.js: all off,
// features-segments.js, features-nocode.js); the sources (and the tests) have them all on.
const flags = (name) => ({
  name: `${name}-flags`,
  setup(build) {
    build.onResolve({ filter: /\/features\.js$/ }, () => ({
      path: fileURLToPath(new URL(`src/features-${name}.js`, import.meta.url)),
    }));
  },
});

async function bundle(entry, format, outfile, plugins = []) {
  const result = await build({
    entryPoints: [entry],
    plugins,
    bundle: true,
    minify: true,
    mangleProps,
    format,
    target: "es2020",
    legalComments: "none",
    write: false,
  });
  const code = result.outputFiles[0].text;
  const smaller = await minify(code, {
    module: format === "esm",
    compress: { passes: 2 },
    mangle: true,
  });
  await writeFile(outfile, smaller.code);
}

await mkdir("dist", { recursive: true });
await bundle("src/index.js", "esm", "dist/vekst.min.mjs", [flags("core")]);
await bundle("src/global.js", "iife", "dist/vekst.min.js", [flags("core")]);
await bundle("src/index.js", "esm", "dist/vekst-segments.min.mjs", [flags("segments")]);
await bundle("src/global.js", "iife", "dist/vekst-segments.min.js", [flags("segments")]);
await bundle("src/index.js", "esm", "dist/vekst-nocode.min.mjs", [flags("nocode")]);
await bundle("src/global.js", "iife", "dist/vekst-nocode.min.js", [flags("nocode")]);
