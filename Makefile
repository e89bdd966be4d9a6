# goalrl: make install | run | test | bench. Everything installs into ./.venv with exact pins.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_DIR ?= runs/default

.PHONY: install run test test-fast bench bench-more explore explore-summary clean

install: $(STAMP)

# Re-installs only when the pins or package metadata change.
$(STAMP): setup.cfg pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

run: install
	$(BIN)/python -m goalrl.train --config=experiments/optimistic_dqn.py:minigrid --workdir=$(RUN_DIR)

# The whole suite on both cores (what .ci/run calls); test-fast: unit and shape tests only (no
# training run, no CLI subprocess) for the edit loop. Measured times: README.
test: install
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

test-fast: install
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup -m "not slow"

# Speed and memory tables (~12 min on 2 CPU cores); results in benchmarks/results/.
bench: install
	$(BIN)/python benchmarks/throughput.py
	$(BIN)/python benchmarks/replay_memory.py

bench-more: install
	$(BIN)/python benchmarks/stream_diversity.py
	$(BIN)/python benchmarks/seeds_sps.py
	$(BIN)/python benchmarks/latent_probe.py
	$(BIN)/python benchmarks/note_options.py
	$(BIN)/python benchmarks/atari_encoder.py --probe_updates 50

# Every agent on hard-exploration MiniGrid, 5 seeds (hours on 2 CPU cores; resumable: rerun to
# continue). explore-summary only summarises the runs under runs/exploration.
explore: install
	$(BIN)/python benchmarks/exploration.py

explore-summary: install
	$(BIN)/python benchmarks/exploration.py --summary_only

clean:
	rm -rf $(VENV) runs
