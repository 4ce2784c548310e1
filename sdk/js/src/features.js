// What this build holds. The segments build (vekst-segments.min.js) is built from these sources
// as they are; the core build (vekst.min.js, which must stay under 5,000 bytes gzipped) swaps
// this module for features-core.js, and the minifier drops the code behind a false flag.

/** Exposures carry the attributes an experiment names as dimensions, with those the SDK knows. */
export const SEGMENTS = true;
