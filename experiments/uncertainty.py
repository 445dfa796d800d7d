"""Parameters that vary: one declaration (:class:`Varied`) for priors, sensitivity ranges and the
probabilistic sensitivity analysis (PSA), and the PSA's draws.

A varied parameter is a dotted model key with a distribution and its source. The same declaration
serves every analysis:

* the **priors** (``configs/priors/default.yaml``, nested like the parameters): the calibration's
  prior box and the sensitivity analyses' ranges (each names the keys it varies, so a range is
  written once);
* the **PSA** (``configs/psa/``): distributions around the base case for what calibration does not
  give, and whole rows of the posterior for what it does; value of information reads the draws.

The PSA:

    python -m experiments.run -m experiment=psa replicates=200
    python -m experiments.report SWEEP_DIR            (adds the acceptability curve)

The uncertain parameters are named in config (``configs/psa/``), each with a distribution, nested
like the parameters themselves::

    psa:
      enabled: true
      parameters:
        dynamics:
          retention:
            decay_rate_per_week: {distribution: triangular, low: 0.012, high: 0.03,
                                  source: "design.md prior, half-life 6.5-13 months"}
            consolidation_rate_per_week: {distribution: beta, cv: 0.25}

so a distribution can be changed on the command line by its dotted key
(``psa.parameters.dynamics.retention.decay_rate_per_week.high=0.035``).

**Calibrated parameters come from the posterior.** With ``psa.posterior`` set (the default:
``docs/calibration/posterior.parquet``, written by ``experiments/analyses/calibration.py``), each replicate
takes one **whole row** of the posterior table, so the calibrated parameters keep the correlations
the targets impose (and the decay shape comes with its own parameters). The row is chosen by the
base ``seed`` and the replicate only, so every strategy of a replicate shares it. A parameter that
is a column of the table is never drawn from ``psa.parameters`` (an empty cell, a parameter of the
other decay shape, leaves the base case); every other entry (the cost items, behaviour parameters
no target informs) is drawn from its own distribution as below. ``psa.posterior=null`` draws every
entry independently instead (the entries for calibrated parameters are that fallback).

A distribution is centred on the **base case**, the parameter's value in the composed config (the
calibrated value under ``dynamics=calibrated``, the prior under ``dynamics=priors``), unless it
gives its own ``mean`` (or ``mode``); its spread is an ``sd`` or a ``cv`` (sd / mean).

Each replicate is one draw of every uncertain parameter, made from a generator seeded by the base
``seed``, the replicate and the parameter's name: **not** by the strategy, so every strategy of a
replicate runs with the same parameter values and the same seed (a paired PSA), and adding or
removing a parameter never changes another's draws. A draw is the inverse CDF of one uniform
number, so widening a distribution moves each draw outwards and keeps its rank.

Distributions (``sd`` is the standard deviation of the parameter itself; ``mean`` and ``mode``
default to the base case; ``cv`` may replace ``sd``):

=============  =======================  ============================================
distribution   fields                   use
=============  =======================  ============================================
``beta``       [mean], sd or cv         probabilities and shares, in (0, 1)
``gamma``      [mean], sd or cv         costs, rates, positive multipliers
``lognormal``  [mean], sd or cv         positive and right-skewed
``normal``     [mean], sd or cv,        log-odds, coefficients; truncated to
               [low, high]              [low, high] if given
``uniform``    low, high                a range with no preferred value
``triangular`` low, [mode], high        a range with a most likely value
=============  =======================  ============================================
"""

from __future__ import annotations

import dataclasses
import functools
import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np

from sim.params import ParameterError, with_values

#: The fields each distribution needs besides its centre (``mean`` or ``mode``, by default the base
#: case); ``"spread"`` means ``sd`` or ``cv``. ``normal`` may also take ``low`` and ``high``.
REQUIRED = {
    "beta": ("spread",),
    "gamma": ("spread",),
    "lognormal": ("spread",),
    "normal": ("spread",),
    "uniform": ("low", "high"),
    "triangular": ("low", "high"),
}
NUMBERS = ("mean", "sd", "cv", "low", "high", "mode")
FIELDS = ("distribution", *NUMBERS, "log", "shape", "source", "assumption")


