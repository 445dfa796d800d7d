"""After the course: an agent-based model of self-management after a structured course.

Quick start::

    from sim import SelfManagementModel, StrategyParams
    model = SelfManagementModel(n_graduates=2000, weeks=104, rng=7).run()
    model.weekly_table()[["week", "mean_gain_sd", "share_self_managing"]]
"""

from importlib.metadata import PackageNotFoundError, version

from .agents import Graduate
from .model import SelfManagementModel
from .params import (
    CostParams,
    DynamicsParams,
    ModelParams,
    ParameterError,
    PopulationParams,
    StrategyParams,
    validate,
)
from .support import Engagement

try:
    __version__ = version("after-the-course")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "CostParams",
    "DynamicsParams",
    "Engagement",
    "Graduate",
    "ModelParams",
    "ParameterError",
    "PopulationParams",
    "SelfManagementModel",
    "StrategyParams",
    "validate",
    "__version__",
]
