// The public surface of the Vekst browser SDK (documented in ../README.md and ../vekst.d.ts).
export { createClient } from "./client.js";
