"""Connectedness: raised by social contact, drifting back to each person's usual level without it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .fields import prob

if TYPE_CHECKING:
    from .population import Graduates


@dataclass
class ConnectednessParams:
    drift_rate_per_week: float = prob(0.1, "share of the gap to one's baseline closed each week")
    lonely_threshold: float = prob(0.3, "connectedness below this counts as lonely")


def connect(g: Graduates, who: np.ndarray, gain: float, doses: np.ndarray | int = 1) -> None:
    """Social contact for graduates ``who``: close ``gain`` of the gap to 1 per dose (``gain``: a
    number, or one per graduate of ``who`` in a batch whose runs differ)."""
    if np.ndim(gain):  # a batch whose runs differ (sim.runs): ``gain`` per graduate of ``who``
        keep = gain > 0.0
        who, gain = who[keep], gain[keep]
        doses = doses if np.ndim(doses) == 0 else np.asarray(doses)[keep]
    elif gain <= 0.0:
        return
    if who.size == 0:
        return
    g.connectedness[who] = 1.0 - (1.0 - g.connectedness[who]) * (1.0 - gain) ** np.asarray(doses)
    g.social_contact[who] = True


def drift(g: Graduates, params: ConnectednessParams) -> None:
    """Step 4 of the week: without social contact, close a share of the gap to the usual level."""
    delta = g.connectedness_baseline - g.connectedness
    delta *= g.runs.each(params.drift_rate_per_week)
    np.add(g.connectedness, delta, out=g.connectedness, where=~g.social_contact)
