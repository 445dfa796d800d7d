"""``python -m experiments.sensitivity analysis=sensitivity_sobol``: global sensitivity analysis
(see :mod:`experiments.analyses.sensitivity`). This entry point owns ``@hydra.main``; the analysis
is :func:`~experiments.analyses.sensitivity.sensitivity_command` on the composed config."""

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from experiments.analyses.sensitivity import sensitivity_command
from experiments.config import check_config_dir


@hydra.main(version_base="1.3", config_path=str(check_config_dir()), config_name="config")
def main(cfg: DictConfig) -> None:
    code = sensitivity_command(cfg, Path(HydraConfig.get().runtime.output_dir))
    if code:
        sys.exit(code)


if __name__ == "__main__":
    main()
