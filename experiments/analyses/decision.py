"""The decision under uncertainty of a PSA sweep, written as files: value of information and flipping conditions.

    python -m experiments.analyses.decision SWEEP_DIR

Reads a finished PSA sweep (``experiment=psa``: every run drew its parameters) from its runs'
files, builds one tidy PSA frame per population (:func:`psa_frames`: the frame of
:mod:`experiments.analyses.voi`) and writes, for each population, into ``SWEEP_DIR/voi/<population>/``:

* ``voi.csv``: EVPI per graduate and for the population over willingness to pay, EVPPI of each
  group of parameters and of each parameter at GBP 20,000 and 30,000 per QALY, with standard
  errors, each EVPPI at most the EVPI, and flags saying which are not distinguishable from 0 and
  which were capped (:func:`experiments.analyses.voi.voi_table`; the report's ``voi.csv`` is this
  table with an ``in_words`` column added);
* ``scenarios.csv``: the PRIM boxes where the recommendation flips
  (:func:`experiments.analyses.scenarios.flipping_conditions`), with what is at stake in each
  (:func:`box_stakes`: the best strategy inside the box, its net-benefit gain there and the value
  of knowing whether the parameters lie in the box; the report adds ``in_words``);
* ``evpi_curve.csv``: EVPI over willingness to pay (:func:`experiments.analyses.voi.evpi_curve`:
  ``wtp_gbp_per_qaly``, ``evpi_per_graduate_gbp``, ``se_gbp``, ``evpi_population_gbp``,
  ``best_strategy``, ``draws``);
* ``evpi_by_horizon.csv``: population EVPI (GBP) at each threshold against the years the decision
  holds (``wtp_gbp_per_qaly``, ``decision_years``, ``population_graduates``, ``evpi_population_gbp``);
* ``expected_loss.csv``: each strategy's expected loss over willingness to pay
  (:func:`experiments.analyses.decision_curves.expected_loss_curve`);
* ``tornado.csv``: the recommended strategy's lead over the runner-up at GBP 20,000 per QALY in each
  drawn parameter's bottom and top tenth (:func:`experiments.analyses.decision_curves.tornado`);

and ``SWEEP_DIR/voi/decision.json`` last (so its presence means the tables are complete): the
assumptions used (graduates a year, years, discount rate, thresholds, ...) and, per population,
the strategies' names, the recommended strategy at each threshold, the share of draws in which it
is the best, and how often each rival pair's first beats the second.

The report (:mod:`experiments.report.voi`) reads these files; it never computes them.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from experiments.analyses import decision_curves, scenarios
from experiments.analyses import voi
from experiments.outputs import EXIT_BAD_INPUT, read_json, with_exit_code, write_json, write_table
from experiments.sweeps.collect import arms_of, newer_than_every_run, read_yaml
from sim import economics

#: The two thresholds, GBP per QALY.
THRESHOLDS = tuple(float(w) for w in economics.WTP_THRESHOLDS_GBP)
#: Fewest draws in which a condition must hold (and fail) before scenario discovery looks for it.
MIN_CASES = 5
#: Pairs compared head to head in the flipping conditions: (strategy, rival).
RIVALS = (("peer_group", "telephone"),)
#: Shortest span of years of the population EVPI against the decision's horizon (longer if the
#: decision holds longer).
HORIZON_YEARS = 20
#: The folder of a sweep that holds these files, and the file written last.
FOLDER = "voi"
DECISION_JSON = "decision.json"


# --- the PSA frame of a sweep, from its runs' files ------------------------------------------------


def psa_frames(sweep_dir: Path | str) -> dict[str, pd.DataFrame]:
    """The tidy PSA frame (:mod:`experiments.analyses.voi`) of each population of a finished sweep.

    The runs are grouped into arms as the report groups them (:func:`experiments.sweeps.collect.arms_of`):
    strategy ids are the strategy names when each strategy appears once in a population (else the
    arm ids), labels their plain words; costs (GBP) and QALYs are the discounted ones per graduate
    at the end of the run; one column per drawn parameter, numeric (a decay shape becomes 0/1
    columns, a parameter that does not act under a draw's shape is 0: :func:`voi.numeric_draws`).
    Raises ``FileNotFoundError`` if no run finished.
    """
    sweep_dir = Path(sweep_dir)
    grouped = arms_of(sweep_dir)
    ids = grouped.ids.copy()
    outcomes = {}
    for run_id in ids["run_id"]:
        s = read_json(sweep_dir / "runs" / run_id / "summary.json")
        outcomes[run_id] = (float(s["cost_per_graduate_gbp"][economics.COST_COLUMN[len("cost_"):-len("_gbp")]]),
                            float(s["qalys_gained_per_graduate"]))
    ids[voi.COST] = ids["run_id"].map(lambda r: outcomes[r][0])
    ids[voi.QALY] = ids["run_id"].map(lambda r: outcomes[r][1])
    frames = {}
    for population in dict.fromkeys(k[1] for k in grouped.keys.values()):
        arms = [a for a, k in grouped.keys.items() if k[1] == population]
        unique = len({grouped.keys[a][0] for a in arms}) == len(arms)
        strategy = {a: grouped.keys[a][0] if unique else a for a in arms}
        r = ids[ids["arm"].isin(strategy)]
        frame = pd.DataFrame({
            voi.DRAW: r["replicate"].to_numpy(int), voi.STRATEGY: r["arm"].map(strategy).to_numpy(),
            voi.LABEL: r["arm"].map(grouped.labels).to_numpy(), voi.POPULATION: population,
            voi.COST: r[voi.COST].to_numpy(float), voi.QALY: r[voi.QALY].to_numpy(float),
        })
        order = {strategy[a]: i for i, a in enumerate(arms)}
        frame = frame.sort_values([voi.DRAW, voi.STRATEGY],
                                  key=lambda s: s.map(order) if s.name == voi.STRATEGY else s)
        # the drawn values: every strategy of a replicate drew the same, so read them from one run
        firsts = r.sort_values("run_id").drop_duplicates("replicate")
        drawn = pd.DataFrame([{voi.DRAW: int(row.replicate), **voi.run_parameters(sweep_dir / "runs" / row.run_id)}
                              for row in firsts.itertuples()])
        if drawn.shape[1] > 1:
            frame = frame.merge(voi.numeric_draws(drawn), on=voi.DRAW, how="left")
        frames[population] = frame.reset_index(drop=True)
    return frames


def psa_frame(sweep_dir: Path | str) -> pd.DataFrame:
    """Every population's PSA frame in one (:func:`psa_frames`). Raises ``FileNotFoundError`` if no
    run finished and ``ValueError`` if the sweep drew no parameters (not a PSA)."""
    frame = pd.concat(psa_frames(sweep_dir).values(), ignore_index=True)
    if not voi.parameter_columns(frame):
        raise ValueError(f"{sweep_dir} drew no parameters: not a PSA (run experiment=psa)")
    return frame.sort_values([voi.POPULATION, voi.DRAW, voi.STRATEGY], ignore_index=True)


def is_psa(sweep_dir: Path | str) -> bool:
    """Whether a sweep folder's runs drew their parameters (``psa.enabled`` in a run's config)."""
    config = next((Path(sweep_dir) / "runs").glob("*/config.yaml"), None)
    return config is not None and bool((read_yaml(config).get("psa") or {}).get("enabled"))


def is_stale(sweep_dir: Path | str) -> bool:
    """Whether ``SWEEP_DIR/voi/decision.json`` is missing or older than a run's manifest (a run
    finished, or was redone, since the analysis)."""
    sweep_dir = Path(sweep_dir)
    return not newer_than_every_run(sweep_dir / FOLDER / DECISION_JSON, sweep_dir)


# --- the numbers of one population -----------------------------------------------------------------


@dataclass
class Decision:
    """The value of information and flipping conditions of one population's decision."""

    table: pd.DataFrame  # voi.csv
    curve: pd.DataFrame  # evpi_curve.csv
    boxes: pd.DataFrame  # scenarios.csv
    by_horizon: pd.DataFrame  # evpi_by_horizon.csv
    labels: dict[str, str]  # strategy id -> plain words, in the frame's order
    recommended: dict[float, str]  # strategy id with the highest expected net benefit, per threshold
    share_best: dict[float, float]  # share of draws in which the recommended strategy is the best
    draws: int
    rivals: dict[tuple[float, str, str], float]  # (wtp, strategy, rival): share of draws it beats the rival
    assumptions: dict = field(default_factory=dict)
    loss: pd.DataFrame = field(default_factory=pd.DataFrame)  # expected_loss.csv
    tornado: pd.DataFrame = field(default_factory=pd.DataFrame)  # tornado.csv


