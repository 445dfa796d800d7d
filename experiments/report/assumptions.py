"""The assumptions table of the report: every unit cost and the key parameters, in plain words,
with value, source, price year and whether it is an assumption.

Values are read from the resolved config of a run of the sweep, so an override shows; sources
follow ``docs/odd.md`` (section 7), where each parameter is documented.
"""

from __future__ import annotations

from typing import Any

#: Unit cost items in plain words.
COST_ITEM_WORDS = {
    "course_per_participant": "The self-management course, per participant",
    "gp_surgery_consultation": "GP consultation in the surgery",
    "gp_phone_consultation": "GP consultation by telephone",
    "practice_nurse_consultation": "Practice nurse consultation",
    "urgent_care_attendance": "Urgent care / A&E attendance",
    "peer_group_venue_per_meeting": "Peer group: room hire, per meeting",
    "peer_group_coordination_per_meeting": "Peer group: coordinator time, per meeting",
    "facilitator_per_meeting": "Paid facilitator, per meeting (facilitated groups only)",
    "volunteer_training_per_volunteer": "Training one volunteer (leader or caller)",
    "peer_call": "One call by a peer volunteer (coordination)",
    "professional_call": "One call slot bought from a professional (staff time, paid used or not)",
    "telephone_volunteer_coordination_per_volunteer_week": "Supervising and rostering one peer caller, per week",
    "online_platform_per_1000_graduates_per_year": "Online platform licence, per 1,000 forum members per year",
    "moderator_per_hour": "Online moderator, per hour",
    "booster_per_participant": "Booster course, per participant",
    "newsletter_per_issue": "Newsletter, per issue per graduate",
}

SHORT_WORDS = {"gp_surgery_consultation": "GP surgery", "gp_phone_consultation": "GP phone",
               "practice_nurse_consultation": "practice nurse"}

