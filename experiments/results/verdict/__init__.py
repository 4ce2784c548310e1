"""Stage 4 of a look: the verdict.

`decision` decides on the running readings, reading each guardrail's state once
(`guardrails`); `fixed_list` adapts it to a send to a fixed list; `replan` re-derives an
assumed plan once from the observed baseline; `stop_outcome` is what was done at the stop.
"""
