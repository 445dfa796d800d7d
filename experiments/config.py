"""The Hydra side of the parameters: the typed schema, composing configs, turning them into
:class:`sim.params.ModelParams`.

The schema is the dataclasses of :mod:`sim.params` registered in Hydra's ConfigStore, so a YAML
file or an override with an unknown key or a wrong type fails while composing, before any work;
:func:`sim.params.validate` then checks every range with one clear line.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import enum
import functools
import hashlib
import json
import os
import tempfile
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

import sim
from experiments.schemas import AREA_RANGES, AreaConfig, CalibrationConfig, Perspective, SensitivityConfig
from experiments.uncertainty import PsaOptions
from experiments.uncertainty import apply as apply_psa
from sim.engines import Engine
from sim.params import ModelParams, ParameterError, PopulationParams, StrategyParams, check_strategy_name, validate

#: The top-level ``configs/`` folder. Resolved from this file, not from the working directory or
#: the package, so ``python -m experiments.run`` and the installed console script find it alike.
ROOT = Path(__file__).resolve().parent.parent  # the project's source tree
CONFIG_DIR = ROOT / "configs"


@dataclass
class OutputOptions:
    """What a run writes besides its weekly table and summary (sweeps turn the heavy ones off)."""

    csv: bool = True  # weekly.csv beside weekly.parquet
    graduates: bool = True  # graduates.parquet
    plot: Optional[bool] = None  # trajectories.png; None: for a single run, not for the runs of a sweep


@dataclass
class RunConfig(ModelParams):
    """Schema of ``configs/config.yaml``: the model's parameters plus how the run is organised.

    ``seed`` is the base seed; the model's seed is derived from it and ``replicate``
    (:func:`run_seed`), so every strategy in replicate r runs with the same seed.
    """

    replicate: int = 0
    replicates: int = 1
    engine: Engine = Engine.batched
    outputs: OutputOptions = field(default_factory=OutputOptions)
    psa: Optional[PsaOptions] = None  # uncertain parameters and their distributions (experiment=psa)
    priors: Optional[dict[str, Any]] = None  # the priors catalogue (configs/priors/), for analyses
    calibration: Optional[CalibrationConfig] = None  # filled by analysis=calibrate
    sensitivity: Optional[SensitivityConfig] = None  # filled by analysis=sensitivity_*


def run_seed(seed: int, replicate: int) -> int:
    """The model's seed for replicate ``replicate`` of base ``seed`` (replicate 0 keeps ``seed``).

    Deterministic, and independent across replicates (NumPy's SeedSequence spawning).
    """
    if replicate == 0:
        return int(seed)
    import numpy as np

    state = np.random.SeedSequence(entropy=int(seed), spawn_key=(int(replicate),)).generate_state(2, np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1]))


def draw_seed() -> int:
    """A fresh base seed from the operating system's entropy (for ``seed=null``)."""
    import numpy as np

    return int(np.random.SeedSequence().entropy % (2**63))


def fix_seed(cfg: DictConfig, out_dir: Path | None = None) -> int:
    """Make ``cfg.seed`` concrete: ``seed=null`` takes the seed recorded in ``out_dir/config.yaml``
    by an earlier attempt of the same run (so resuming repeats it), else draws one. Returns it.

    The caller records it (``config.yaml`` is written before the model runs), so every run can be
    repeated exactly, whatever seed it drew.
    """
    if cfg.seed is not None:
        return int(cfg.seed)
    seed = None
    recorded = Path(out_dir) / "config.yaml" if out_dir is not None else None
    if recorded is not None and recorded.is_file():
        try:
            seed = (OmegaConf.load(recorded) or {}).get("seed")
        except Exception:  # noqa: BLE001 - an unreadable record: draw afresh
            seed = None
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        seed = draw_seed()
    cfg.seed = seed
    return seed


def register_schema() -> None:
    ConfigStore.instance().store(name="run_schema", node=RunConfig)


register_schema()


def require_block(cfg: DictConfig, block: str, how: str) -> None:
    """Exit with code 2 and one line when an analysis' config block is missing (``how``: the
    command that fills it)."""
    if cfg.get(block) is None:
        import sys

        print(f"error: no {block} block in the config; run with {how} (configs/analysis/)", file=sys.stderr)
        sys.exit(2)


def check_config_dir(user_dir: str | Path | None = None) -> Path:
    """The project's ``configs/`` folder (exits with one line when it is not there).

    With ``user_dir`` (a user's ``--config-dir``), also checks that folder: it exists and every
    YAML file in it parses, else :class:`ParameterError` naming the file and the line. Hydra only
    reads such a file while composing, and a syntax error there ends in a traceback of 90 lines.
    """
    if not (CONFIG_DIR / "config.yaml").is_file():
        raise SystemExit(
            f"error: configs not found at {CONFIG_DIR}; install the project from its source tree "
            "(pip install -e .) so that the top-level configs/ folder sits beside experiments/"
        )
    if user_dir is not None:
        folder = Path(user_dir).expanduser()
        if not folder.is_dir():
            raise ParameterError("--config-dir", str(user_dir), "must be an existing folder of config files")
        for path in sorted(folder.rglob("*.yaml")):
            problem = yaml_problem(path)
            if problem:
                raise ParameterError("--config-dir", str(user_dir), f"{path}: {problem}")
    return CONFIG_DIR


def yaml_problem(path: Path) -> str | None:
    """Why ``path`` is not a config file Hydra can read (its line and column, 1-based, and the
    parser's words), or None when it parses. Parsed by OmegaConf, as Hydra parses it."""
    import yaml

    try:
        OmegaConf.load(path)
    except UnicodeDecodeError as err:
        line = path.read_bytes()[: err.start].count(b"\n") + 1
        return f"line {line}: not UTF-8 text (byte 0x{err.object[err.start]:02x})"
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        return f"{where}not valid YAML ({err.problem or err.context})"
    except (yaml.YAMLError, OSError) as err:
        return f"not readable YAML ({str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__})"
    if not any(line.strip() and not line.lstrip().startswith("#")
               for line in path.read_text(encoding="utf-8").splitlines()):
        return "empty: a config file must set something (an empty option would silently be the defaults)"
    return None


def compose_config(overrides: list[str] | None = None, config_name: str = "config") -> DictConfig:
    """Compose the config as the command line would (for notebooks and tests)."""
    with initialize_config_dir(config_dir=str(check_config_dir()), version_base="1.3"):
        return compose(config_name=config_name, overrides=list(overrides or []))


def to_params(cfg: DictConfig) -> ModelParams:
    """The validated model parameters of a composed config (raises sim.ParameterError)."""
    check_keys(cfg)
    return params_of(OmegaConf.to_object(cfg))


def params_of(run: RunConfig, replicate: int | None = None) -> ModelParams:
    """The validated model parameters of a run config object, for its own replicate or ``replicate``.

    (Converting a config to an object is the slow part of :func:`to_params`; a sweep's check
    converts once and calls this for every replicate.)
    """
    replicate = run.replicate if replicate is None else replicate
    if isinstance(replicate, bool) or not isinstance(replicate, int) or replicate < 0:
        raise ParameterError("replicate", replicate, "must be a whole number >= 0")
    if run.replicates < 1:
        raise ParameterError("replicates", run.replicates, "must be a whole number >= 1")
    fields = {name: getattr(run, name) for name in ModelParams.__dataclass_fields__}
    seed = fields["seed"]
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63):
        raise ParameterError("seed", seed, "must be a whole number >= 0 and < 2**63, or null (draw one and record it)")
    if seed is not None:
        fields["seed"] = run_seed(seed, replicate)
    params = ModelParams(**fields)
    if _CHECKED.get(id(run)) is not run:  # the same for every replicate but for the seed (checked above)
        validate(params)
        check_strategy_name(params.strategy)  # a config's strategy is what its name says
        if len(_CHECKED) >= 256:
            _CHECKED.clear()
        _CHECKED[id(run)] = run
    # PSA: the replicate's draws, seeded by (base seed, replicate) and not the strategy (paired)
    return apply_psa(params, run.psa, run.seed, replicate)


