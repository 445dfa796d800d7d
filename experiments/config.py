"""The Hydra side of the parameters: the typed schema, composing configs, turning them into
:class:`sim.params.ModelParams`.

The schema is the dataclasses of :mod:`sim.params` registered in Hydra's ConfigStore, so a YAML
file or an override with an unknown key or a wrong type fails while composing, before any work;
:func:`sim.params.validate` then checks every range with one clear line.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Optional

import numpy as np

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

import sim
from experiments.schemas import CalibrationConfig, SensitivityConfig
from experiments.psa import PsaOptions
from experiments.psa import apply as apply_psa
from sim.engines import Engine
from sim.params import ModelParams, ParameterError, PopulationParams, StrategyParams, validate

#: The top-level ``configs/`` folder. Resolved from this file, not from the working directory or
#: the package, so ``python -m experiments.run`` and the installed console script find it alike.
CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


@dataclass
class OutputOptions:
    """What a run writes besides its weekly table and summary (sweeps turn the heavy ones off)."""

    csv: bool = True  # weekly.csv beside weekly.parquet
    graduates: bool = True  # graduates.parquet
    plot: bool = True  # trajectories.png


@dataclass
class RunConfig(ModelParams):
    """Schema of ``configs/config.yaml``: the model's parameters plus how the run is organised.

    ``seed`` is the base seed; the model's seed is derived from it and ``replicate``
    (:func:`run_seed`), so every strategy in replicate r runs with the same seed.
    """

    replicate: int = 0
    replicates: int = 1
    engine: Engine = Engine.vectorized
    outputs: OutputOptions = field(default_factory=OutputOptions)
    psa: Optional[PsaOptions] = None  # uncertain parameters and their distributions (experiment=psa)
    calibration: Optional[CalibrationConfig] = None  # filled by experiment=calibrate
    sensitivity: Optional[SensitivityConfig] = None  # filled by experiment=sensitivity_*


def run_seed(seed: int, replicate: int) -> int:
    """The model's seed for replicate ``replicate`` of base ``seed`` (replicate 0 keeps ``seed``).

    Deterministic, and independent across replicates (NumPy's SeedSequence spawning).
    """
    if replicate == 0:
        return int(seed)
    state = np.random.SeedSequence(entropy=int(seed), spawn_key=(int(replicate),)).generate_state(2, np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1]))


def register_schema() -> None:
    ConfigStore.instance().store(name="run_schema", node=RunConfig)


register_schema()


def check_config_dir() -> Path:
    if not (CONFIG_DIR / "config.yaml").is_file():
        raise SystemExit(
            f"error: configs not found at {CONFIG_DIR}; install the project from its source tree "
            "(pip install -e .) so that the top-level configs/ folder sits beside experiments/"
        )
    return CONFIG_DIR


def compose_config(overrides: list[str] | None = None, config_name: str = "config") -> DictConfig:
    """Compose the config as the command line would (for notebooks and tests)."""
    with initialize_config_dir(config_dir=str(check_config_dir()), version_base="1.3"):
        return compose(config_name=config_name, overrides=list(overrides or []))


def to_params(cfg: DictConfig) -> ModelParams:
    """The validated model parameters of a composed config (raises sim.ParameterError)."""
    run = OmegaConf.to_object(cfg)
    if run.replicate < 0:
        raise ParameterError("replicate", run.replicate, "must be a whole number >= 0")
    if run.replicates < 1:
        raise ParameterError("replicates", run.replicates, "must be a whole number >= 1")
    fields = {name: getattr(run, name) for name in ModelParams.__dataclass_fields__}
    if fields["seed"] is not None:
        fields["seed"] = run_seed(fields["seed"], run.replicate)
    params = validate(ModelParams(**fields))
    # PSA: the replicate's draws, seeded by (base seed, replicate) and not the strategy (paired)
    return apply_psa(params, run.psa, run.seed, run.replicate)


def load_params(overrides: list[str] | None = None) -> ModelParams:
    """Compose and validate in one go: ``load_params(["strategy=peer_group", "n_graduates=500"])``."""
    return to_params(compose_config(overrides))


def load_population(name: str) -> PopulationParams:
    """The population ``configs/population/<name>.yaml`` as parameters, without Hydra's global state."""
    path = check_config_dir() / "population" / f"{name}.yaml"
    if not path.is_file():
        choices = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise ParameterError("population", name, f"must be one of {choices}")
    return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(PopulationParams), OmegaConf.load(path)))


def load_strategy(name: str) -> StrategyParams:
    """The strategy ``configs/strategy/<name>.yaml`` as parameters, without Hydra's global state
    (so it also works inside a running Hydra app)."""
    path = check_config_dir() / "strategy" / f"{name}.yaml"
    if not path.is_file():
        choices = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise ParameterError("strategy", name, f"must be one of {choices}")
    return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(StrategyParams), OmegaConf.load(path)))


def with_values(params: ModelParams, values: dict[str, object]) -> ModelParams:
    """A copy of ``params`` with the parameters named by dotted keys set, validated.

    ``with_values(p, {"dynamics.retention.decay_rate_per_week": 0.015})``: the keys are the
    command line's (``costs.items.X.value_gbp`` reaches into the cost items). Used by sensitivity
    analysis, calibration and probabilistic sensitivity analysis, where composing a config per
    sample would cost more than the run.
    """
    params = copy.deepcopy(params)
    for key, value in values.items():
        *path, last = key.split(".")
        node = params
        try:
            for part in path:
                node = node[part] if isinstance(node, dict) else getattr(node, part)
            if isinstance(node, dict):
                if last not in node:
                    raise KeyError(last)
                node[last] = value
            else:
                if not hasattr(node, last):
                    raise AttributeError(last)
                current = getattr(node, last)
                if isinstance(current, int) and not isinstance(current, bool) and float(value).is_integer():
                    value = int(value)  # e.g. a sampled 4.0 for a whole-number parameter
                elif isinstance(current, Enum) and not isinstance(value, Enum):
                    try:
                        value = type(current)(value)  # e.g. a decay shape named in a posterior table
                    except ValueError:
                        raise ParameterError(key, value, f"must be one of {[e.value for e in type(current)]}") from None
                setattr(node, last, value)
        except (KeyError, AttributeError) as err:
            raise ParameterError(key, value, f"is not a parameter of the model (no {err.args[0]!r})") from None
    return validate(params)


def model_config(cfg: DictConfig) -> dict:
    """The resolved model part of a config as plain data (no ``hydra`` node)."""
    data = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    data.pop("hydra", None)
    return data


def config_hash(cfg: DictConfig) -> str:
    """A short, stable hash of the resolved model config and the package version: it identifies a
    run's inputs (a sweep skips a run whose folder holds a finished run with the same hash)."""
    data = {"config": model_config(cfg), "package_version": sim.__version__}
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
