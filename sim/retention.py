"""Retention of the course's gains: decay, consolidation, reinforcement with spacing (design.md).

* Decay: ``transient`` shrinks each week, faster for isolated people
  (``isolation_factor = 1 + isolation_effect * (1 - connectedness)``), with an exponential or a
  power-law shape; the power law runs on the age of the transient gain, the gain-weighted mean
  of the ages of its parts (learning from a contact starts at age 0).
* Consolidation: practice (``habit``) turns a share of ``transient`` into ``persistent`` each week;
  ``persistent`` decays very slowly.
* Reinforcement: a contact does two things, both scaled by the channel's efficacy and the spacing
  effect. It **restores** a share of what the person has lost since the course (the gap between
  their gain and their own post-course gain plus a small margin), and it **builds**: peers teach,
  so it closes a share (``support_build_share`` of the restoring share) of the gap to a personal
  ceiling ``support_ceiling_sd`` above baseline. Building is what lets support help someone who
  never took the course (Liang 2021). Both go to ``supported``, the support-made gain.
* Support-made gain is held less firmly than what the course built: it decays at its own rate
  (``support_decay_rate_per_week``, faster when isolated) and consolidates at
  ``support_consolidation_share`` of the rate course practice gives. The habit that support adds
  counts the same way: of ``habit``, the part the course left (``practice_habit``, fading as habit
  fades without practice) consolidates fully, the part support added at that share. At share 1
  support is "like course practice"; at 0 nothing support made outlasts it (Zhang 2016).

Without a contact, the total gain ``transient + supported + persistent`` can only fall or stay:
decay removes, consolidation only moves gain from one part to another.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

import numpy as np

from .fields import nonneg, positive, prob, real

if TYPE_CHECKING:
    from .population import Graduates

# --- parameters (read as ``dynamics.retention``) ----------------------------------------------------


class DecayShape(str, Enum):
    exponential = "exponential"  # constant hazard: transient *= exp(-rate)
    power_law = "power_law"  # (1 + b t)^-psi, t = weeks since the course: fast early loss, long tail


@dataclass
class RetentionParams:
    """Decay, consolidation and reinforcement of the course's gains (retention.py)."""

    decay_shape: DecayShape = DecayShape.exponential
    decay_rate_per_week: float = nonneg(0.025, 1.0, "transient decay rate; half-life 6.5-13 months")
    power_law_b_per_week: float = positive(0.2, doc="time scale of the power-law decay")
    power_law_psi: float = nonneg(0.5, doc="power-law exponent")
    isolation_effect: float = nonneg(0.5, doc="extra decay at connectedness 0, fraction of the rate")
    consolidation_rate_per_week: float = prob(0.03, "share of transient made persistent at habit 1")
    persistent_decay_rate_per_week: float = nonneg(0.001, 1.0, "slow decay of persistent gains")
    max_gain_sd: float = positive(1.0, doc="ceiling of the course's immediate gain over baseline, SD units")
    reinforcement_margin_sd: float = nonneg(
        0.05, doc="restoring may lift a person this far above their own post-course gain, SD units"
    )
    support_build_share: float = prob(
        0.5, "a contact's building, as a share of its restoring: share of the gap to the ceiling closed"
    )
    support_ceiling_sd: float = nonneg(0.6, doc="the gain support can build toward, SD units above baseline")
    support_decay_rate_per_week: float = nonneg(0.06, 1.0, "decay of support-made gain (Zhang 2016)")
    support_consolidation_share: float = prob(
        0.3, "consolidation of support-made gain and habit, as a share of course practice's (0: none, 1: alike)"
    )
    spacing_optimal_gap_weeks: float = positive(3.0, doc="gap between contacts with most effect")
    spacing_floor: float = prob(0.4, "spacing factor for very short or very long gaps")
    habit_gain_per_contact: float = prob(0.26, "95% of the habit ceiling after ~10 weekly contacts")
    habit_decay_rate_per_week: float = nonneg(0.02, 1.0, "habit fades without practice")


# --- the rules -------------------------------------------------------------------------------------


