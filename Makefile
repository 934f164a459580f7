PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BENCH_VENV := .venv-bench
# torch is pinned: the CPU build of this release is what these machines install.
TORCH := torch==2.13.0

.PHONY: demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

demo: $(BIN)/python
	$(BIN)/python -m pip install -q $(TORCH)
	$(BIN)/python -m pip install -q -e ".[torch,demo]"
	$(BIN)/lamina demo

test: $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python -m pytest -n 2 --dist worksteal -q

bench:
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	# one resolver run, so that the torch pin and Keras's own requirements are settled together
	$(BENCH_VENV)/bin/python -m pip install -q -r requirements-dev.txt -r benchmarks/requirements.txt -e ".[dev]"
	$(BENCH_VENV)/bin/python benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(BENCH_VENV) model.keras
