# The two commands of the README: `make run` and `make test`. Each sets itself up on a fresh machine.
# `make slurm-test` checks sweeps on a real (single-node) SLURM cluster.
# Override the interpreter with `make test PYTHON=/path/to/python3.12`.
PYTHON ?=
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8765
TEST_ARGS ?=
PYTEST_WORKERS ?= auto

.PHONY: run test slurm-test venv dev bench bench-sweep bench-full browser dashboard clean help mutation

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/'

$(PY):
	@py=$$(sh scripts/find-python.sh "$(PYTHON)") || exit 1; \
	echo "creating $(VENV) with $$py"; "$$py" -m venv $(VENV)
	@$(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' || \
	  { echo "error: $(VENV) uses a Python older than 3.12; delete it and rerun"; exit 1; }

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dashboard: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dashboard]"
	@touch $@ $(VENV)/.installed

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@ $(VENV)/.installed $(VENV)/.installed-dashboard

venv: $(VENV)/.installed  ## create .venv and install the package
dev: $(VENV)/.installed-dev  ## create .venv and install the package with test tools

MAIN_REPLICATES ?= 10

run: venv  ## run the main job (compare every strategy), print the summary, write the report and print its path
	$(PY) -m experiments.run -m experiment=compare_strategies replicates=$(MAIN_REPLICATES) \
	  hydra/launcher=local hydra.sweep.dir=outputs/main
	$(PY) -m experiments.report outputs/main

browser:  ## install Debian's chromium for the browser tests, if missing (needs root or sudo)
	@sh scripts/install-browser.sh

dashboard: $(VENV)/.installed-dashboard  ## serve the interactive dashboard on http://127.0.0.1:$(PORT)
	SOLARA_TELEMETRY_MIXPANEL_ENABLE=False $(PY) -m solara run experiments/dashboard/app.py --host 127.0.0.1 --port $(PORT) --production

test: dev browser  ## run the whole test suite
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(TEST_ARGS)

MUTATION_DIR     ?= outputs/mutation
MUTATION_WORKERS ?= 2
MUTATION_MIN     ?= 90

# Not part of `make test`. mutmut mutates sim/costs.py, sim/economics.py and sim/health.py
# (config: [tool.mutmut] in pyproject.toml) in a fresh copy under $(MUTATION_DIR), so the working
# tree is never touched, then runs the selected fast tests against each mutant.
mutation: dev  ## mutation testing of the arithmetic (sim/costs.py, economics.py, health.py): fails below 90% killed (MUTATION_MIN)
	rm -rf $(MUTATION_DIR) && mkdir -p $(MUTATION_DIR)/tests
	cp -R sim pyproject.toml $(MUTATION_DIR)/ && cp -R tests/sim $(MUTATION_DIR)/tests/
	cd $(MUTATION_DIR) && $(abspath $(VENV))/bin/mutmut run --max-children $(MUTATION_WORKERS)
	cd $(MUTATION_DIR) && $(abspath $(PY)) $(CURDIR)/tests/sim/mutation_score.py \
	  --equivalents $(CURDIR)/tests/sim/mutation_equivalents.md --min $(MUTATION_MIN)

slurm-test: venv  ## start a single-node SLURM cluster here (root or sudo; installs Debian's SLURM), run sweeps through it, stop it
	$(PY) scripts/slurm_test.py

bench: venv  ## print model speed figures: one run per engine, and a batch of 100 runs against 100 runs one by one
	$(PY) benchmarks/bench_model.py
	$(PY) benchmarks/bench_batched.py

bench-sweep: venv  ## print sweep throughput, and each analysis workload (quick sizes) batched against one run at a time
	$(PY) benchmarks/bench_sweep.py
	$(PY) benchmarks/bench_workloads.py

bench-full: venv  ## every analysis workload at the size of issue 25's targets, batched against one run at a time (about an hour)
	$(PY) benchmarks/bench_workloads.py --full

clean:  ## remove the virtual environment and outputs
	rm -rf $(VENV) outputs multirun
