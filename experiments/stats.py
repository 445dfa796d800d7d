"""Interval arithmetic for sweep summaries: means with 95% t-intervals, paired and unpaired."""

from __future__ import annotations

import numpy as np
from scipy import stats


def mean_ci(values, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and the ``level`` t-interval of the mean; the interval is NaN with fewer than 2 values."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(x.mean())
    if x.size < 2:
        return mean, float("nan"), float("nan")
    sem = float(x.std(ddof=1)) / np.sqrt(x.size)
    if sem == 0.0:
        return mean, mean, mean
    low, high = stats.t.interval(level, x.size - 1, loc=mean, scale=sem)
    return mean, float(low), float(high)


def paired_diff_ci(treated, control, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of the differences ``treated - control`` of matched pairs, with its t-interval."""
    return mean_ci(np.asarray(treated, dtype=float) - np.asarray(control, dtype=float), level)


def unpaired_diff_ci(treated, control, level: float = 0.95) -> tuple[float, float, float]:
    """Welch interval for the difference of two independent means (for comparison with paired)."""
    a, b = np.asarray(treated, dtype=float), np.asarray(control, dtype=float)
    diff = float(a.mean() - b.mean())
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = float(np.sqrt(va + vb))
    if se == 0.0:
        return diff, diff, diff
    dof = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    low, high = stats.t.interval(level, dof, loc=diff, scale=se)
    return diff, float(low), float(high)
