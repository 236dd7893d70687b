"""Every path of the checkout, built from one place.

Notebooks, scripts, tests and the paper build ask this module where things live, so no code
spells ``../../``. The checkout is found once: the folder named by ``GMM_CHECKOUT``, else the
nearest folder above the working directory, else above this file, that holds ``pipeline.yml``
and ``notebooks/``. Generated outputs (``figures/``, ``benchmarks/results/``, ``paper/build/``,
``build/``) are kept apart from the sources (``notebooks/``, ``paper/*.tex``, ``gmm/``).
"""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable naming the checkout explicitly.
CHECKOUT_ENV = "GMM_CHECKOUT"


def _is_checkout(folder: Path) -> bool:
    return (folder / "pipeline.yml").is_file() and (folder / "notebooks").is_dir()


def find_checkout() -> Path:
    """The repository checkout this companion works on (see the module docstring)."""
    named = os.environ.get(CHECKOUT_ENV, "").strip()
    if named:
        folder = Path(named).expanduser().resolve()
        if not _is_checkout(folder):
            raise FileNotFoundError(f"{CHECKOUT_ENV}={named} is not a gmm checkout (no pipeline.yml and notebooks/)")
        return folder
    for start in (Path.cwd().resolve(), Path(__file__).resolve().parent):
        for folder in (start, *start.parents):
            if _is_checkout(folder):
                return folder
    raise FileNotFoundError(
        "no gmm checkout found above the working directory or the package; the companion machinery "
        f"(pipeline, figures, numbers) works only in a checkout: cd into one or set {CHECKOUT_ENV}"
    )


REPO_ROOT = find_checkout()

# Sources
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
PAPER_DIR = REPO_ROOT / "paper"
PIPELINE_CONFIG = REPO_ROOT / "pipeline.yml"
LIBRARY_DIR = REPO_ROOT / "gmm"

# Generated outputs
FIGURES_DIR = REPO_ROOT / "figures"
BENCHMARK_RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
PAPER_BUILD_DIR = PAPER_DIR / "build"
#: Scratch outputs (fast runs, reruns for comparison); git-ignored.
SCRATCH_DIR = REPO_ROOT / "build"
