"""Stages 2 and 3 of a look: each metric's readings, then the running readings.

`look_readings` analyses every metric of a look: `metric_analysis` hands the sums to
`stats.analyze` and orients the readings in the metric's direction (`direction`); `running`
folds in the readings of the earlier looks.
"""
