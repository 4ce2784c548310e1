"""Stage 1 of a look: the per-variant sums, from the events in SQL or from pasted counts.

`look_sums` gives the sums of the looks to take now (one, or a first look's backfill);
`sum_sources` picks the source and applies percentile caps; `aggregation` sums each variant
(`GroupKey`) over the per-unit values of `per_unit_values`, built from the columns of
`unit_columns` (`sql_functions` are the dialect helpers); `look_ends`, `backfill` and
`backfill_query` give a first look's daily history in one pass; `stored_sums` writes and reads
the sums a look stores, by name.
"""
