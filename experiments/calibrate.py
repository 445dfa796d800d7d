"""``python -m experiments.calibrate analysis=calibrate``: calibrate the model to the evidence
(see :mod:`experiments.analyses.calibration`). ``debug=fast`` runs a tiny design of it.

The entry point owns Hydra (as lightning-hydra-template's entry files do): it composes the config,
records it in the run's folder (``.hydra/``, once the config has a calibration block) and turns a
bad value into one line and exit code 2. The calibration itself is a plain function of the
composed config, :func:`experiments.analyses.calibration.main`, which a notebook can call too.
"""

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from experiments.analyses import calibration
from experiments.config import check_config_dir, require_block, save_hydra_record
from experiments.outputs import EXIT_BAD_INPUT
from sim.params import ParameterError


@hydra.main(version_base="1.3", config_path=str(check_config_dir()), config_name="config")
def main(cfg: DictConfig) -> None:
    require_block(cfg, "calibration", "analysis=calibrate")  # before anything is written
    save_hydra_record(Path(HydraConfig.get().runtime.output_dir), cfg)  # Hydra's own no longer writes it
    try:
        calibration.main(cfg)
    except ParameterError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


if __name__ == "__main__":
    main()
