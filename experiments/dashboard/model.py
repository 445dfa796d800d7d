"""The dashboard's model factory: the controls' simple keywords in, the command line's model out.

The controls become Hydra overrides (:func:`overrides`) for :func:`experiments.config.load_params`, so
``DashboardModel(strategy="peer_group", seed=7)`` is the model of
``python -m experiments.run strategy=peer_group seed=7 ...`` with the same numbers. The two dynamics
controls are factors of the configured (calibrated) values, so that 1 is exactly the command line's
value. :func:`course_only_reference` builds the comparator the page draws beside every run: course
only, with the same graduates, health events and dynamics (the same seed, population and factors).

No Solara and no figures here (:mod:`~experiments.dashboard.figures` draws, :mod:`~experiments.dashboard.app`
is the page), so a notebook or a test can build the page's models alone.
"""

from __future__ import annotations

import threading
from functools import cache

from omegaconf import OmegaConf

from experiments.config import CONFIG_DIR, load_params
from experiments.labels import STRATEGIES
from sim import SelfManagementModel

#: The populations offered, in this order (names of ``configs/population`` files; the strategies
#: are :data:`experiments.labels.STRATEGIES`).
POPULATIONS = ("general_ltc", "clahrc_sample", "older_75plus")

#: The dashboard's controls: keyword of :class:`DashboardModel` -> dotted key of the config.
CONTROLS = {
    "strategy": "strategy",
    "population": "population",
    "n_graduates": "n_graduates",
    "weeks": "weeks",
    "seed": "seed",
    "peer_group_interval_weeks": "strategy.peer_group.interval_weeks",
    "capacity_calls_per_week_per_100_offered": "strategy.telephone.capacity_calls_per_week_per_100_offered",
    "decay_rate_factor": "dynamics.retention.decay_rate_per_week",
    "isolation_effect_factor": "dynamics.retention.isolation_effect",
}
#: Controls that multiply the config's value (1 = as configured, e.g. calibrated). The calibrated
#: values (0.017832 per week, ...) lie on no slider's grid: a slider holding them would snap them
#: to a rounded value, and Reset would then build a different model from the one first shown.
FACTORS = ("decay_rate_factor", "isolation_effect_factor")
#: The dashboard's own starting values where they differ from the command line's.
DASHBOARD_DEFAULTS = {"n_graduates": 1000}  # a smaller model, so that the page stays quick

# Hydra's compose uses process-wide state; sessions build models in parallel threads.
_HYDRA_LOCK = threading.Lock()


@cache
def _label(group: str, name: str) -> str:
    """The plain-word label of a config choice (its ``label`` field)."""
    return str(OmegaConf.load(CONFIG_DIR / group / f"{name}.yaml").label)


def strategy_labels() -> dict[str, str]:
    """Config name -> plain words, e.g. ``peer_group`` -> ``Peer support groups``."""
    return {name: _label("strategy", name) for name in STRATEGIES}


def population_labels() -> dict[str, str]:
    return {name: _label("population", name) for name in POPULATIONS}


def _config_name(value: str, labels: dict[str, str], what: str) -> str:
    """Accept a config name (``peer_group``) or its label (``Peer support groups``)."""
    if value in labels:
        return value
    for name, label in labels.items():
        if value == label:
            return name
    raise ValueError(f"{what}={value!r} is not one of {list(labels)} (or their labels {list(labels.values())})")


def _load(overrides: tuple[str, ...]):
    with _HYDRA_LOCK:
        return load_params(list(overrides))


@cache
def _config_defaults():
    return _load(())


def defaults() -> dict[str, object]:
    """The controls' starting values: the command line's defaults (``configs/config.yaml``), but
    1,000 graduates (:data:`DASHBOARD_DEFAULTS`)."""
    p = _config_defaults()
    return {
        "strategy": p.strategy.name,
        "population": p.population.name,
        "n_graduates": p.n_graduates,
        "weeks": p.weeks,
        "seed": p.seed,
        "peer_group_interval_weeks": p.strategy.peer_group.interval_weeks,
        "capacity_calls_per_week_per_100_offered": p.strategy.telephone.capacity_calls_per_week_per_100_offered,
        "decay_rate_factor": 1.0,
        "isolation_effect_factor": 1.0,
        **DASHBOARD_DEFAULTS,
    }


def _plain(value):
    """A slider's number as the command line would write it (0.030000000000000002 -> 0.03, 4.0 -> 4)."""
    if isinstance(value, float):
        value = float(f"{value:.6g}")
        return int(value) if value.is_integer() else value
    return value