@dataclass
class PsaOptions:
    """Schema of ``psa`` in the run config: whether to draw, and what (nested by dotted key)."""

    enabled: bool = False
    posterior: Optional[str] = None  # table of posterior draws (parquet; relative to the repository root)
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Varied:
    """A parameter that varies: the model parameter's dotted key, its distribution and its source.

    ``log``: a uniform on a log scale (priors of rates spanning orders of magnitude). ``shape``: the
    parameter acts only under this decay shape (``exponential`` or ``power_law``).
    """

    key: str
    distribution: str = "uniform"
    mean: Optional[float] = None  # None: the base case
    sd: Optional[float] = None
    cv: Optional[float] = None  # sd / mean, when sd is not given
    low: Optional[float] = None
    high: Optional[float] = None
    mode: Optional[float] = None  # None: the base case
    log: bool = False
    shape: Optional[str] = None
    source: str = ""
    assumption: bool = True

    def to_unit(self, x):
        """Values of a uniform (or log-uniform) parameter mapped to 0..1 (sensitivity samples)."""
        if self.log:
            return (np.log(x) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (np.asarray(x) - self.low) / (self.high - self.low)

    def from_unit(self, u):
        """Points of 0..1 mapped onto a uniform (or log-uniform) parameter's range."""
        u = np.asarray(u, dtype=float)
        if self.log:
            return np.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return self.low + u * (self.high - self.low)

    def around(self, base: float | None) -> "Varied":
        """This distribution with its centre and spread in numbers: ``mean`` (or ``mode``) from
        ``base`` (the parameter's base-case value) where not given, ``sd`` from ``cv``."""
        where = f"psa.parameters.{self.key}"
        centre = "mode" if self.distribution == "triangular" else "mean"
        values = {}
        if self.distribution != "uniform" and getattr(self, centre) is None:
            if base is None or isinstance(base, bool) or not isinstance(base, (int, float)):
                raise ParameterError(f"{where}.{centre}", None, "must be given: the parameter has no numeric base value")
            values[centre] = float(base)
        mean = values.get("mean", self.mean)
        if self.sd is None and self.cv is not None and mean is not None:
            values["sd"] = abs(self.cv * mean)
        return dataclasses.replace(self, **values) if values else self

    def frozen(self) -> Any:
        """The scipy distribution (frozen), checked; call :meth:`around` first to fill the centre."""
        from scipy import stats  # lazy: about 0.3 s to import, needed only for a PSA

        d, m, s = self.distribution, self.mean, self.sd
        where = f"psa.parameters.{self.key}"
        if d in ("beta", "gamma", "lognormal", "normal") and m is None:
            raise ParameterError(f"{where}.mean", m, "must be a number (or the base case, filled by around())")
        if d in ("beta", "gamma", "lognormal", "normal") and not (s is not None and s > 0):
            raise ParameterError(f"{where}.sd", s, "must be a number > 0")
        if d == "beta":
            if not 0 < m < 1:
                raise ParameterError(f"{where}.mean", m, "must be between 0 and 1 (exclusive) for a beta")
            if s * s >= m * (1 - m):
                raise ParameterError(f"{where}.sd", s, f"must be < sqrt(mean x (1 - mean)) = {math.sqrt(m * (1 - m)):.4g}")
            k = m * (1 - m) / (s * s) - 1
            return stats.beta(m * k, (1 - m) * k)
        if d == "gamma":
            if not m > 0:
                raise ParameterError(f"{where}.mean", m, "must be > 0 for a gamma")
            return stats.gamma((m / s) ** 2, scale=s * s / m)
        if d == "lognormal":
            if not m > 0:
                raise ParameterError(f"{where}.mean", m, "must be > 0 for a lognormal")
            sigma2 = math.log(1 + (s / m) ** 2)
            return stats.lognorm(math.sqrt(sigma2), scale=m * math.exp(-sigma2 / 2))
        if d == "normal":
            if self.low is None and self.high is None:
                return stats.norm(m, s)
            lo = -np.inf if self.low is None else (self.low - m) / s
            hi = np.inf if self.high is None else (self.high - m) / s
            if not lo < hi:
                raise ParameterError(f"{where}.high", self.high, f"must be > low ({self.low})")
            return stats.truncnorm(lo, hi, loc=m, scale=s)
        if d == "uniform":
            if not self.low < self.high:
                raise ParameterError(f"{where}.high", self.high, f"must be > low ({self.low})")
            if self.log:
                if not self.low > 0:
                    raise ParameterError(f"{where}.low", self.low, "must be > 0 on a log scale")
                return stats.loguniform(self.low, self.high)
            return stats.uniform(self.low, self.high - self.low)
        if d == "triangular":
            lo, mo, hi = self.low, self.mode, self.high
            if mo is None:
                raise ParameterError(f"{where}.mode", mo, "must be a number (or the base case, filled by around())")
            if not (lo <= mo <= hi and lo < hi):
                raise ParameterError(f"{where}.mode", mo, f"must satisfy low <= mode <= high, low < high ({lo}, {hi})")
            return stats.triang((mo - lo) / (hi - lo), loc=lo, scale=hi - lo)
        raise ParameterError(f"{where}.distribution", d, f"must be one of {sorted(REQUIRED)}")

    def describe(self) -> str:
        """The distribution in words and numbers, e.g. ``Beta, mean 0.1, SD 0.03`` (after :meth:`around`)."""
        d = self.distribution
        if d in ("beta", "gamma", "lognormal"):
            return f"{d.capitalize()}, mean {self.mean:.4g}, SD {self.sd:.3g}"
        if d == "normal":
            if self.low is not None and self.high is not None:
                bounds = f", within {self.low:g} to {self.high:g}"
            elif self.low is not None:
                bounds = f", at least {self.low:g}"
            elif self.high is not None:
                bounds = f", at most {self.high:g}"
            else:
                bounds = ""
            return f"Normal, mean {self.mean:.4g}, SD {self.sd:.3g}{bounds}"
        if d == "uniform":
            return f"{'Log-uniform' if self.log else 'Uniform'}, {self.low:g} to {self.high:g}"
        return f"Triangular, {self.low:g} to {self.high:g}, most likely {self.mode:.4g}"


def varied_parameters(parameters: Mapping[str, Any], prefix: str = "", where: str = "psa.parameters") -> list[Varied]:
    """Flatten a nested tree of distributions (``psa.parameters``, ``priors``) into :class:`Varied`
    entries by dotted key.

    A node with a ``distribution`` field is a leaf; every other node is walked. Raises
    :class:`~sim.params.ParameterError` naming the key of a malformed entry (``where``: the tree's
    place in the config).
    """
    out = []
    for name, node in (parameters or {}).items():
        key = f"{prefix}{name}"
        if not isinstance(node, Mapping):
            raise ParameterError(f"{where}.{key}", node,
                                 "must be a distribution {distribution: ..., ...} or a group of them")
        if "distribution" not in node:
            out.extend(varied_parameters(node, key + ".", where))
            continue
        unknown = sorted(set(node) - set(FIELDS))
        if unknown:
            raise ParameterError(f"{where}.{key}.{unknown[0]}", node[unknown[0]], f"is not one of {list(FIELDS)}")
        dist = node["distribution"]
        if dist not in REQUIRED:
            raise ParameterError(f"{where}.{key}.distribution", dist, f"must be one of {sorted(REQUIRED)}")
        for f in NUMBERS:
            value = node.get(f)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or not math.isfinite(value)):
                raise ParameterError(f"{where}.{key}.{f}", value, "must be a number")
        for f in REQUIRED[dist]:
            if f == "spread":
                if node.get("sd") is None and node.get("cv") is None:
                    raise ParameterError(f"{where}.{key}.sd", None, f"a {dist} needs sd or cv")
            elif node.get(f) is None:
                raise ParameterError(f"{where}.{key}.{f}", None, f"must be a number (a {dist} needs {f})")
        out.append(Varied(key=key, **{f: node[f] for f in FIELDS if f in node and node[f] is not None}))
    return out


