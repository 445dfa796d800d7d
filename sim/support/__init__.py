"""Follow-on support channels, one module each, all with the interface of :class:`SupportChannel`.

Each module declares the channel's parameters at its top, then its vectorised class, then its
rules for one graduate at a time (the reference engine). :mod:`sim.support.registry` finds them.
"""

from .base import Engagement, SupportChannel
from .registry import CHANNEL_NAMES, CHANNEL_TYPES, CHANNELS, TAILORABLE_CHANNELS

__all__ = ["CHANNELS", "CHANNEL_NAMES", "CHANNEL_TYPES", "Engagement", "SupportChannel", "TAILORABLE_CHANNELS"]
