"""After the course: an agent-based model of self-management after a structured course.

Quick start::

    from sim import SelfManagementModel, StrategyParams
    model = SelfManagementModel(n_graduates=2000, weeks=104, rng=7).run()
    model.weekly_table()[["week", "mean_gain_sd", "share_self_managing"]]
"""

from importlib.metadata import PackageNotFoundError, version

from .params import CostParams, DynamicsParams, ModelParams, ParameterError, PopulationParams, StrategyParams, validate

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


#: Imported on first use (``from sim import SelfManagementModel``): they import Mesa, which takes
#: most of a second, so tools that only need the parameters (``--help``, configs) start fast.
_LAZY = {"SelfManagementModel": ".model", "Graduate": ".agents", "Engagement": ".support"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
