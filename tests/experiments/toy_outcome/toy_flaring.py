"""A toy weekly measure: the share of graduates who had a flare-up this week.

Registered on import (tests/experiments/test_toy_outcome.py names this module in
``AFTER_THE_COURSE_OUTCOMES``): one reporter, a function of the model giving this week's number,
and one catalogue entry. Written with ``model.graduates.runs`` so that a batch gets one value per run.
"""

from __future__ import annotations

from experiments.outcomes import LOWER, OVER_REPLICATES, Outcome, register_outcome


def share_flaring(model) -> float:
    """Share of graduates with a flare-up this week (0 to 1)."""
    g = model.graduates
    return g.runs.share(g.flare)


register_outcome(share_flaring, Outcome(
    "share_flaring", "Had a flare-up this week", "share of graduates", LOWER, OVER_REPLICATES,
    description="toy: graduates whose condition flared this week, whoever managed it", summary=True,
    run_summary=True))
