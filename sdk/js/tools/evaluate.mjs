// Evaluates assignment cases with the browser SDK's evaluator, for the Python tests that compare
// it with the Python SDK (tests/sdk/test_js_agrees_with_python.py).
// stdin: {"config": {...}, "overrides": {...}, "cases": [[experiment, unitId, attributes], ...]}
// stdout: [[variant, inExperiment, reason], ...]
import { compileConfig } from "../src/evaluator.js";

let text = "";
for await (const chunk of process.stdin) text += chunk;
const input = JSON.parse(text);
// (No store and no sender: the random cases have no sticky or holdout fields.)
const ignore = () => {};
const experiments = compileConfig(input.config, input.overrides, ignore, ignore, ignore);
const answers = input.cases.map(([key, unitId, attributes]) => {
  const experiment = experiments.get(key);
  if (!experiment) return [null, false, "unknown_experiment"];
  const result = experiment.decide(unitId, attributes);
  return [result.variant, result.inExperiment, result.reason];
});
process.stdout.write(JSON.stringify(answers));
