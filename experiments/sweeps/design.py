"""Sampled designs: a sweep over points of a Latin hypercube or a Sobol sequence, crossed with a grid.

A grid (``hydra.sweeper.params``) tries every combination of a few values; a *design* spreads a
given number of points over the ranges of several uncertain parameters at once, as EMA Workbench
samples uncertainties and crosses them with policies. Here the uncertainties are model parameters
named by dotted key, their ranges are their priors (``configs/priors/default.yaml``: uniform or
log-uniform, read by :func:`experiments.uncertainty.priors_of`), and every point is crossed with
every run of the grid (strategies, replicates)::

    hydra:
      sweeper:
        params: {strategy: "course_only,peer_group", replicate: "range(${replicates})"}
        design:
          method: lhs        # lhs (Latin hypercube) or sobol (scrambled; size a power of 2)
          size: 16           # points
          seed: 7            # the same seed, the same points
          uncertainties: [dynamics.peer_group.effect.efficacy, dynamics.telephone.effect.efficacy]

Each run of the sweep gets its point's values as ordinary overrides
(``dynamics.peer_group.effect.efficacy=0.31245``): checked before anything runs like any other
value, part of the run's folder name and identity (so resume works as for a grid), and a column of
``results.parquet`` and ``summary.csv``. Runs of one point and one replicate share their seed: each
strategy is compared with ``course_only`` at the same point (paired).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.params import ParameterError

#: Where the design sits in the config (named in errors).
WHERE = "hydra.sweeper.design"
METHODS = ("lhs", "sobol")
#: Significant digits of a point's values: the value a run uses is the one written in its overrides.
DIGITS = 6
#: The longest part of a run's folder name the design's overrides may take (characters): a folder
#: name is at most 255 bytes, and the grid's own overrides need the rest.
NAME_CHARS = 190


@dataclass
class Design:
    """A sampled design: ``size`` points of ``method`` over the priors' ranges of ``uncertainties``
    (dotted model keys), drawn with ``seed``."""

    method: str = "lhs"
    size: int = 16
    seed: int = 1
    uncertainties: list[str] = field(default_factory=list)

    @classmethod
    def from_config(cls, node: Mapping[str, Any]) -> "Design":
        """The design of ``hydra.sweeper.design`` (a mapping), every field checked (one line each)."""
        unknown = sorted(set(node) - {"method", "size", "seed", "uncertainties"})
        if unknown:
            raise ParameterError(f"{WHERE}.{unknown[0]}", node[unknown[0]],
                                 "is not a field of a design (method, size, seed, uncertainties)")
        design = cls(**dict(node))
        if design.method not in METHODS:
            raise ParameterError(f"{WHERE}.method", design.method, f"must be one of {list(METHODS)}")
        for name in ("size", "seed"):
            value = getattr(design, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < (1 if name == "size" else 0):
                raise ParameterError(f"{WHERE}.{name}", value,
                                     "must be a whole number >= 1" if name == "size" else "must be a whole number >= 0")
        if design.method == "sobol" and design.size & (design.size - 1):
            raise ParameterError(f"{WHERE}.size", design.size,
                                 "must be a power of 2 for a Sobol design (its balance holds only then), e.g. 16 or 32")
        keys = design.uncertainties
        if isinstance(keys, str) or not keys or not all(isinstance(k, str) for k in keys):
            raise ParameterError(f"{WHERE}.uncertainties", keys,
                                 "must be a list of one or more dotted parameter keys with priors in configs/priors/")
        if len(set(keys)) != len(keys):
            raise ParameterError(f"{WHERE}.uncertainties", keys, "must name each parameter once")
        design.uncertainties = list(keys)
        return design


def unit_points(design: Design) -> np.ndarray:
    """The design's points in the unit cube, ``size`` x ``len(uncertainties)``: scipy's Latin
    hypercube or scrambled Sobol sequence, seeded by ``design.seed`` (the same seed, the same points)."""
    from scipy.stats import qmc  # lazy: scipy only when a design is sampled

    d = len(design.uncertainties)
    if design.method == "lhs":
        sampler = qmc.LatinHypercube(d=d, rng=np.random.default_rng(design.seed))
    else:
        sampler = qmc.Sobol(d=d, scramble=True, rng=np.random.default_rng(design.seed))
    return sampler.random(design.size)


def _number(value: float) -> str:
    """``value`` with :data:`DIGITS` significant digits, positional (``0.0000123``, not ``1.23e-05``,
    which YAML would read as text)."""
    return np.format_float_positional(value, precision=DIGITS, unique=False, fractional=False, trim="-")


def points(design: Design, priors: Mapping[str, Any] | None) -> list[dict[str, float]]:
    """The design's points on the parameters' ranges: one {dotted key: value} per point, in order.

    A range is the parameter's prior (uniform, or log-uniform with ``log: true``); each value is
    rounded to :data:`DIGITS` significant digits and stays within the range.
    """
    from experiments.uncertainty import priors_of

    if not priors:
        raise ParameterError("priors", None, f"{WHERE} needs the priors for its ranges: add '- /priors: default' "
                             "to the experiment's defaults")
    ranges = priors_of(priors, design.uncertainties, f"{WHERE}.uncertainties")
    unit = unit_points(design)
    out = []
    for row in unit:
        point = {}
        for prior, u in zip(ranges, row):
            value = float(_number(float(prior.from_unit(u))))
            point[prior.key] = min(max(value, prior.low), prior.high)
        out.append(point)
    return out


def overrides_of_point(point: Mapping[str, float]) -> list[str]:
    """A point as Hydra overrides, ``key=value`` in the design's order."""
    return [f"{key}={_number(value)}" for key, value in point.items()]


def cross(jobs: list[list[str]], node: Mapping[str, Any] | None, priors: Mapping[str, Any] | None) -> list[list[str]]:
    """Every job of the grid once per point of the design ``node`` (``hydra.sweeper.design``), the
    points outermost: ``jobs`` unchanged when there is no design. A key both swept by the grid and
    sampled by the design is refused (one line), as is a design whose overrides would not fit in a
    run's folder name."""
    if not node:
        return jobs
    design = Design.from_config(node)
    swept = {o.partition("=")[0].lstrip("+~") for job in jobs for o in job}
    both = [k for k in design.uncertainties if k in swept]
    if both:
        raise ParameterError(f"{WHERE}.uncertainties", both[0], "is also swept or set on the command line: "
                             "sample it or set it, not both")
    sampled = [overrides_of_point(p) for p in points(design, priors)]
    longest = max(len(",".join(o)) for o in sampled)
    if longest > NAME_CHARS:
        raise ParameterError(f"{WHERE}.uncertainties", design.uncertainties,
                             f"are too many or too long for a run's folder name ({longest} characters of at most "
                             f"{NAME_CHARS}: runs are named by their overrides); sample fewer parameters")
    return [[*job, *point] for point in sampled for job in jobs]
