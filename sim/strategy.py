"""Who is offered which channel: the strategy's matching rule.

``offer_all``: every graduate may use every enabled channel (each channel still needs its own
access: a phone, the internet). ``tailored``: each graduate is offered the one channel that fits
them, the first that fits in ``strategy.tailoring_order``. The default order is a peer group if
they like groups, else telephone calls if they have a phone, else the forum if they are online
and confident with it (docs/odd.md 7.5 gives the evidence). Boosters and newsletters go to
everyone either way. Which channels may be tailored, and who fits each, is the channel's own
(``tailorable`` and ``fits`` in its module).
"""

from __future__ import annotations

import numpy as np

from .params import TAILORABLE_CHANNELS, Matching, StrategyParams
from .population import Graduates
from .support import CHANNELS


def fits(g: Graduates, channel: str, strategy: StrategyParams) -> np.ndarray:
    """Whether each graduate fits ``channel`` (for tailored matching)."""
    return CHANNELS[channel].fits(g, strategy)


def offers(g: Graduates, strategy: StrategyParams) -> dict[str, np.ndarray]:
    """For each enabled channel, a boolean mask of the graduates offered it."""
    enabled = [name for name, block in strategy.channels.items() if block.enabled]
    everyone = np.ones(g.n, dtype=bool)
    result = {name: everyone.copy() for name in enabled}
    if strategy.matching == Matching.tailored:
        for name in TAILORABLE_CHANNELS:  # a channel left out of the order is offered to nobody
            if name in result and name not in strategy.tailoring_order:
                result[name][:] = False
        remaining = everyone.copy()
        for name in strategy.tailoring_order:
            if name in result:
                result[name] = remaining & fits(g, name, strategy)
                remaining &= ~result[name]
    return result
