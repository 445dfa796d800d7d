"""Who is offered which channel: the strategy's matching rule.

``offer_all``: every graduate may use every enabled channel (each channel still needs its own
access: a phone, the internet). ``tailored``: each graduate is offered the one channel that fits
them, in order of preference: a peer group if they like groups, else the forum if they are online
and confident with it, else telephone calls. Boosters and newsletters go to everyone either way.
"""

from __future__ import annotations

import numpy as np

from .params import Matching, StrategyParams
from .population import Graduates

#: Channels matched one-per-graduate under ``tailored``, in order of preference.
TAILORED_ORDER = ("peer_group", "online", "telephone")


def fits(g: Graduates, channel: str, strategy: StrategyParams) -> np.ndarray:
    """Whether each graduate fits ``channel`` (for tailored matching)."""
    if channel == "peer_group":
        return g.group_affinity >= strategy.tailoring_group_affinity_threshold
    if channel == "online":
        return g.online_access & (g.digital_confidence >= strategy.tailoring_digital_confidence_threshold)
    if channel == "telephone":
        return g.phone_access.copy()
    return np.ones(g.n, dtype=bool)


def offers(g: Graduates, strategy: StrategyParams) -> dict[str, np.ndarray]:
    """For each enabled channel, a boolean mask of the graduates offered it."""
    enabled = [name for name, block in strategy.channels.items() if block.enabled]
    everyone = np.ones(g.n, dtype=bool)
    result = {name: everyone.copy() for name in enabled}
    if strategy.matching == Matching.tailored:
        remaining = everyone.copy()
        for name in TAILORED_ORDER:
            if name in result:
                result[name] = remaining & fits(g, name, strategy)
                remaining &= ~result[name]
    return result
