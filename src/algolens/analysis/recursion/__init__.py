"""Recursion analyses: failure rules, shortcut hypotheses, feature dependence (Zhang et al.)."""