#: Columns :func:`box_stakes` adds to the scenario table.
STAKES = ("best_in_box", "nb_gain_in_box_gbp", "value_of_knowing_box_gbp")


def box_stakes(frame: pd.DataFrame, boxes: pd.DataFrame, wtp_gbp_per_qaly: float,
               labels: dict[str, str] | None = None) -> pd.DataFrame:
    """The PRIM boxes of one willingness to pay (GBP per QALY) with what is at stake in each, so that
    a box can be set beside the EVPPI of the parameters it names (columns :data:`STAKES`, repeated
    on each row of a box like its statistics):

    * ``best_in_box``: the strategy (its label) with the highest mean net benefit over the draws
      inside the box;
    * ``nb_gain_in_box_gbp``: by how much, GBP per graduate, its mean net benefit there exceeds the
      recommended strategy's (0 when the recommendation is still best on average inside the box:
      the condition then holds in many draws of the box, but by less than it fails in the others);
    * ``value_of_knowing_box_gbp``: GBP per graduate, what learning whether the parameters lie in
      the box would be worth: the EVPPI of the box's indicator, ``P(in) x gain(in) + P(out) x
      gain(out)``, computed from the draws (an average over each of two sets of draws, so it is at
      most the EVPI of the same draws). It is an optimistic figure, the box having been chosen on
      those draws; when it is small, a box can be real and yet not worth learning: it holds few
      draws, or little net benefit turns on it.
    """
    out = boxes.copy()
    for col in STAKES:
        out[col] = pd.Series(dtype=object if col == "best_in_box" else float)
    if boxes.empty:
        return out
    labels = dict(labels or {})
    nb = voi.net_benefit(frame, wtp_gbp_per_qaly)
    recommended = str(nb.mean().idxmax())
    x = scenarios.drawn_parameters(frame).reindex(index=nb.index)

    def gain(rows: pd.DataFrame) -> tuple[str, float]:
        if rows.empty:
            return recommended, 0.0
        means = rows.mean()
        return str(means.idxmax()), float(means.max() - means[recommended])

    for _, rows in boxes.groupby(["condition", "box"], sort=False):
        inside = pd.Series(True, index=nb.index)
        for r in rows.itertuples():
            inside &= (x[r.parameter] >= r.low) & (x[r.parameter] <= r.high)
        best, gain_in = gain(nb[inside])
        _, gain_out = gain(nb[~inside])
        share = float(inside.mean())
        out.loc[rows.index, "best_in_box"] = labels.get(best, best)
        out.loc[rows.index, "nb_gain_in_box_gbp"] = gain_in
        out.loc[rows.index, "value_of_knowing_box_gbp"] = share * gain_in + (1 - share) * gain_out
    return out


