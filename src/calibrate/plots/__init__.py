"""Plots people would rather look at than read. Every function returns a matplotlib Figure."""

from calibrate.plots._distribution import plot_score_distribution

__all__ = ["plot_score_distribution"]
