// The config both browser SDK benchmarks assign from: one two-arm CTA test.
import { configExperiment } from "../test/fakes.mjs";

export const CONFIG = {
  version: 1,
  experiments: [
    configExperiment("cta-text", "5f1e0c2a9b7d4e31", [
      { key: "control", weight: 1, payload: { text: "Legg i handlekurven" } },
      { key: "buy-now", weight: 1, payload: { text: "Kjøp nå" } },
    ]),
  ],
};