def compute(frame: pd.DataFrame, graduates_per_year: float = voi.GRADUATES_PER_YEAR,
            years: int = voi.DECISION_YEARS, discount_rate_per_year: float = voi.DISCOUNT_RATE_PER_YEAR,
            samples: int = 300) -> Decision:
    """Every number of the decision of one population's PSA frame (GBP per graduate unless said).

    ``graduates_per_year``, ``years``, ``discount_rate_per_year``: the population the decision
    affects (:func:`experiments.analyses.voi.population_graduates`); ``samples``: posterior
    samples of each EVPPI regression, for its standard error.
    """
    labels = dict(zip(frame[voi.STRATEGY], frame.get(voi.LABEL, frame[voi.STRATEGY])))
    pop = dict(graduates_per_year=graduates_per_year, years=years, discount_rate_per_year=discount_rate_per_year)
    table = voi.voi_table(frame, wtp_gbp_per_qaly=THRESHOLDS, samples=samples, **pop)
    curve = voi.evpi_curve(frame, **pop)
    extra = curve[~curve["wtp_gbp_per_qaly"].isin(THRESHOLDS)]
    rows = pd.DataFrame({
        "measure": "EVPI", "name": "Perfect information on everything", "parameters": "", "method": "bootstrap",
        "wtp_gbp_per_qaly": extra["wtp_gbp_per_qaly"], "per_graduate_gbp": extra["evpi_per_graduate_gbp"],
        "se_gbp": extra["se_gbp"], "population_gbp": extra["evpi_population_gbp"], "draws": extra["draws"],
        "graduates_per_year": graduates_per_year, "decision_years": years,
        "discount_rate_per_year": discount_rate_per_year,
        "distinguishable_from_0": voi.distinguishable_from_0(extra["evpi_per_graduate_gbp"], extra["se_gbp"]),
        "capped_at_evpi": False, "uncapped_gbp": extra["evpi_per_graduate_gbp"], "shrinkage": float("nan")})
    table = pd.concat([table, rows], ignore_index=True).sort_values(["measure", "name", "wtp_gbp_per_qaly"],
                                                                    ignore_index=True, kind="stable")
    boxes, recommended, share, rivals = [], {}, {}, {}
    for w in THRESHOLDS:
        recommended[w] = voi.best_strategy(frame, w)
        share[w] = float(scenarios.strategy_wins(frame, recommended[w], w).mean())
        boxes.append(box_stakes(frame, scenarios.flipping_conditions(frame, w, labels=labels, rivals=RIVALS,
                                                                     min_cases=MIN_CASES), w, labels))
        for a, b in RIVALS:
            if a in labels and b in labels:
                rivals[(w, a, b)] = float(scenarios.beats(frame, a, b, w).mean())
    boxes = pd.concat(boxes, ignore_index=True)
    graduates = voi.population_graduates(graduates_per_year, years, discount_rate_per_year)
    evpi = table[table["measure"] == "EVPI"].set_index("wtp_gbp_per_qaly")["per_graduate_gbp"]
    horizon = range(1, max(HORIZON_YEARS, years) + 1)
    by_horizon = pd.DataFrame([
        {"wtp_gbp_per_qaly": w, "decision_years": h,
         "population_graduates": voi.population_graduates(graduates_per_year, h, discount_rate_per_year),
         "evpi_population_gbp": voi.population_evpi(evpi.loc[w], graduates_per_year, h, discount_rate_per_year)}
        for w in THRESHOLDS for h in horizon])
    params = [p for p in voi.parameter_columns(frame) if frame[p].nunique() > 1]
    assumptions = {
        "graduates_per_year": graduates_per_year, "decision_years": years,
        "discount_rate_per_year": discount_rate_per_year, "population_graduates": graduates,
        "wtp_gbp_per_qaly": list(THRESHOLDS), "min_cases": MIN_CASES, "rivals": [list(p) for p in RIVALS],
        "all_group": voi.ALL_GROUP, "draws_per_parameter": voi.DRAWS_PER_PARAMETER,
        "parameters": len(params), "samples": samples,
    }
    loss = decision_curves.expected_loss_curve(frame)
    # the tornado: what moves the recommended strategy's lead over the runner-up at the lower threshold
    expected = voi.net_benefit(frame, THRESHOLDS[0]).mean().sort_values(ascending=False)
    if len(expected) > 1:
        tornado = decision_curves.tornado(frame, THRESHOLDS[0], expected.index[0], expected.index[1])
        tornado.insert(0, "strategy", expected.index[0])
        tornado.insert(1, "rival", expected.index[1])
        tornado.insert(2, "wtp_gbp_per_qaly", THRESHOLDS[0])
    else:
        tornado = pd.DataFrame()
    return Decision(table, curve, boxes, by_horizon, labels, recommended, share, int(curve["draws"].iloc[0]), rivals,
                    assumptions, loss, tornado)


