# carbon-cpn: `make demo` sets everything up and runs a short train-and-evaluate job; `make test` runs the tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-all bench clean

# A regular (not editable) install: every editable mode of setuptools prints a notice, and the
# commands below run the working copy anyway (python -m from the repository root). The package
# is installed again whenever one of its files changes, so that `carbon-cpn` is never stale.
PKG_FILES := $(shell find carbon_cpn -type f -not -name '*.pyc' 2>/dev/null)
INSTALLED := $(VENV)/.package

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The CPU build of torch first, so that nothing pulls a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet ".[test]"
	touch $(STAMP)

$(INSTALLED): $(STAMP) $(PKG_FILES)
	$(BIN)/python -m pip install --quiet --no-deps --force-reinstall .
	touch $(INSTALLED)

setup: $(INSTALLED)

# A short train-and-evaluate run: Rainbow on the small scenario, then the trained agent, the
# random policy and the best heuristic (pfs) on the same three held-out episodes.
demo: $(INSTALLED)
	$(BIN)/python -m carbon_cpn train --algo rainbow --env CarbonCPN-Tiny-v0 --timesteps 40000 --seed 0 --out runs/demo-rainbow
	$(BIN)/python -m carbon_cpn evaluate --model runs/demo-rainbow/final_model.zip --env CarbonCPN-Tiny-v0 --episodes 3 --seed 100
	$(BIN)/python -m carbon_cpn evaluate --model random --env CarbonCPN-Tiny-v0 --episodes 3 --seed 100
	$(BIN)/python -m carbon_cpn evaluate --model pfs --env CarbonCPN-Tiny-v0 --episodes 3 --seed 100

test: $(INSTALLED)
	$(BIN)/python -m pytest -q -n 2 -m "not slow"

test-all: $(INSTALLED)
	$(BIN)/python -m pytest -q -n 2

bench: $(INSTALLED)
	$(BIN)/python benchmarks/perf.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