#: Run config objects whose parameters have been validated (:func:`params_of`): a sweep asks for
#: each replicate's parameters of one object, which differ only by the seed (and a PSA's draws,
#: validated as they are set).
_CHECKED: dict[int, Any] = {}


# --- checking keys and values against the schema, before anything runs ----------------------------


def _unwrap(t: Any) -> tuple[Any, bool]:
    """``Optional[X]`` -> (X, True); anything else -> (t, False)."""
    if typing.get_origin(t) is typing.Union:
        args = [a for a in typing.get_args(t) if a is not type(None)]
        return (args[0] if len(args) == 1 else Any), True
    return t, False


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def schema_type(key: str, value: Any = None) -> tuple[Any, bool]:
    """The schema type of the dotted config key ``key`` and whether it may be null.

    Raises :class:`ParameterError` (one line, with the closest names) when no such key exists.
    """
    t, optional = RunConfig, False
    parts = key.split(".")
    for i, part in enumerate(parts):
        where = ".".join(parts[:i]) or "the config"
        if dataclasses.is_dataclass(t):
            hints = _hints(t)
            if part not in hints:
                close = difflib.get_close_matches(part, list(hints), n=3)
                hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
                raise ParameterError(key, value, f"not a parameter of the model: {where} has no {part!r}{hint} "
                                                 "(every parameter is in sim/params.py)")
            t, optional = _unwrap(hints[part])
        elif typing.get_origin(t) is dict:
            t, optional = _unwrap(typing.get_args(t)[1])
        elif typing.get_origin(t) is list and part.isdigit():
            t, optional = _unwrap(typing.get_args(t)[0])
        else:
            raise ParameterError(key, value, f"not a parameter of the model: {where} is a single value, "
                                             f"it has no {part!r}")
    return t, optional