def overrides(**values) -> list[str]:
    """The command-line overrides that build the model of these controls' values.

    A control left out (or None) keeps the config's value, except the dashboard's own
    :data:`DASHBOARD_DEFAULTS`; a factor of 1 adds nothing. For example ``overrides(seed=7)`` ->
    ``["strategy=offer_all", "population=general_ltc", "n_graduates=1000", "weeks=104", "seed=7"]``.
    """
    unknown = set(values) - set(CONTROLS)
    if unknown:
        raise TypeError(f"unknown control(s) {sorted(unknown)}; the controls are {list(CONTROLS)}")
    start = defaults()
    given = {k: val for k, val in values.items() if val is not None}
    v = {k: given.get(k, start[k]) for k in ("strategy", "population", "n_graduates", "weeks", "seed")}
    v["strategy"] = _config_name(v["strategy"], strategy_labels(), "strategy")
    v["population"] = _config_name(v["population"], population_labels(), "population")
    out = [f"{CONTROLS[k]}={_plain(val)}" for k, val in v.items()]
    for name in ("peer_group_interval_weeks", "capacity_calls_per_week_per_100_offered"):
        if name in given:
            out.append(f"{CONTROLS[name]}={_plain(given[name])}")
    if any(float(given.get(name, 1.0)) != 1.0 for name in FACTORS):
        base = _load(tuple(out))  # the configured values for this strategy and population
        for name in FACTORS:
            factor = float(given.get(name, 1.0))
            if factor != 1.0:
                *path, last = _factor_key(name, base).split(".")
                node = base
                for part in path:
                    node = getattr(node, part)
                out.append(f"{'.'.join([*path, last])}={_plain(factor * getattr(node, last))}")
    return out


def _factor_key(name: str, base) -> str:
    """The parameter a factor control multiplies. How fast gains fade is the decay rate under
    exponential decay and the power law's time scale ``power_law_b_per_week`` under power-law decay
    (the calibrated default since December 2026): the rate of the shape not in use does nothing."""
    if name == "decay_rate_factor" and base.dynamics.retention.decay_shape == "power_law":
        return "dynamics.retention.power_law_b_per_week"
    return CONTROLS[name]


class DashboardModel(SelfManagementModel):
    """The model as the dashboard builds it: simple keywords in, config composed as on the command line.

    Every keyword left at None keeps the config's value (``configs/config.yaml`` and the chosen
    strategy and population), except ``n_graduates`` (1,000 here).

    Args:
        strategy: a name of ``configs/strategy`` (``course_only``, ``peer_group``, ``telephone``,
            ``online``, ``offer_all``, ``tailored``) or its plain-word label.
        population: a name of ``configs/population`` (``general_ltc``, ``clahrc_sample``,
            ``older_75plus``) or its label.
        n_graduates: graduates in the model.
        weeks: weeks after the course to simulate.
        seed: the base seed (replicate 0 keeps it).
        peer_group_interval_weeks: weeks between peer group meetings.
        capacity_calls_per_week_per_100_offered: telephone call capacity bought, calls a week per 100 graduates offered calls.
        decay_rate_factor: multiplies how fast the unpractised part of the gain fades
            (``dynamics.retention.decay_rate_per_week``, or ``power_law_b_per_week`` under
            power-law decay); 1 keeps the configured (calibrated) rate.
        isolation_effect_factor: multiplies ``dynamics.retention.isolation_effect`` (the extra
            fading of someone with no company); 1 keeps the configured value.

    ``model.overrides`` holds the command-line overrides that build the same model.
    """

    def __init__(
        self,
        strategy: str | None = None,
        population: str | None = None,
        n_graduates: int | None = None,
        weeks: int | None = None,
        seed: int | None = None,
        peer_group_interval_weeks: int | None = None,
        capacity_calls_per_week_per_100_offered: float | None = None,
        decay_rate_factor: float = 1.0,
        isolation_effect_factor: float = 1.0,
    ):
        self.overrides = overrides(
            strategy=strategy,
            population=population,
            n_graduates=n_graduates,
            weeks=weeks,
            seed=seed,
            peer_group_interval_weeks=peer_group_interval_weeks,
            capacity_calls_per_week_per_100_offered=capacity_calls_per_week_per_100_offered,
            decay_rate_factor=decay_rate_factor,
            isolation_effect_factor=isolation_effect_factor,
        )
        p = _load(tuple(self.overrides))
        super().__init__(
            p.n_graduates, p.weeks, strategy=p.strategy, population=p.population,
            dynamics=p.dynamics, costs=p.costs, rng=p.seed,
        )


#: The comparator every run is drawn against (a ``configs/strategy`` name).
REFERENCE_STRATEGY = "course_only"


def reference_overrides(run_overrides: list[str]) -> list[str]:
    """The command-line overrides of a run's course-only reference: the run's, with
    ``strategy=course_only`` and without the strategy's own levers (``strategy.*``), which course
    only does not offer. Dynamics, population, graduates, weeks and seed stay the run's."""
    kept = [o for o in run_overrides if not o.startswith(("strategy=", "strategy."))]
    return [f"strategy={REFERENCE_STRATEGY}", *kept]


def course_only_reference(model: SelfManagementModel) -> SelfManagementModel:
    """A course-only model beside ``model``: the same graduates and health events (the same seed
    and population), the same dynamics and costs, only the strategy differs; so the gap between the
    two lines is what the strategy adds, a paired comparison as in the sweeps.

    The dynamics block is the run's own (its factors applied), not composed again, so a factor
    slider moves both lines."""
    strategy = _load((f"strategy={REFERENCE_STRATEGY}",)).strategy
    p = model.params
    return SelfManagementModel(
        p.n_graduates, p.weeks, strategy=strategy, population=p.population,
        dynamics=p.dynamics, costs=p.costs, rng=model.seed,
    )
