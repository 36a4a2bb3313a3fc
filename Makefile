# carbon-cpn: `make demo` sets everything up and runs a short train-and-evaluate job; `make test` runs the tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-all bench clean

# The package is installed in setuptools' strict editable mode (a tree of links to the working
# copy: the lenient mode warns about the envs/ optim/ agents/ folders mapped into carbon_cpn);
# a new module or data file needs the links made again, which LINKS does when any changes.
PKG_FILES := $(wildcard carbon_cpn/*.py carbon_cpn/*/*.py envs/*.py envs/scenarios/*.toml envs/data/*.* \
	envs/data/plans/*.npz optim/*.py agents/*.py agents/*/*.py agents/hyperparams/*.yml)
LINKS := $(VENV)/.linked

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The CPU build of torch first, so that nothing pulls a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[test]" --config-settings editable_mode=strict
	touch $(STAMP)

$(LINKS): $(STAMP) $(PKG_FILES)
	$(BIN)/python -m pip install --quiet --no-deps -e . --config-settings editable_mode=strict
	touch $(LINKS)

setup: $(LINKS)

# A short train-and-evaluate run: Rainbow on the small scenario, then the trained agent, the
# random policy and the best heuristic (pfs) on the same three held-out episodes.
demo: $(LINKS)
	$(BIN)/carbon-cpn train --algo rainbow --env CarbonCPN-Tiny-v0 --timesteps 40000 --seed 0 --out runs/demo-rainbow
	$(BIN)/carbon-cpn evaluate --model runs/demo-rainbow/final_model.zip --env CarbonCPN-Tiny-v0 --episodes 3 --seed 100
	$(BIN)/carbon-cpn evaluate --model random --env CarbonCPN-Tiny-v0 --episodes 3 --seed 100
	$(BIN)/carbon-cpn evaluate --model pfs --env CarbonCPN-Tiny-v0 --episodes 3 --seed 100

test: $(LINKS)
	$(BIN)/python -m pytest -q -n 2 -m "not slow"

test-all: $(LINKS)
	$(BIN)/python -m pytest -q -n 2

bench: $(LINKS)
	$(BIN)/python benchmarks/perf.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