# --- files -------------------------------------------------------------------------------------------


def _population_record(res: Decision) -> dict:
    """The small numbers of one population for decision.json (thresholds as numbers, not keys)."""
    return {
        "labels": res.labels,
        "draws": res.draws,
        "recommended": [{"wtp_gbp_per_qaly": w, "strategy": s, "share_best": res.share_best[w]}
                        for w, s in res.recommended.items()],
        "rivals": [{"wtp_gbp_per_qaly": w, "strategy": a, "rival": b, "share_beats": v}
                   for (w, a, b), v in res.rivals.items()],
    }


def write(results: dict[str, Decision], out_dir: Path | str, runs: int | None = None) -> Path:
    """Write each population's tables into ``out_dir/<population>/`` and then ``out_dir/decision.json``;
    return the latter. ``runs``: how many finished runs the analysis read (recorded)."""
    out_dir = Path(out_dir)
    for population, res in results.items():
        folder = out_dir / population
        write_table(folder / "voi.csv", res.table)
        write_table(folder / "scenarios.csv", res.boxes)
        write_table(folder / "evpi_curve.csv", res.curve)
        write_table(folder / "evpi_by_horizon.csv", res.by_horizon)
        write_table(folder / "expected_loss.csv", res.loss)
        write_table(folder / "tornado.csv", res.tornado)
    first = next(iter(results.values()))
    record = {"runs": runs, "assumptions": {k: v for k, v in first.assumptions.items() if k != "parameters"},
              "populations": {p: {**_population_record(r), "parameters": r.assumptions.get("parameters")}
                              for p, r in results.items()}}
    write_json(out_dir / DECISION_JSON, record)
    return out_dir / DECISION_JSON


