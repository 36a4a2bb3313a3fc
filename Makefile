# carbon-cpn: `make demo` sets everything up and runs a short train-and-evaluate job; `make test` runs the tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-all bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The CPU build of torch first, so that nothing pulls a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

# A short train-and-evaluate run: Rainbow on the small scenario, then the trained agent, the
# random policy and the best heuristic (pfs) on the same three held-out episodes.
demo: $(STAMP)
	$(BIN)/carbon-cpn train --algo rainbow --env CarbonCPN-Tiny-v0 --timesteps 40000 --seed 0 --out runs/demo-rainbow
	$(BIN)/carbon-cpn evaluate --model runs/demo-rainbow/final_model.zip --env CarbonCPN-Tiny-v0 --episodes 3 --seed 100
	$(BIN)/carbon-cpn evaluate --model random --env CarbonCPN-Tiny-v0 --episodes 3 --seed 100
	$(BIN)/carbon-cpn evaluate --model pfs --env CarbonCPN-Tiny-v0 --episodes 3 --seed 100

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 -m "not slow"

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -n 2

bench: $(STAMP)
	$(BIN)/python benchmarks/perf.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
