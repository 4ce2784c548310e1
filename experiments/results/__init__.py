"""The results of an experiment: how a look is made, stored and served.

A look, in call order (`pipeline.make_look`; `pipeline.new_looks` takes one, or a first look's
daily backfill):

0. `look_inputs`: the experiment, its metrics in page order, the design, the end of the look.
1. Sums, `sums/`: `look_sums` picks one look or the backfill (`look_ends`, `backfill`,
   `backfill_query`), and a stored look incremental or full (`look_basis`: its kind, reason
   and what the next look starts from; `incremental`: the previous look's sums plus the units
   stored since its `ingestion_marks`); `sum_sources` reads pasted counts or events, summed per
   group by `aggregation` over the per-unit columns of `unit_columns` (`sql_functions`);
   `stored_sums` writes and reads them by name.
2. Readings, `readings/`: `look_readings` analyses each metric (`metric_analysis`, oriented by
   `direction`) with `stats.analyze`.
3. Running readings, `readings/running`: each comparison combined with the previous look's.
4. Verdict, `verdict/`: `look_verdict` decides (`decision`, reading each guardrail's state
   once in `guardrails`; `fixed_list` for a send to a list); `replan` re-derives an assumed
   plan once (the planned units themselves are `experiments.planning`'s, set at the start);
   `stop_outcome` is what was done at the stop.
4b. Segments that differ, `readings/segment_tests` (after the verdict, never read by it): the
   primary metric's (dimension, level, variant) cells tested with `stats.compare_segments`,
   those found carried over the looks by their running minimum adjusted p-value.
5. Page: `words/look_words` writes the warnings and the summary (`words/`: `summary_sentence`,
   `wording`, `formatting`, `plan_words`, `caps`), and `render` turns the typed results
   (`types`) into the page (`page.ResultsPage`) once, with its `words/headline`.

Then `snapshots` numbers and stores the looks (the insert race of two processes included),
hands each new one to its caller's `on_new_look` (`alerts` says which alerts two looks raise),
and serves the newest; `overview` reads the newest look of every experiment in one query;
`words/tables` and `words/glossary` serve the pages and the command line.

Segments: the same sums query gives each level of each dimension (`sums/levels`: a unit's level
is its first exposure's attribute, 20 levels at most, the rest `other`); `groups` holds the typed
sums of the whole and of the levels, stored by name with the look. `segments` serves a look
broken down by one dimension, `breakdown` analyses its levels as one corrected family, and
`words/segment_words` says it and the segments that differ. docs/results.md, "Segments".
"""
