"""Stage 4 of a look: the verdict.

`look_verdict` gives a look's verdict: `decision` decides on the running readings, reading
each guardrail's state once (`guardrails`), and `fixed_list` adapts it to a send to a fixed
list. `replan` re-derives an assumed plan once from the observed baseline; `stop_outcome` is
what was done at the stop.
"""