#: Key parameters: (dotted key, plain words, units, source, assumption?).
KEY_PARAMETERS: tuple[tuple[str, str, str, str, bool], ...] = (
    ("n_graduates", "Graduates modelled in each run", "people", "model setting", False),
    ("weeks", "Time horizon after the course", "weeks", "design.md (2 years)", False),
    ("population.label", "Population", "", "configs/population", False),
    ("population.group_averse_share", "Share who find groups difficult", "share", "design.md (20 to 40%)", False),
    ("population.online_access_by_age_band", "Share online, by age (under 65, 65-74, 75+)", "shares",
     "75+: design.md (54%, 2020); younger bands assumed", True),
    ("population.age_band_shares", "Age mix (under 65, 65-74, 75+)", "shares", "assumption", True),
    ("population.course_attendance_prob_mean", "Chance of attending each course session", "probability",
     "CDSMP national roll-out (75% attend 4 of 6)", False),
    ("dynamics.course.immediate_gain_mean_sd", "Gain from a full course", "SD of the pre-course score",
     "fitted to trial effect sizes at 6 and 12 months (Foster 2007, Brady 2013); prior 0.5 to 0.9 SD", True),
    ("dynamics.retention.decay_rate_per_week", "How fast unpractised gains fade", "per week",
     "design.md prior 0.012 to 0.025 (half-life 6.5 to 13 months)", False),
    ("dynamics.retention.isolation_effect", "Extra fading when isolated", "fraction of the rate",
     "CLAHRC-NDL study (direction); value assumed", True),
    ("dynamics.retention.consolidation_rate_per_week", "How fast practice makes gains permanent", "per week",
     "fitted: about a third of the gain persists (Norris 2002)", True),
    ("dynamics.retention.habit_decay_rate_per_week", "How fast the habit fades without practice", "per week",
     "fitted to the trial effect sizes; no direct source", True),
    ("dynamics.retention.spacing_optimal_gap_weeks", "Most effective gap between contacts", "weeks",
     "design.md (2 to 4 weeks)", False),
    ("dynamics.measurement.responder_threshold_sd", "Measured rise in self-efficacy that counts as a 'responder'",
     "SD of the measured pre-course score", "assumption: Park 2013's 0.5 SD rule; no minimal important difference "
     "for the SEMCD-6 is published (range 0.25-1)", True),
    ("dynamics.measurement.reliability", "Reliability of the self-efficacy questionnaire", "0 to 1",
     "assumption: SEMCD-6 internal consistency 0.88-0.95 (Ritter & Lorig 2014); test-retest not published "
     "(range 0.7-0.95)", True),
    ("dynamics.peer_group.effect.efficacy", "Share of the lost gain one group meeting restores", "share",
     "prior 0 to 0.6 (assumption); fitted to peer support's effect on self-efficacy (Liang 2021) and group joiners' "
     "QALYs (Munford 2020)", True),
    ("dynamics.telephone.effect.efficacy", "Share of the lost gain one answered call restores", "share",
     "prior 0 to 0.4 (assumption); fitted to two trials that found no effect (Dale 2009, Mons 2013)", True),
    ("dynamics.online.effect.efficacy", "Share of the lost gain one forum post restores", "share",
     "prior 0 to 0.3 (assumption); no trial measured it, so it stays at its prior (Eysenbach 2004)", True),
    ("dynamics.online.read_efficacy", "Share of the lost gain a week of reading the forum restores", "share",
     "prior 0 to 0.15 (assumption); readers say they gain as much as posters (Mo & Coulson 2010), no trial "
     "measured it, so it stays at its prior", True),
    ("dynamics.retention.support_build_share", "How much a contact teaches, as a share of what it restores",
     "share", "prior 0 to 1 (assumption); fitted to peer support without the course (Liang 2021)", True),
    ("dynamics.retention.support_ceiling_sd", "The gain support can build toward", "SD above the pre-course level",
     "prior 0.2 to 1.5 (assumption); fitted to Liang 2021", True),
    ("dynamics.retention.support_decay_rate_per_week", "How fast what support built fades once it stops", "per week",
     "prior 0.012 to 0.2 (assumption); fitted to the fade after peer support ends (Zhang 2016)", True),
    ("dynamics.retention.support_consolidation_share", "Share of support's gains that practice makes permanent",
     "share of the course's rate", "prior 0 to 1 (assumption); fitted to Zhang 2016", True),
    ("dynamics.retention.reinforcement_margin_sd", "How far above one's own post-course level support can restore",
     "SD", "prior 0 to 0.2 (assumption); no target informs it", True),
    ("dynamics.course.gain_age_gradient", "How much more younger people gain from the course", "",
     "prior 0 to 0.6: Reeves 2008 (younger people benefited more; size not published)", True),
    ("dynamics.outcomes.qaly_per_connectedness_year", "Quality of life per unit of company above one's usual",
     "QALY per year", "prior 0 to 0.3 from Konig & Hajek 2024 (loneliness, isolation); fitted to Munford 2020", True),
    ("dynamics.peer_group.attend_intercept", "Group attendance (log-odds; about a third of members per meeting)",
     "log-odds", "fitted: about a third of the register attends (Levy 1982)", True),
    ("dynamics.peer_group.leave_prob_per_week", "Members leaving a group", "per week", "design.md (5 to 6% a month)",
     False),
    ("dynamics.peer_group.volunteer_leave_prob_per_week", "Volunteer leaders leaving", "per week",
     "design.md (half leave within a year)", False),
    ("dynamics.telephone.join_prob", "Share offered calls who accept", "share", "assumption", True),
    ("dynamics.telephone.effect.connectedness_gain", "Company one answered call gives", "connectedness (0 to 1)",
     "prior 0 to 0.15 (assumption: less than a meeting's); held to the null call trials with every other route", True),
    ("dynamics.telephone.answer_prob", "Share of scheduled calls answered", "share", "assumption", True),
    ("dynamics.online.poster_propensity_b", "Forum: how few ever post (Beta shape)", "",
     "fitted: under 25% ever post (van Mierlo 2014)", True),
    ("dynamics.online.leave_prob_per_week_no_reply", "Forum: leaving when posts get no reply", "per week",
     "fitted: 26% still there at 12 weeks (Powell 2013)", True),
    ("dynamics.health.flare_prob_per_week", "Flare-ups at average severity", "per week", "assumption", True),
    ("dynamics.outcomes.qaly_per_sd_year", "Quality of life per SD of gain", "QALY per SD-year",
     "design.md: the course alone gives about +0.02 QALY in 6 months (EPP trial)", False),
    ("dynamics.outcomes.discount_rate_per_year", "Discount rate for costs and QALYs", "per year",
     "NICE reference case", False),
    ("costs.price_year", "Price year of all costs", "year", "model setting", False),
    ("costs.planned_contact_mix", "Mix of planned contacts after a flare-up", "shares", "assumption", True),
)


