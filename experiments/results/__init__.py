"""The results pipeline: metric catalogue, attribution and SQL aggregation, statistics, decision.

Modules (import them directly; this package imports nothing at load time so that
`experiments.definitions` can use the catalogue without an import cycle):

- `catalog`: built-in and custom metrics by key; creating custom metrics.
- `aggregation`: per-variant sufficient statistics computed in SQL.
- `compute`: `compute_results`, one results page (looks are taken through `snapshots`).
- `decision`, `summary`: the verdict and the sentence a marketer acts on.
- `snapshots`: looks taken, stored and served (the API's and the CLI's results come from here);
  `running`: the running sequential readings; `backfill`, `look_ends`: many daily looks from
  one pass over the events.
"""