def check_value(key: str, value: Any) -> None:
    """Check an override's value against the schema type of ``key`` (one line naming both)."""
    t, optional = schema_type(key, value)
    if isinstance(value, str) and "${" in value:
        return  # an interpolation: checked once resolved
    if value is None:
        if not optional:
            raise ParameterError(key, value, "must not be null")
        return
    if t is bool:
        ok, allowed = isinstance(value, bool), "must be true or false"
    elif t is int:
        ok, allowed = isinstance(value, int) and not isinstance(value, bool), "must be a whole number"
    elif t is float:
        ok, allowed = isinstance(value, (int, float)) and not isinstance(value, bool), "must be a number"
    elif isinstance(t, type) and issubclass(t, enum.Enum):
        names = [m.value for m in t]
        ok, allowed = value in names, f"must be one of {names}"
    elif t is str:
        ok, allowed = isinstance(value, (str, int, float)) and not isinstance(value, bool), "must be text"
    elif typing.get_origin(t) is list:
        ok, allowed = isinstance(value, list), "must be a list, e.g. [0.2,0.3,0.5]"
    elif typing.get_origin(t) is dict or dataclasses.is_dataclass(t):
        ok, allowed = isinstance(value, dict), "must be a mapping, e.g. {key: value}"
    else:
        ok, allowed = True, ""
    if not ok:
        raise ParameterError(key, value, allowed)


def check_keys(cfg: DictConfig) -> None:
    """Every key of a composed config must be a parameter of the schema (``+foo=1`` adds keys
    that the typed schema would otherwise let through)."""

    def walk(node: Any, t: Any, prefix: str) -> None:
        if not isinstance(node, DictConfig) or node._is_none() or node._is_missing():
            return
        for k in node.keys():
            key = f"{prefix}{k}"
            if dataclasses.is_dataclass(t):
                sub = node._get_node(k)
                child = schema_type(key, "{...}" if isinstance(sub, DictConfig) else sub._value())[0]
            elif typing.get_origin(t) is dict:
                child = _unwrap(typing.get_args(t)[1])[0]
            else:
                continue
            walk(node._get_node(k), child, key + ".")

    walk(cfg, RunConfig, "")


#: Hydra's options that take a value (the value is not an override).
_HYDRA_OPTIONS_WITH_VALUE = {"--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd", "--cfg", "-c",
                             "--package", "-p", "--experimental-rerun"}


#: The programs a launcher needs on the PATH of the machine the sweep starts from.
LAUNCHER_TOOLS = {"slurm": ("sbatch", "srun"), "submitit_slurm": ("sbatch", "srun")}


def check_launcher_tools(launcher: str) -> None:
    """A SLURM launcher needs SLURM's ``sbatch`` and ``srun`` here (submitit submits with the first
    and refuses to start without the second): one line naming what is missing, before anything is
    written, instead of submitit's traceback and a partial sweep folder."""
    import shutil

    missing = [tool for tool in LAUNCHER_TOOLS.get(launcher, ()) if shutil.which(tool) is None]
    if missing:
        raise ParameterError("hydra/launcher", launcher,
                             f"needs SLURM's {' and '.join(LAUNCHER_TOOLS[launcher])} on the PATH (not found: "
                             f"{', '.join(missing)}): start the sweep on the cluster's login node, or use "
                             "hydra/launcher=local")


