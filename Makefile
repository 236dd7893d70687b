# One entry point. Every target builds the virtual environment from nothing first.
#   make figures   regenerate every figure of the paper (runs every notebook with papermill)
#   make test      unit tests, notebook tests (nbval), a rerun compared with the committed
#                  figures and numbers, and the paper build
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

# The licensed photos are never committed: they come from the data registry, which tries the
# local mirror named by GMM_DATA_MIRROR first (../shared/data beside the checkout, when present).
SHARED_DATA := $(abspath ../shared/data)
ifneq ($(wildcard $(SHARED_DATA)),)
export GMM_DATA_MIRROR ?= $(SHARED_DATA)
endif
# One BLAS/OpenMP thread (gmm's kernels follow OMP_NUM_THREADS; their results do not depend on it):
# every printed number is then the same on any machine.
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export MPLBACKEND := Agg
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: venv lock figures update figures-fast test unit nbval reproduce paper benchmark clean

venv: $(STAMP)

# Exact versions from requirements-lock.txt (made by `make lock`), then gmm itself without deps.
$(STAMP): pyproject.toml requirements-lock.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-lock.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (gmm)" > /dev/null
	touch $@

# The main job: execute every numbered notebook with papermill and rewrite figures/.
figures: $(STAMP)
	$(BIN)/python -m gmm.companion.pipeline --all

# Rerun only the notebooks whose outputs are stale (notebook, parameters, data or library changed).
update: $(STAMP)
	$(BIN)/python -m gmm.companion.pipeline

# Quick check of the pipeline: smaller images, fewer seeds, into build/fast/ (never committed).
figures-fast: $(STAMP)
	$(BIN)/python -m gmm.companion.pipeline --fast --all

# The test command: unit tests, the committed notebooks against their outputs, a full rerun
# compared with the committed figures (image similarity) and numbers (exactly), the paper.
test: unit nbval reproduce paper

unit: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider tests

nbval: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider --nbval --nbval-current-env \
		--nbval-sanitize-with notebooks/sanitize.cfg notebooks/

# Every notebook rerun into build/rerun/, then compared with what is committed.
reproduce: $(STAMP)
	rm -rf build/rerun
	$(BIN)/python -m gmm.companion.pipeline --all --out build/rerun
	$(BIN)/python -m gmm.companion.reproduce build/rerun/figures

# paper/paper.pdf with latexmk; installs Debian's TeX packages when missing (we are root here).
paper: $(STAMP)
	PYTHON=$(BIN)/python scripts/build-paper.sh

# gmm against scikit-learn (several minutes; not part of the tests). Threads as the machine has.
benchmark: $(STAMP)
	env -u OMP_NUM_THREADS -u OPENBLAS_NUM_THREADS -u MKL_NUM_THREADS $(BIN)/python benchmarks/bench_vs_sklearn.py

# Regenerate requirements-lock.txt: resolve pyproject.toml's dependencies in a fresh venv.
lock:
	rm -rf build/lock-venv
	$(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/python -m pip install --quiet --upgrade pip
	build/lock-venv/bin/python -m pip install --quiet '.[notebooks,tests,scale]'
	( echo "# Exact versions of every package the companion's environment uses (Python 3.11, Linux)."; \
	  echo "# Made by 'make lock' from pyproject.toml; 'make venv' installs from it."; \
	  build/lock-venv/bin/python -m pip freeze --exclude gmm ) > requirements-lock.txt
	rm -rf build/lock-venv

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis paper/build build
