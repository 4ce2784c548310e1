// What this build holds. The no-code build (vekst-nocode.min.js, everything) is built from these
// sources as they are; the core build (vekst.min.js, held to its budget in test/bundle.test.mjs)
// swaps this module for features-core.js and the segments build for features-segments.js, and
// the minifier drops the code behind a false flag.

/** Exposures carry the attributes an experiment names as dimensions, with those the SDK knows. */
export const SEGMENTS = true;

/** `autoApply`: the SDK shows the variants' no-code changes and redirects by itself. */
export const NOCODE = true;

/** Targeting takes the text operators (`starts_with`, `ends_with`, `contains`, `matches`). */
export const URL_TARGETING = true;