def check_command_line(argv: list[str]) -> None:
    """Check the overrides of a command line before Hydra starts (nothing is written yet): every
    key is a parameter, every value has the right type, every group choice exists, the output
    folder can be created, and every YAML file of a ``--config-dir`` parses. Raises
    :class:`ParameterError` (one line). Ranges and cross-field rules are checked once the config
    is composed (:func:`to_params`)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    args, option, own_configs = [], None, False
    for arg in argv:
        if option:
            if option in ("--config-dir", "-cd"):
                check_config_dir(arg)
            option = None
        elif arg in _HYDRA_OPTIONS_WITH_VALUE:
            option = arg
            own_configs = own_configs or arg in ("--config-dir", "-cd", "--config-path", "-cp")
        elif arg.startswith("-"):
            own_configs = own_configs or arg.startswith(("--config-dir=", "--config-path="))
            if arg.startswith("--config-dir="):
                check_config_dir(arg.partition("=")[2])
        else:
            args.append(arg)
    if not args:
        return
    parser = OverridesParser.create()
    overrides = []
    for arg in args:
        try:
            overrides += parser.parse_overrides([arg])
        except Exception as err:  # noqa: BLE001 - a syntax error: one line naming the override
            key, _, value = arg.partition("=")
            words = " ".join(str(err).split()).split(" See https://")[0]
            raise ParameterError(key, value, f"must be Hydra's override syntax, key=value (Hydra: {words}; "
                                             "https://hydra.cc/docs/advanced/override_grammar/basic)") from None
    for o in overrides:
        key = o.key_or_group
        if key == "hydra/launcher" and not own_configs:
            choices = launcher_choices()
            for value in ([o.value()] if not o.is_sweep_override() else []):
                if value not in choices:
                    raise ParameterError(key, value, f"must be one of {choices}")
                check_launcher_tools(value)
            continue
        if o.is_delete():
            check_deletion(key)
            continue
        if key.startswith("hydra/"):
            continue
        if o.is_sweep_override():
            try:
                values = list(o.sweep_iterator())
            except Exception:  # noqa: BLE001 - interval sweeps have no list of values
                continue
        else:
            values = [o.value()]
        if key in ("hydra.run.dir", "hydra.sweep.dir"):
            for value in values:
                check_output_dir(key, value)
            continue
        if key.startswith("hydra.") or key == "hydra":
            continue
        group = check_config_dir() / key
        if "." not in key and "@" not in key and group.is_dir():
            if own_configs:
                continue  # choices may come from the user's own config folder
            choices = sorted(p.stem for p in group.glob("*.yaml"))
            for value in values:
                if not (value is None and key == "experiment") and value not in choices:
                    raise ParameterError(key, value, f"must be one of {choices}")
            continue
        check_cost_item(key, values[0] if values else None)
        for value in values:
            check_value(key, value)


def launcher_choices() -> list[str]:
    """The launchers ``hydra/launcher=...`` may name: the project's (``configs/hydra/launcher``)
    and those of the installed Hydra plugins."""
    from hydra.core.config_store import ConfigStore
    from hydra.core.plugins import Plugins

    Plugins.instance()  # registers the plugins' launcher configs
    shipped = {p.stem for p in (check_config_dir() / "hydra" / "launcher").glob("*.yaml")}
    installed = {Path(n).stem for n in ConfigStore.instance().list("hydra/launcher")}
    return sorted(shipped | installed)


def check_deletion(key: str) -> None:
    """``~key``: a config group's choice may be deleted (``~experiment``), a parameter of the
    model may not (the schema has no place for a missing block)."""
    if key.startswith(("hydra.", "hydra/")) or (check_config_dir() / key).is_dir():
        return
    schema_type(key, None)  # an unknown key: the usual line, with the closest names
    raise ParameterError(f"~{key}", None, "a parameter of the model cannot be deleted; set its value instead "
                                          f"(e.g. {key}.enabled=false for a channel)")


def check_cost_item(key: str, value: Any) -> None:
    """``costs.items.NAME...``: NAME must be a cost item the model prices (a typo would otherwise
    end in Hydra's 'not in struct', and the ``+`` it suggests would add an item nobody uses)."""
    from sim.params import REQUIRED_COST_ITEMS

    parts = key.split(".")
    if len(parts) >= 3 and parts[:2] == ["costs", "items"] and parts[2] not in REQUIRED_COST_ITEMS:
        close = difflib.get_close_matches(parts[2], list(REQUIRED_COST_ITEMS), n=3)
        hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
        raise ParameterError(key, value, f"not a cost item of the model: {hint}the items are "
                                         f"{sorted(REQUIRED_COST_ITEMS)}")


def check_output_dir(key: str, value: Any) -> None:
    """The output folder ``value`` (``hydra.run.dir`` or ``hydra.sweep.dir``) can be created and
    written to. Creates nothing that is not removed again."""
    text = str(value)
    if value is None or not text.strip():
        raise ParameterError(key, value, "must name a folder (empty, it would write into the working folder)")
    if "${" in text:  # e.g. outputs/${now:...}: check the fixed part before it
        text = os.path.dirname(text[: text.index("${")]) or "."
    path = Path(text).expanduser().absolute()
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ParameterError(key, value, f"must be a folder; {existing} is a file")
    created: list[Path] = []
    try:
        todo = []
        p = path
        while p != existing:
            todo.append(p)
            p = p.parent
        for p in reversed(todo):
            p.mkdir()
            created.append(p)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".write-check-")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise ParameterError(key, value, f"must be a folder that can be created and written to "
                                         f"({err.strerror or err})") from None
    finally:
        for p in reversed(created):
            try:
                p.rmdir()
            except OSError:
                pass