def _uniform(seed: int, replicate: int, key: str) -> float:
    """The uniform number in (0, 1) behind ``key``'s draw in ``replicate``: independent of the
    strategy, and of every other parameter (keyed by name)."""
    sequence = np.random.SeedSequence(
        entropy=int(seed), spawn_key=(zlib.crc32(b"psa"), int(replicate), zlib.crc32(key.encode("utf-8"))))
    word = int(sequence.generate_state(1, np.uint64)[0]) >> 11  # 53 random bits
    return (word + 0.5) / 2.0**53


@functools.lru_cache(maxsize=4096)
def _frozen(u: Varied) -> Any:
    return u.frozen()


def base_value(params: Any, key: str) -> Any:
    """The value at dotted ``key`` of (nested) parameters, dataclasses or dicts; None if absent."""
    node = params
    for part in key.split("."):
        if isinstance(node, Mapping):
            node = node.get(part)
        else:
            node = getattr(node, part, None)
        if node is None:
            return None
    return node


def resolve(parameters: Mapping[str, Any] | list[Varied], base: Any) -> list[Varied]:
    """The uncertain parameters with their centres filled from ``base`` (parameters or a config dict)."""
    entries = parameters if isinstance(parameters, list) else varied_parameters(parameters)
    return [u.around(base_value(base, u.key)) for u in entries]


def draw(parameters: Mapping[str, Any] | list[Varied], seed: int | None, replicate: int,
         base: Any = None) -> dict[str, float]:
    """The values of every uncertain parameter for ``replicate`` of base ``seed``, by dotted key.

    ``base``: the parameters (or config dict) whose values centre distributions that give no
    ``mean``/``mode`` of their own.
    """
    if seed is None:
        raise ParameterError("seed", None, "must be set for a PSA (the draws are seeded by seed and replicate)")
    values = {}
    for u in resolve(parameters, base):
        values[u.key] = float(_frozen(u).ppf(_uniform(seed, replicate, u.key)))
    return values


