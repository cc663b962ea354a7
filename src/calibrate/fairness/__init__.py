"""Fairness to every group: differential reviewer functioning.

:func:`fairness` reports, per group of submissions (a district, a school, a cohort), the
pass rate with a Wilson interval, mean scores and the group's difference from the rest
adjusted for who scored it (many-facet Rasch fair averages), and for every reviewer x
group cell the FACETS-style bias term with its SE and a Holm-adjusted test.
"""

from calibrate.fairness._fairness import FairnessResult, fairness, holm, wilson_interval

__all__ = ["FairnessResult", "fairness", "holm", "wilson_interval"]