def save_hydra_record(out_dir: Path, cfg: DictConfig, overrides: list[str] | None = None,
                      config_text: str | None = None) -> list[str]:
    """Hydra's record of the run (``.hydra/``), written atomically once the run is validated
    (``hydra.output_subdir`` is null, so Hydra does not write it before the run is checked).
    ``overrides``: the run's own, for a run of a batch (the Hydra job's record is the batch's; the
    run's folder, overrides and override_dirname are put in). Returns the files written (relative
    to ``out_dir``); none outside a Hydra app. ``config_text``: ``cfg`` as YAML, if already written
    (:func:`config_texts`)."""
    from hydra.core.hydra_config import HydraConfig

    from experiments.outputs import write_text, yaml_text

    if not HydraConfig.initialized():
        return []
    hydra_cfg = _hydra_container(HydraConfig.get())
    if overrides is not None:
        hydra_cfg["overrides"]["task"] = list(overrides)
        hydra_cfg["job"]["override_dirname"] = Path(out_dir).name
        hydra_cfg["runtime"]["output_dir"] = str(Path(out_dir).absolute())
        hydra_cfg["sweep"]["subdir"] = "runs/${hydra:job.override_dirname}"  # as configs/config.yaml
        hydra_cfg["overrides"]["hydra"] = [o for o in hydra_cfg["overrides"]["hydra"]
                                           if not o.startswith("hydra.sweep.subdir=")]
    record = {
        "config.yaml": yaml_text(cfg) if config_text is None else config_text,
        "hydra.yaml": yaml_text({"hydra": hydra_cfg}),
        "overrides.yaml": yaml_text(hydra_cfg["overrides"]["task"]),
    }
    for name, text in record.items():
        write_text(out_dir / ".hydra" / name, text)
    return [f".hydra/{name}" for name in record]


_HYDRA_CONTAINER: dict[str, Any] = {}


def _hydra_container(hydra_cfg: DictConfig) -> dict:
    """A fresh plain copy of the Hydra job's config (converted once per job: the runs of a batch
    share it)."""
    if _HYDRA_CONTAINER.get("of") is not hydra_cfg:
        _HYDRA_CONTAINER.update({"of": hydra_cfg, "container": OmegaConf.to_container(hydra_cfg, enum_to_str=True)})
    return copy.deepcopy(_HYDRA_CONTAINER["container"])


def load_params(overrides: list[str] | None = None) -> ModelParams:
    """Compose and validate in one go: ``load_params(["strategy=peer_group", "n_graduates=500"])``."""
    return to_params(compose_config(overrides))


def _load_group(group: str, name: str, schema: type) -> Any:
    """``configs/<group>/<name>.yaml`` as a ``schema`` object, without Hydra's global state (so it
    also works inside a running Hydra app)."""
    path = check_config_dir() / group / f"{name}.yaml"
    if not path.is_file():
        choices = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise ParameterError(group, name, f"must be one of {choices}")
    return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(schema), OmegaConf.load(path)))


