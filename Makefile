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

.PHONY: venv figures figures-fast test unit nbval paper paper-deps benchmark clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[notebooks,tests,scale]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (gmm)" > /dev/null
	touch $@

test: unit

unit: $(STAMP)
	$(BIN)/python -m pytest tests

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
