"""The calibrated behaviour parameters, as the model's defaults.

``docs/calibration`` fits the uncertain behaviour parameters to published evidence and writes the
fitted values twice, with the same content: ``configs/dynamics/calibrated.yaml`` (the Hydra config
group the command line uses by default) and ``sim/data/calibrated_dynamics.yaml`` (package data,
read here), so that ``SelfManagementModel()`` in Python, the command line, the notebooks and the
dashboard all start from the same values. ``DynamicsParams()`` itself keeps the priors of
``design.md``; :func:`calibrated_dynamics` applies the fitted values on top of them.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from enum import Enum
from importlib import resources
from typing import Any

import yaml

from .params import DynamicsParams, ParameterError

#: Where the fitted values live inside the package.
CALIBRATED_FILE = "data/calibrated_dynamics.yaml"


@functools.cache
def calibrated_values() -> dict[str, Any]:
    """The fitted values as a nested dict (``{"retention": {"decay_rate_per_week": ...}, ...}``)."""
    text = resources.files("sim").joinpath(CALIBRATED_FILE).read_text(encoding="utf-8")
    return yaml.safe_load(text) or {}


def apply_values(obj: Any, values: dict[str, Any], prefix: str = "dynamics") -> Any:
    """A copy of parameter dataclass ``obj`` with nested ``values`` applied (unknown keys fail)."""
    changes = {}
    names = {f.name: f for f in dataclasses.fields(obj)}
    for key, value in values.items():
        if key not in names:
            raise ParameterError(f"{prefix}.{key}", value, f"is not a parameter; allowed: {sorted(names)}")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current) and isinstance(value, dict):
            changes[key] = apply_values(current, value, f"{prefix}.{key}")
        elif isinstance(current, Enum):
            changes[key] = type(current)(value)
        else:
            changes[key] = copy.deepcopy(value)
    return dataclasses.replace(obj, **changes)


def calibrated_dynamics() -> DynamicsParams:
    """The behaviour parameters every entry point uses by default: priors plus fitted values."""
    return apply_values(DynamicsParams(), calibrated_values())