def load_population(name: str) -> PopulationParams:
    """The population ``configs/population/<name>.yaml`` as parameters."""
    return _load_group("population", name, PopulationParams)


def load_strategy(name: str) -> StrategyParams:
    """The strategy ``configs/strategy/<name>.yaml`` as parameters."""
    return _load_group("strategy", name, StrategyParams)


def load_area(overrides: list[str] | None = None) -> AreaConfig:
    """The area a report is sized for: ``configs/area/<choice>.yaml`` (``area=NAME``, default
    ``default``) with ``area.KEY=VALUE`` overrides in Hydra's syntax, checked.

    Raises :class:`ParameterError` (one line naming the key, the value and what is allowed) for an
    override that is not of the ``area`` group, a key the schema lacks (with the closest names), a
    wrong type or a value out of :data:`experiments.schemas.AREA_RANGES`. Reads no sweep: a price
    year's presence in the sweep's price index is checked by :func:`check_area_price_year`.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser, choice, values = OverridesParser.create(), "default", {}
    fields = {f.name: f for f in dataclasses.fields(AreaConfig)}
    for arg in overrides or []:
        key, _, raw = arg.partition("=")
        try:
            (o,) = parser.parse_overrides([arg])
        except Exception as err:  # noqa: BLE001 - a syntax error: one line naming the override
            words = " ".join(str(err).split()).split(" See https://")[0]
            raise ParameterError(key, raw, f"must be Hydra's override syntax, area.KEY=VALUE (Hydra: {words})") from None
        key = o.key_or_group
        if o.is_sweep_override() or o.is_delete() or o.is_add() or o.is_force_add():
            raise ParameterError(key, raw, "must be a single area.KEY=VALUE (no sweep, +, ++ or ~)")
        value = o.value()
        if key == "area":
            choice = value
            continue
        group, _, name = key.partition(".")
        if group != "area" or not name:
            raise ParameterError(key, value, "only the area group can be set after the sweep folder: area=NAME or "
                                             f"area.KEY=VALUE with KEY one of {sorted(fields)}")
        if name not in fields:
            close = difflib.get_close_matches(name, list(fields), n=3)
            hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
            raise ParameterError(key, value, f"not a key of the area: {hint}the keys are {sorted(fields)}")
        values[name] = value
    path = check_config_dir() / "area" / f"{choice}.yaml"
    if not isinstance(choice, str) or not path.is_file():
        choices = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise ParameterError("area", choice, f"must be one of {choices} (configs/area/)")
    given = OmegaConf.to_container(OmegaConf.load(path)) or {}
    unknown = sorted(set(given) - set(fields))
    if unknown:
        raise ParameterError(f"area.{unknown[0]}", given[unknown[0]], f"not a key of the area ({path}): the keys "
                                                                      f"are {sorted(fields)}")
    merged = {**given, **values}
    for name, value in merged.items():
        check_area_value(name, value)
    return AreaConfig(**{n: (Perspective(v) if n == "perspective" else v) for n, v in merged.items()})


def check_area_value(name: str, value: Any) -> None:
    """``area.<name>=value`` within :data:`experiments.schemas.AREA_RANGES` (or a perspective of
    :class:`experiments.schemas.Perspective`); raises :class:`ParameterError` naming the range."""
    key = f"area.{name}"
    if name == "perspective":
        names = [p.value for p in Perspective]
        if getattr(value, "value", value) not in names:
            raise ParameterError(key, value, f"must be one of {names} (nhs_pss: NHS and personal social services, "
                                             "NICE's reference case; societal: volunteer time costed too)")
        return
    if name == "price_year" and value is None:
        return  # the sweep's own price year
    lo, hi, whole = AREA_RANGES[name]
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number or (whole and not isinstance(value, int)) or not lo <= value <= hi:
        kind = "a whole number" if whole else "a number"
        extra = " or null (the sweep's costs.price_year)" if name == "price_year" else ""
        lo_text, hi_text = (f"{int(lo):,}", f"{int(hi):,}") if whole else (f"{lo:,g}", f"{hi:,g}")
        if name.endswith("price_year"):
            lo_text, hi_text = str(int(lo)), str(int(hi))
        raise ParameterError(key, value, f"must be {kind} from {lo_text} to {hi_text}{extra}")


def check_area_price_year(area: AreaConfig, costs: dict) -> None:
    """The area's price years are years of the sweep's price index (``costs``: a run's resolved
    ``costs`` block), so that every figure can be re-priced; raises :class:`ParameterError`."""
    index = {int(y) for y in (costs.get("inflation_index") or {})}
    for name in ("price_year", "volunteer_value_price_year"):
        year = getattr(area, name)
        if year is not None and year not in index:
            raise ParameterError(f"area.{name}", year, f"must be a year of the sweep's costs.inflation_index "
                                                       f"{sorted(index)}" + (" or null" if name == "price_year" else ""))


def model_config(cfg: DictConfig, resolved: dict | None = None) -> dict:
    """The resolved model part of a config as plain data (no ``hydra`` node). ``resolved``: the
    config already converted (:func:`config_texts`)."""
    data = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True) if resolved is None else dict(resolved)
    data.pop("hydra", None)
    return data


def config_texts(cfg: DictConfig, like: Any = None) -> tuple[str, str, dict]:
    """A run's config as YAML as composed (Hydra's ``.hydra/config.yaml``), as YAML resolved (the
    run's ``config.yaml``), and resolved as plain data (:func:`config_hash`): converted and written
    once, since a config without interpolations (``${...}``) reads the same resolved. Byte for byte
    what :func:`experiments.outputs.yaml_text` writes of ``cfg`` either way; about 15 ms a run
    less than converting it three times.

    ``like``: a key shared by runs whose configs differ in ``replicate`` alone (a sweep's batch:
    the run's other overrides and its base seed). The first such run's texts are reused for the
    others with their ``replicate:`` line, the one top-level line that differs (where the config
    has no interpolation, which could read the replicate, and the line is there once)."""
    from experiments.outputs import yaml_text

    replicate = cfg.get("replicate")
    known = _TEXTS.get(like) if like is not None else None
    if known is not None and isinstance(replicate, int) and not isinstance(replicate, bool):
        text, plain, was = known
        line = f"\nreplicate: {was}\n"
        if text.count(line) == 1:
            text = text.replace(line, f"\nreplicate: {replicate}\n")
            return text, text, {**plain, "replicate": replicate}
    plain = OmegaConf.to_container(cfg, resolve=False, enum_to_str=True)
    text = yaml_text(plain)
    if "${" not in text:
        if like is not None:
            if len(_TEXTS) >= 64:
                _TEXTS.clear()
            _TEXTS[like] = (text, plain, replicate)
        return text, text, plain
    resolved = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    return text, yaml_text(resolved), resolved


#: The config texts of a batch's runs, by the key of runs that differ in ``replicate`` alone
#: (:func:`config_texts`).
_TEXTS: dict[Any, tuple[str, dict, Any]] = {}


#: The model's code: its hash is part of every run's identity, so a code change reruns.
MODEL_CODE_DIR = Path(sim.__file__).resolve().parent


def code_hash(package_dir: Path | None = None) -> str:
    """A short hash of the model's source code (every ``*.py`` under ``package_dir``, by path;
    default the ``sim`` package, hashed once per process)."""
    return _hash_sources(Path(package_dir)) if package_dir is not None else _model_code_hash()


@functools.cache
def _model_code_hash() -> str:
    return _hash_sources(MODEL_CODE_DIR)


def _hash_sources(package_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(package_dir).rglob("*.py")):
        digest.update(path.relative_to(package_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def run_identity(params: ModelParams, engine: str = "vectorized") -> str:
    """What a run *is*, for resuming: the resolved model parameters (the seed actually used, PSA
    draws applied), the engine and the hash of the model's code. Bookkeeping (``replicates``,
    ``outputs.*``, the launcher, ``hydra.*``) is not part of it: raising ``replicates`` keeps the
    finished replicates, a code change reruns them."""
    data = {
        "params": dataclasses.asdict(params),
        "engine": getattr(engine, "value", str(engine)),
        "code": code_hash(),
    }
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def config_hash(cfg: DictConfig, resolved: dict | None = None) -> str:
    """A short, stable hash of the resolved model config and the package version: it identifies a
    run's inputs (a sweep skips a run whose folder holds a finished run with the same hash).
    ``resolved``: the config already converted to plain data, resolved (:func:`config_texts`)."""
    data = {"config": model_config(cfg, resolved), "package_version": sim.__version__}
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
