"""The results pipeline: attribution and SQL aggregation, statistics, decision, summary.

It reads metrics from `experiments.metrics` and experiments from `experiments.definitions`,
which import nothing from here. Modules:

- `aggregation`: per-variant sufficient statistics computed in SQL.
- `compute`: `compute_results`, one results page (looks are taken through `snapshots`).
- `decision`, `summary`: the verdict and the sentence a marketer acts on; `guardrails`: each
  guardrail's state per variant, read once by `decision`; `wording`: the readings and verdicts
  in words.
- `snapshots`: looks taken, stored and served (the API's and the CLI's results come from here);
  `running`: the running sequential readings; `backfill`, `look_ends`: many daily looks from
  one pass over the events.
"""
