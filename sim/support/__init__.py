"""Follow-on support channels, one module each, all with the interface of :class:`SupportChannel`."""

from .base import Engagement, SupportChannel
from .booster import BoosterCourse
from .newsletter import Newsletter
from .online import OnlineForum
from .peer_group import PeerGroups
from .telephone import TelephoneSupport

#: Channel classes by the name of their block in the strategy config, in the order they run.
CHANNELS: dict[str, type[SupportChannel]] = {
    "peer_group": PeerGroups,
    "telephone": TelephoneSupport,
    "online": OnlineForum,
    "booster": BoosterCourse,
    "newsletter": Newsletter,
}

__all__ = ["CHANNELS", "BoosterCourse", "Engagement", "Newsletter", "OnlineForum", "PeerGroups",
           "SupportChannel", "TelephoneSupport"]
