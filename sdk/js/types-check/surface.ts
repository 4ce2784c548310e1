// The declarations and the code export the same surface: each side is assignable to the other.
// (The code's JSDoc takes its public types from vekst.d.ts, and checkJs checks the code against
// them.)
import type * as code from "../src/index.js";
import type * as declared from "../vekst.js";

export const codeMatchesDeclarations = (surface: typeof code): typeof declared => surface;
export const declarationsMatchCode = (surface: typeof declared): typeof code => surface;
