"""``python -m experiments.report SWEEP_DIR [area.KEY=VALUE ...]``: the report of a sweep (see
:mod:`experiments.report.build`), sized for an area.

The roof over the report. After the folder come overrides of the ``area`` group
(``configs/area/``, :class:`experiments.schemas.AreaConfig`), in Hydra's syntax:
``area.graduates_per_year=300 area.years=5 area.perspective=societal area.price_year=2024``. They
are checked before any work (a bad one: one line naming the key, the value and the allowed range,
exit code 2). Then, for a PSA sweep, it runs the value-of-information analysis
(:mod:`experiments.analyses.decision`, writing ``SWEEP_DIR/voi/``) when its files are missing, older
than the sweep's runs or made for another area (its population EVPI takes the area's graduates a
year and years, discounted at the model's rate); then the area's budget impact and economics by
horizon (:mod:`experiments.analyses.budget`, writing ``SWEEP_DIR/budget/``); then builds the report,
which only reads them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from experiments.analyses import budget, decision
from experiments.config import check_area_price_year, load_area
from experiments.outputs import EXIT_BAD_INPUT, read_json, with_exit_code
from experiments.report import build
from experiments.schemas import AreaConfig
from experiments.sweeps.collect import read_yaml
from sim.params import ParameterError

AREA_HELP = """
area overrides (after SWEEP_DIR, configs/area/default.yaml):
  area.graduates_per_year=N   graduates a year in your area (default 500, an assumption)
  area.years=Y                years of the budget impact and of the population EVPI (default 5)
  area.price_year=YEAR        year of the prices shown (default: the sweep's costs.price_year)
  area.perspective=P          nhs_pss (NHS and personal social services, the default) or societal
                              (volunteer time costed too: area.volunteer_value_gbp_per_hour, ...)
  area=NAME                   another file of configs/area/
"""


def split_overrides(argv: list[str]) -> tuple[list[str], list[str]]:
    """``argv`` as (the report's own arguments, the ``key=value`` overrides). An override is an
    argument with ``=`` whose key has no ``/`` and that is not an existing folder, nor the value
    of ``--out``."""
    own, overrides, value_next = [], [], False
    for arg in argv:
        if value_next:
            own.append(arg)
            value_next = False
        elif arg == "--out":
            own.append(arg)
            value_next = True
        elif not arg.startswith("-") and "=" in arg and "/" not in arg.partition("=")[0] and not Path(arg).is_dir():
            overrides.append(arg)
        else:
            own.append(arg)
    return own, overrides


def _run_config(sweep_dir: Path) -> dict:
    """The resolved config of one finished run of the sweep ({} if there is none)."""
    first = next(iter(sorted((sweep_dir / "runs").glob("*/config.yaml"))), None)
    return read_yaml(first) if first is not None else {}


def discount_rate(config: dict) -> float:
    """The model's discount rate per year in a run's resolved config."""
    return float(((config.get("dynamics") or {}).get("outcomes") or {}).get(
        "discount_rate_per_year", decision.voi.DISCOUNT_RATE_PER_YEAR))


def voi_is_for(sweep_dir: Path, area: AreaConfig, rate: float) -> bool:
    """Whether ``SWEEP_DIR/voi/decision.json`` was made for this area (graduates a year, years) and rate."""
    path = sweep_dir / decision.FOLDER / decision.DECISION_JSON
    if not path.is_file():
        return False
    a = (read_json(path) or {}).get("assumptions") or {}
    return (a.get("graduates_per_year") == area.graduates_per_year and a.get("decision_years") == area.years
            and abs(float(a.get("discount_rate_per_year", -1)) - rate) < 1e-12)


def analyse_psa(sweep_dir: Path, area: AreaConfig, rate: float) -> int:
    """The PSA's value of information for this area (:func:`experiments.analyses.decision.analyse_sweep`);
    the exit code (0, 2 or 4), a one-line error instead of a traceback."""
    print(f"value of information: analysing the PSA into {sweep_dir / decision.FOLDER} "
          f"({area.graduates_per_year:,} graduates a year over {area.years} years) ...", flush=True)
    return with_exit_code(decision.analyse_sweep, sweep_dir, graduates_per_year=area.graduates_per_year,
                          years=area.years, discount_rate_per_year=rate)[1]


def analyse_budget(sweep_dir: Path, area: AreaConfig) -> int:
    """The area's budget impact and economics by horizon (:mod:`experiments.analyses.budget`); the
    exit code (0, 2 or 4)."""
    return with_exit_code(budget.analyse_sweep, sweep_dir, area)[1]


def main(argv: list[str] | None = None) -> int:
    """Check the area, run the PSA's analysis if needed and the area's budget, then
    :func:`experiments.report.build.main` with the report's own arguments."""
    own, overrides = split_overrides(list(sys.argv[1:] if argv is None else argv))
    if "-h" in own or "--help" in own:
        try:
            return build.main(own)  # prints its help and exits
        finally:
            print(AREA_HELP)
    try:
        area = load_area(overrides)  # first: a bad value stops everything before any work
    except ParameterError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    parser = argparse.ArgumentParser(add_help=False)  # build.main parses (and explains) the arguments
    parser.add_argument("sweep_dir", type=Path, nargs="?")
    parser.add_argument("--out")
    args, _ = parser.parse_known_args(own)
    sweep_dir = args.sweep_dir
    if sweep_dir is None or not (sweep_dir / "runs").is_dir():
        return build.main(own)  # it says what is wrong
    config = _run_config(sweep_dir)
    try:
        check_area_price_year(area, config.get("costs") or {})
    except ParameterError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    rate = discount_rate(config)
    if decision.is_psa(sweep_dir) and (decision.is_stale(sweep_dir) or not voi_is_for(sweep_dir, area, rate)):
        code = analyse_psa(sweep_dir, area, rate)
        if code:
            return code
    if config:
        code = analyse_budget(sweep_dir, area)
        if code:
            return code
    return build.main(own)


if __name__ == "__main__":
    sys.exit(main())
