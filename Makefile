# algolens: `make demo` and `make test` do all the set-up on a fresh machine.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test bench lint clean

install: $(STAMP)

# torch is installed first and pinned: its CPU wheel lies on this machine's disk;
# a bare `torch` requirement could pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev,ray]'
	touch $(STAMP)

demo: install
	$(BIN)/algolens demo

# Two pytest-xdist workers: the suite's CPU time spread over both cores of the reference machine
# (TEST_WORKERS=0 runs it in one process). Tests of one xdist_group share a worker.
TEST_WORKERS ?= 2

test: install
	$(BIN)/python -m pytest src tests -n $(TEST_WORKERS) --dist loadgroup --durations=15

bench: install
	$(BIN)/python benchmarks/run_all.py

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
