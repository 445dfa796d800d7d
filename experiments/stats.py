"""Interval arithmetic for sweep summaries: means with 95% t-intervals, paired and unpaired.

A share (a proportion in [0, 1]) cannot leave [0, 1], nor a difference of shares [-1, 1]: with
few replicates a t-interval can, so intervals of shares are clipped to those bounds (``bounds``).
"""

from __future__ import annotations

import numpy as np

#: The range of a share; intervals of shares are clipped to it (differences to -1 .. 1).
SHARE_BOUNDS = (0.0, 1.0)


def t_quantile(p, dof):
    """The ``p`` quantile of Student's t with ``dof`` degrees of freedom (arrays broadcast).

    ``scipy.special.stdtrit`` is the function ``scipy.stats.t.ppf`` calls, without importing
    ``scipy.stats`` (most of a second) or its per-call checks (200 times slower).
    """
    from scipy.special import stdtrit

    return stdtrit(dof, p)


def _t_interval(level: float, dof, loc: float, scale: float) -> tuple[float, float]:
    half = scale * float(t_quantile((1.0 + level) / 2.0, dof))
    return loc - half, loc + half


def _clip(low: float, high: float, bounds: tuple[float, float] | None) -> tuple[float, float]:
    if bounds is None:
        return low, high
    return max(low, bounds[0]), min(high, bounds[1])


def mean_ci(values, level: float = 0.95, bounds: tuple[float, float] | None = None) -> tuple[float, float, float]:
    """Mean and the ``level`` t-interval of the mean; the interval is NaN with fewer than 2 values.

    ``bounds``: the range the quantity cannot leave (e.g. ``SHARE_BOUNDS`` for a share); the
    interval is clipped to it.
    """
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
    low, high = _clip(*_t_interval(level, x.size - 1, mean, sem), bounds)
    return mean, low, high


def paired_diff_ci(treated, control, level: float = 0.95,
                   bounds: tuple[float, float] | None = None) -> tuple[float, float, float]:
    """Mean of the differences ``treated - control`` of matched pairs, with its t-interval."""
    return mean_ci(np.asarray(treated, dtype=float) - np.asarray(control, dtype=float), level, bounds)


def unpaired_diff_ci(treated, control, level: float = 0.95,
                     bounds: tuple[float, float] | None = None) -> tuple[float, float, float]:
    """Welch interval for the difference of two independent means (NaN with fewer than 2 each)."""
    a, b = np.asarray(treated, dtype=float), np.asarray(control, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if a.size == 0 or b.size == 0:
        return float("nan"), float("nan"), float("nan")
    diff = float(a.mean() - b.mean())
    if a.size < 2 or b.size < 2:
        return diff, float("nan"), float("nan")
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = float(np.sqrt(va + vb))
    if se == 0.0:
        return diff, diff, diff
    dof = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    low, high = _clip(*_t_interval(level, dof, diff, se), bounds)
    return diff, low, high
