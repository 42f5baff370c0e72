# Set-up-and-go targets. Each creates .venv when missing and installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The CPU build of torch lies on this machine's disk; pinning it here keeps pip
# from pulling a multi-GB CUDA build. pyproject.toml admits any torch>=2.2.
TORCH_PIN ?= torch==2.13.0

.PHONY: test test-fast test-1thread demo docs bench clean

$(VENV)/.installed: pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH_PIN)
	$(PY) -m pip install -q -e ".[dev,dask,docs]"
	touch $@

test: $(VENV)/.installed
	$(PY) -m pytest -q

# The tests that take under ~10 s each: a developer's quick loop.
test-fast: $(VENV)/.installed
	$(PY) -m pytest -q -m "not slow"

# Rounding-sensitive tests again on one thread, where kernels split their
# sums differently: results must not depend on the thread count.
test-1thread: $(VENV)/.installed
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest -q -m numerics

demo: $(VENV)/.installed
	$(PY) -m sklearn_hform.demo

docs: $(VENV)/.installed
	$(MAKE) -C docs html SPHINXBUILD=$(abspath $(VENV))/bin/sphinx-build

bench: $(VENV)/.installed
	$(PY) benchmarks/bench_featurize.py
	$(PY) benchmarks/bench_epoch.py
	$(PY) benchmarks/bench_gridsearch_threads.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache docs/_build docs/auto_examples
