"""Every path the project uses, built from one place.

Notebooks, scripts, tests and the paper ask this module where things live, so no code
spells ``../../``. ``REPO_ROOT`` is the checkout that holds the ``gmm`` package; the
generated outputs (``figures/``, ``benchmarks/results/``, ``paper/build/``) are kept apart
from the sources (``notebooks/``, ``data/``, ``paper/*.tex``).
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent

# Sources
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
DATA_DIR = REPO_ROOT / "data"
PAPER_DIR = REPO_ROOT / "paper"
PIPELINE_CONFIG = REPO_ROOT / "pipeline.yml"

# Generated outputs
FIGURES_DIR = REPO_ROOT / "figures"
FIGURE_MANIFEST = FIGURES_DIR / "manifest.json"
BENCHMARK_RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
PAPER_BUILD_DIR = PAPER_DIR / "build"

#: Environment variable naming a local mirror folder of the registered data files.
DATA_MIRROR_ENV = "GMM_DATA_MIRROR"
#: Environment variable overriding pooch's cache folder.
DATA_CACHE_ENV = "GMM_DATA_CACHE"


def registry_file() -> Path:
    """Path of the data registry (``data/registry.csv`` in a checkout, bundled in a wheel)."""
    bundled = PACKAGE_DIR / "_registry.csv"
    return bundled if bundled.exists() else DATA_DIR / "registry.csv"


def data_mirror() -> Path | None:
    """The local mirror folder named by ``GMM_DATA_MIRROR``, or None when unset."""
    value = os.environ.get(DATA_MIRROR_ENV, "").strip()
    return Path(value).expanduser() if value else None


def figures_dir() -> Path:
    """Folder that figures are written to (created on demand)."""
    FIGURES_DIR.mkdir(parents=True, exist_ok=True)
    return FIGURES_DIR
