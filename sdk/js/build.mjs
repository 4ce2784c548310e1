// Builds the two minified bundles: an ES module, and a classic script that defines
// window.Vekst for the one-script-tag use. Run with `npm run build`.
import { build } from "esbuild";

// Internal method names are shortened too; none of them is part of the public API.
const mangleProps = /^(fixed|flushHidden|wake|enqueue)$/;
const common = { bundle: true, minify: true, mangleProps, target: "es2020", legalComments: "none" };
await build({ ...common, entryPoints: ["src/index.js"], format: "esm", outfile: "dist/vekst.min.mjs" });
await build({ ...common, entryPoints: ["src/global.js"], format: "iife", outfile: "dist/vekst.min.js" });