def spacing(gap_weeks: np.ndarray, params: RetentionParams) -> np.ndarray:
    """Effect of a contact relative to the best spacing, given the weeks since the last contact.

    ``floor + (1 - floor) * (g / g*) * exp(1 - g / g*)``: rises to 1 at the optimal gap ``g*`` and
    falls for longer gaps (the spacing effect), never below ``floor``: a contact after a long gap
    still helps, and helps most in absolute terms because more has been lost.
    """
    x = np.asarray(gap_weeks, dtype=float) / params.spacing_optimal_gap_weeks
    return params.spacing_floor + (1.0 - params.spacing_floor) * x * np.exp(1.0 - x)


def reinforce(
    g: Graduates,
    who: np.ndarray,
    week: int,
    params: RetentionParams,
    efficacy: np.ndarray | float,
    habit_multiplier: float = 1.0,
    doses: np.ndarray | int = 1,
) -> None:
    """Apply ``doses`` contacts to graduates ``who`` (indices) this week.

    Each dose restores ``e = efficacy * spacing(gap)`` of the gap between the gain and the person's
    own level, ``course_gain + reinforcement_margin_sd`` (more for those who lost most; nothing for
    someone already there), then builds ``support_build_share * e`` of the remaining gap to
    ``support_ceiling_sd``; both add to ``supported``. It adds habit
    ``habit_gain_per_contact * habit_multiplier * (1 - habit)``. ``k`` doses at once compound:
    ``1 - (1 - e)^k`` of each gap.
    """
    if who.size == 0:
        return
    params = g.runs.view(params, who)  # one run's own values for each of ``who`` (sim.runs)
    gap = week - g.last_contact_week[who]
    share = np.clip(np.asarray(efficacy) * spacing(gap, params), 0.0, 1.0)
    doses = np.asarray(doses)
    gain = g.transient[who] + g.persistent[who] + g.supported[who]
    restored = (1.0 - (1.0 - share) ** doses) * np.maximum(g.course_gain[who] + params.reinforcement_margin_sd - gain, 0.0)
    gain += restored
    built = (1.0 - (1.0 - params.support_build_share * share) ** doses) * np.maximum(params.support_ceiling_sd - gain, 0.0)
    g.supported[who] += restored + built
    hg = params.habit_gain_per_contact * habit_multiplier
    hg = min(hg, 1.0) if np.ndim(hg) == 0 else np.minimum(hg, 1.0)
    g.habit[who] = 1.0 - (1.0 - g.habit[who]) * (1.0 - hg) ** doses
    g.last_contact_week[who] = week
    if np.ndim(hg):  # a batch whose runs differ: per graduate
        g.contacted[who[hg > 0.0]] = True
    elif hg > 0.0:  # practice, not just information: habit does not fade this week
        g.contacted[who] = True


def retain(g: Graduates, week: int, params: RetentionParams) -> None:
    """One week of decay, consolidation and habit loss for everyone (step 3 of the week)."""
    params = g.runs.view(params)  # each run's own values, for every graduate (sim.runs)
    isolation = np.subtract(1.0, g.connectedness)
    isolation *= params.isolation_effect
    isolation += 1.0
    g.supported *= np.exp(-params.support_decay_rate_per_week * isolation)
    if params.decay_shape == DecayShape.exponential:
        isolation *= -params.decay_rate_per_week
        keep = np.exp(isolation, out=isolation)
    else:  # (1 + b t)^-psi over the age t of the course's transient gain: fast early loss, long tail
        age = g.transient_age
        b = params.power_law_b_per_week
        keep = ((1.0 + b * (age + 1.0)) / (1.0 + b * age)) ** (-params.power_law_psi * isolation)
        g.transient_age += 1.0
    g.transient *= keep
    # practice makes it stick: the course's habit fully, what support added at its share
    share = params.support_consolidation_share
    rate = params.consolidation_rate_per_week
    from_course = rate * (g.practice_habit + share * (g.habit - g.practice_habit)) * g.transient
    from_support = (rate * share) * g.habit * g.supported
    g.transient -= from_course
    g.supported -= from_support
    g.persistent *= np.exp(-params.persistent_decay_rate_per_week)
    g.persistent += from_course + from_support
    # habit fades for those who did not practise with anyone this week; the course's part always
    fade = np.exp(-params.habit_decay_rate_per_week)
    np.multiply(g.habit, fade, out=g.habit, where=~g.contacted)
    g.practice_habit *= fade