def lookup(config: dict, key: str) -> Any:
    node: Any = config
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def show(value: Any) -> str:
    """A config value in plain text."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(show(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{SHORT_WORDS.get(k, k)} {show(v)}" for k, v in value.items())
    return "" if value is None else str(value)


def cost_rows(config: dict) -> list[dict[str, Any]]:
    """One row per cost item: plain words, value as given, its price year, value at the price year."""
    costs = config.get("costs") or {}
    index = {int(k): float(v) for k, v in (costs.get("inflation_index") or {}).items()}
    year = int(costs.get("price_year", 2024))
    from sim.economics import inflate_gbp

    rows = []
    for name, item in (costs.get("items") or {}).items():
        rows.append({
            "key": f"costs.items.{name}",
            "item": COST_ITEM_WORDS.get(name, name.replace("_", " ")),
            "value_gbp": float(item["value_gbp"]),
            "price_year": int(item["price_year"]),
            "value_at_price_year_gbp": inflate_gbp(item["value_gbp"], int(item["price_year"]), year, index),
            "source": item.get("source", ""),
            "assumption": bool(item.get("assumption", False)) or str(item.get("source", "")).lower().startswith("assum"),
        })
    return rows


def calibrated_keys(dynamics_choice: str) -> set[str]:
    """The dotted keys a dynamics config sets (``configs/dynamics/<choice>.yaml``), for a fitted set."""
    from experiments.config import CONFIG_DIR

    path = CONFIG_DIR / "dynamics" / f"{dynamics_choice}.yaml"
    if not dynamics_choice or dynamics_choice == "priors" or not path.is_file():
        return set()
    import yaml

    def walk(node, prefix):
        for k, v in (node or {}).items():
            if isinstance(v, dict):
                yield from walk(v, f"{prefix}{k}.")
            else:
                yield f"{prefix}{k}"

    return set(walk(yaml.safe_load(path.read_text()), "dynamics."))


def parameter_rows(config: dict, varied: dict[str, list] | None = None,
                   calibrated: set[str] | None = None) -> list[dict[str, Any]]:
    """The key parameters: value (or the values a sweep varied), units, source, and status:
    ``"Sourced"``, ``"Calibrated"`` (fitted to the design's targets) or ``"Assumption"``."""
    varied, calibrated = varied or {}, calibrated or set()
    rows = []
    for key, words, units, source, assumed in KEY_PARAMETERS:
        value = lookup(config, key)
        if value is None and key not in varied:
            continue
        shown = "varied: " + ", ".join(show(v) for v in varied[key]) if key in varied else show(value)
        if key in calibrated:
            status, source = "Calibrated", f"calibrated (docs/calibration/report.md): {source}"
        else:
            status = "Assumption" if assumed else "Sourced"
            if assumed and source.startswith("fitted"):
                source = "prior, hand-tuned: " + source.removeprefix("fitted: ").removeprefix("fitted ")
        rows.append({"key": key, "parameter": words, "value": shown, "units": units, "source": source,
                     "assumption": status == "Assumption", "status": status})
    for key, values in varied.items():  # anything else the sweep varied
        if not any(r["key"] == key for r in rows) and not key.startswith("strategy."):
            rows.append({"key": key, "parameter": key.rsplit(".", 1)[-1].replace("_", " "),
                         "value": "varied: " + ", ".join(show(v) for v in values), "units": "",
                         "source": "swept in this experiment", "assumption": False, "status": "Varied"})
    return rows