def analyse_sweep(sweep_dir: Path | str, out_dir: Path | str | None = None,
                  graduates_per_year: float = voi.GRADUATES_PER_YEAR, years: int = voi.DECISION_YEARS,
                  discount_rate_per_year: float = voi.DISCOUNT_RATE_PER_YEAR,
                  samples: int = 300) -> dict[str, Decision]:
    """Compute the decision of every population of a PSA sweep and write it (default into
    ``SWEEP_DIR/voi``); return it by population. Raises ``ValueError`` if the sweep drew no
    parameters, ``FileNotFoundError`` if no run finished."""
    sweep_dir = Path(sweep_dir)
    if not is_psa(sweep_dir):
        raise ValueError(f"{sweep_dir} drew no parameters: not a PSA (run experiment=psa)")
    frames = psa_frames(sweep_dir)
    results = {p: compute(f, graduates_per_year, years, discount_rate_per_year, samples) for p, f in frames.items()}
    write(results, Path(out_dir) if out_dir else sweep_dir / FOLDER, runs=sum(len(f) for f in frames.values()))
    return results


def analyse_or_explain(sweep_dir: Path, samples: int = 300) -> int:
    """:func:`analyse_sweep`, printing a one-line error instead of raising; the exit code (0, 2 or 4)."""
    results, code = with_exit_code(analyse_sweep, sweep_dir, samples=samples)
    if code:
        return code
    for population, res in results.items():
        at = res.table[(res.table["measure"] == "EVPI")].set_index("wtp_gbp_per_qaly")["per_graduate_gbp"]
        print(f"{population}: EVPI {at.loc[THRESHOLDS[0]]:.2f} GBP per graduate at {THRESHOLDS[0]:,.0f} GBP per QALY "
              f"({res.draws} draws)")
    print(f"value of information: {(Path(sweep_dir) / FOLDER).resolve()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.analyses.decision",
        description="Value of information and flipping conditions of a PSA sweep: writes SWEEP_DIR/voi/ "
                    "(read by python -m experiments.report SWEEP_DIR).")
    parser.add_argument("sweep_dir", type=Path, help="a finished PSA sweep folder (hydra.sweep.dir), holding runs/")
    parser.add_argument("--samples", type=int, default=300,
                        help="posterior samples per EVPPI regression, for the standard errors (default 300)")
    args = parser.parse_args(argv)
    if not (args.sweep_dir / "runs").is_dir():
        print(f"error: {args.sweep_dir} holds no runs/ folder: not a sweep folder", file=sys.stderr)
        return EXIT_BAD_INPUT
    return analyse_or_explain(args.sweep_dir, samples=args.samples)


if __name__ == "__main__":
    sys.exit(main())
