"""Does a rerun reproduce the committed outputs? Figures by image similarity, numbers exactly.

    python -m gmm.companion.reproduce RERUN_FIGURES_DIR [--tol RMS]

``make test`` reruns every notebook into a scratch folder (``build/rerun``) and calls this on it.
Recorded numbers are written at the precision that is stable across machines, so they must be
equal exactly. Figures may differ by anti-aliasing and sub-pixel shifts of curves drawn from
fits that agree to about 1e-12, so they are compared with matplotlib's ``compare_images``: the
root-mean-square difference of the two images' grey values (0-255) must stay within
:data:`FIGURE_RMS_TOLERANCE`. A vector copy (a PDF for the paper) is drawn from the same figure as
its PNG sibling: it counts as reproduced when that PNG is, so no PDF rasteriser (ghostscript) is
needed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gmm.companion import paths, provenance

#: Largest RMS difference (grey levels, 0-255) between a committed figure and its rerun.
FIGURE_RMS_TOLERANCE = 2.0


def compare_figures(committed: Path, rerun: Path, tol: float = FIGURE_RMS_TOLERANCE) -> list[str]:
    """Problems of each committed figure (manifest entries) against its rerun copy."""
    problems = []
    figures = provenance.load_manifest(committed / provenance.MANIFEST_NAME)["figures"]
    rerun_figures = provenance.load_manifest(rerun / provenance.MANIFEST_NAME)["figures"]
    names = sorted(set(figures) | set(rerun_figures))
    failed = set()
    for name in names:
        problem = _presence_problem(name, figures, rerun_figures, committed, rerun)
        if problem is None and Path(name).suffix in COMPARED_BY_IMAGE:
            problem = _image_problem(committed / name, rerun / name, tol)
        if problem is not None:
            problems.append(f"{name}: {problem}")
            failed.add(name)
    for name in names:
        if Path(name).suffix not in COMPARED_BY_IMAGE and name not in failed:
            problem = _sibling_problem(name, figures, failed)
            if problem is not None:
                problems.append(f"{name}: {problem}")
    return problems


#: Figure files compared by image similarity; the others (PDF, SVG) by their PNG sibling.
COMPARED_BY_IMAGE = (".png",)


def _presence_problem(name, figures, rerun_figures, committed, rerun):
    """Why a figure cannot be compared (missing on one side), or None."""
    if name not in rerun_figures:
        return "committed but not made by the rerun"
    if name not in figures:
        return "made by the rerun but not committed"
    if not (committed / name).is_file() or not (rerun / name).is_file():
        side = "committed" if not (committed / name).is_file() else "rerun"
        return f"listed in the {side} manifest but its file is missing"
    return None


def _image_problem(committed_file: Path, rerun_file: Path, tol: float):
    """Why a rerun PNG differs from the committed one beyond ``tol`` RMS, or None."""
    from matplotlib.testing.compare import compare_images
    from matplotlib.testing.exceptions import ImageComparisonFailure

    if provenance.sha256_file(committed_file) == provenance.sha256_file(rerun_file):
        return None
    try:
        result = compare_images(str(committed_file), str(rerun_file), tol, in_decorator=True)
    except ImageComparisonFailure as error:  # e.g. the image sizes differ
        return str(error)
    return None if result is None else f"RMS {result['rms']:.2f} > {tol} (diff image {result['diff']})"


def _sibling_problem(name: str, figures: dict, failed: set):
    """Why a vector figure does not count as reproduced: its PNG sibling is not committed or failed."""
    sibling = str(Path(name).with_suffix(".png"))
    if sibling not in figures:
        return f"no committed PNG sibling {sibling} to compare it by"
    if sibling in failed:
        return f"its PNG sibling {sibling} was not reproduced"
    return None


def compare_numbers(committed: Path, rerun: Path) -> list[str]:
    """Every recorded number of the rerun must equal the committed one exactly."""
    problems = []
    old_files = {p.stem: p for p in (committed / "numbers").glob("*.json")}
    new_files = {p.stem: p for p in (rerun / "numbers").glob("*.json")}
    for stem in sorted(set(old_files) | set(new_files)):
        if stem not in new_files or stem not in old_files:
            problems.append(f"numbers {stem}: {'missing from the rerun' if stem not in new_files else 'not committed'}")
            continue
        old, new = json.loads(old_files[stem].read_text()), json.loads(new_files[stem].read_text())
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                problems.append(f"numbers {stem}/{key}: committed {old.get(key)!r}, rerun {new.get(key)!r}")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gmm.companion.reproduce", description=__doc__.splitlines()[0])
    parser.add_argument("rerun", type=Path, help="the rerun's figures folder (e.g. build/rerun/figures)")
    parser.add_argument("--tol", type=float, default=FIGURE_RMS_TOLERANCE)
    args = parser.parse_args(argv)
    problems = compare_figures(paths.FIGURES_DIR, args.rerun, args.tol) + compare_numbers(paths.FIGURES_DIR, args.rerun)
    for problem in problems:
        print(f"not reproduced: {problem}", file=sys.stderr)
    n_fig = len(provenance.load_manifest(paths.FIGURES_DIR / provenance.MANIFEST_NAME)["figures"])
    print(f"reproduce: {n_fig} figures (RMS tolerance {args.tol}) and every recorded number compared; "
          f"{len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
