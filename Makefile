# One entry point. Every target builds the virtual environment from nothing first.
#   make figures   regenerate every figure of the paper (runs the notebooks with papermill)
#   make test      unit tests, notebook tests (nbval) and the paper build
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
# One BLAS/OpenMP thread: k-means and every printed number are then the same on any machine.
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export MPLBACKEND := Agg
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: venv figures figures-fast test unit nbval paper benchmark clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[notebooks,tests,scale]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (gmm)" > /dev/null
	touch $@

# The main job: execute every numbered notebook with papermill and rewrite figures/.
figures: $(STAMP)
	$(BIN)/python -m gmm.pipeline

# Quick check of the pipeline: smaller images, fewer seeds (do not commit its outputs).
figures-fast: $(STAMP)
	$(BIN)/python -m gmm.pipeline --fast

# The test command: unit tests, the committed notebooks against their outputs, the paper.
test: unit nbval paper

unit: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider tests

nbval: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider --nbval --nbval-current-env \
		--nbval-sanitize-with notebooks/sanitize.cfg notebooks/

# paper/paper.pdf with latexmk; installs Debian's TeX packages when missing (we are root here).
paper: $(STAMP)
	PYTHON=$(BIN)/python scripts/build-paper.sh

# gmm against scikit-learn (several minutes; not part of the tests). Threads as the machine has.
benchmark: $(STAMP)
	env -u OMP_NUM_THREADS -u OPENBLAS_NUM_THREADS -u MKL_NUM_THREADS $(BIN)/python benchmarks/bench_vs_sklearn.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis paper/build