ROOT = Path(__file__).resolve().parent.parent


@functools.lru_cache(maxsize=4)
def _posterior_table(path: str):
    import pandas as pd

    return pd.read_parquet(path)


def posterior_row(path: str | Path, seed: int | None, replicate: int) -> tuple[int, dict[str, Any], list[str]]:
    """The row of the posterior table for (``seed``, ``replicate``): (row number, its values by dotted
    key without empty cells, every column). The same for every strategy of a replicate."""
    if seed is None:
        raise ParameterError("seed", None, "must be set for a PSA (the draws are seeded by seed and replicate)")
    full = Path(path) if Path(path).is_absolute() else ROOT / path
    if not full.is_file():
        raise ParameterError("psa.posterior", str(path), "must be a parquet of posterior draws "
                             "(python -m experiments.calibrate analysis=calibrate writes it)")
    table = _posterior_table(str(full))
    row = min(int(_uniform(seed, replicate, "posterior.row") * len(table)), len(table) - 1)
    values = {}
    for key, value in table.iloc[row].items():
        if isinstance(value, str):
            values[key] = value
        elif value is not None and math.isfinite(float(value)):
            values[key] = float(value)
    return row, values, list(table.columns)


@dataclass(frozen=True)
class FromPosterior(Varied):
    """A parameter a PSA takes from the rows of the posterior table (for the report's tables)."""

    def around(self, base: float | None) -> "FromPosterior":
        return self

    def describe(self) -> str:
        return f"Joint posterior ({self.source})"


def listed_parameters(psa: Mapping[str, Any]) -> list[Varied]:
    """The entries a PSA config draws, with the posterior's columns as :class:`FromPosterior`."""
    entries = varied_parameters(psa.get("parameters") or {})
    if not psa.get("posterior"):
        return entries
    full = Path(psa["posterior"]) if Path(psa["posterior"]).is_absolute() else ROOT / psa["posterior"]
    if not full.is_file():
        return entries
    columns = list(_posterior_table(str(full)).columns)
    return ([u for u in entries if u.key not in columns]
            + [FromPosterior(key=c, distribution="uniform", source=str(psa["posterior"])) for c in columns])


def psa_values(psa: PsaOptions | Mapping[str, Any], seed: int | None, replicate: int, base: Any) -> dict[str, Any]:
    """Every value a PSA replicate sets: a posterior row (if ``psa.posterior``), then the other draws."""
    get = psa.get if isinstance(psa, Mapping) else functools.partial(getattr, psa)
    entries = varied_parameters(get("parameters") or {})
    values: dict[str, Any] = {}
    if get("posterior"):
        _, values, columns = posterior_row(get("posterior"), seed, replicate)
        entries = [u for u in entries if u.key not in columns]
    values.update(draw(entries, seed, replicate, base=base))
    return values


def apply(params, psa: PsaOptions | None, seed: int | None, replicate: int):
    """``params`` with the PSA's values for (``seed``, ``replicate``) set; unchanged if off."""
    if psa is None or not psa.enabled:
        return params
    return with_values(params, psa_values(psa, seed, replicate, params))


def run_draws(run_dir: Path | str) -> dict[str, Any]:
    """The values a finished run of a PSA drew (from its resolved ``config.yaml``); {} if not a PSA."""
    import yaml

    cfg = yaml.safe_load((Path(run_dir) / "config.yaml").read_text())
    psa = cfg.get("psa") or {}
    if not psa.get("enabled"):
        return {}
    return psa_values(psa, cfg.get("seed"), cfg.get("replicate", 0), base=cfg)


def priors_of(priors: Mapping[str, Any] | None, keys: list[str], where: str) -> list[Varied]:
    """The prior of each of ``keys`` (dotted model keys) from the priors catalogue
    (``configs/priors/``), in the order given; ``where`` names the list in errors
    (``calibration.parameters``)."""
    catalogue = {v.key: v for v in varied_parameters(priors or {}, where="priors")}
    out = []
    for i, key in enumerate(keys):
        if key not in catalogue:
            raise ParameterError(f"{where}[{i}]", key, f"must be a parameter with a prior in configs/priors/ "
                                 f"(one of {sorted(catalogue)})")
        prior = catalogue[key]
        if prior.distribution != "uniform" or prior.low is None or prior.high is None:
            raise ParameterError(f"priors.{key}.distribution", prior.distribution,
                                 "must be uniform with low and high (calibration and sensitivity sample a box)")
        out.append(prior)
    return out
