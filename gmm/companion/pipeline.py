"""Run the numbered notebooks with papermill: the stale ones, or all of them.

    python -m gmm.companion.pipeline [--all] [--fast] [--only NN ...] [--out DIR]

Each ``notebooks/NN_*.ipynb`` keeps its defaults in its cell tagged ``parameters``; the full
run injects nothing. ``pipeline.yml`` holds only the overrides of the fast mode (smaller images,
fewer seeds), and a fast run writes into a scratch folder (``build/fast/`` by default), never
over the committed outputs.

A notebook is rerun when it is stale: it has no recorded output, or one of its outputs' manifest
entries (:mod:`gmm.companion.provenance`, written by the calls that saved them) names a notebook,
parameters, input data or library code that changed since, or a file that no longer matches its
hash. ``--all`` reruns every notebook. With ``--out DIR`` the executed notebooks go to
``DIR/notebooks/`` and figures, numbers and manifest to ``DIR/figures/`` (how CI reruns everything
to compare with the committed outputs: :mod:`gmm.companion.reproduce`).

A failing notebook is named with its failing cell; its committed copy is left as it was (the failed
run is kept in a temporary folder, named in the message) and the exit status is non-zero.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from gmm.companion import paths, provenance
from gmm.outputs import atomic_write

MODES = ("full", "fast")
KERNEL_NAME = "python3"
#: One BLAS/OpenMP thread, as in the Makefile: printed numbers are then machine-independent.
THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
_NOTEBOOK = re.compile(r"^(\d{2})_[A-Za-z0-9_]+\.ipynb$")
# Papermill metadata that changes on every run; dropped so re-running an unchanged notebook
# leaves the committed file unchanged.
_VOLATILE_NOTEBOOK_KEYS = (
    "start_time", "end_time", "duration", "exception", "input_path", "output_path", "environment_variables",
)


class PipelineError(RuntimeError):
    """A notebook failed or its figures disagree with what it declared."""


@dataclass(frozen=True)
class NotebookRun:
    path: Path
    seconds: float
    figures: list[str]


# --------------------------------------------------------------------------------------------
# Configuration


def notebook_paths(notebooks_dir=None) -> list[Path]:
    """The numbered notebooks ``NN_*.ipynb``, in order."""
    notebooks_dir = paths.NOTEBOOKS_DIR if notebooks_dir is None else Path(notebooks_dir)
    return sorted(p for p in notebooks_dir.glob("*.ipynb") if _NOTEBOOK.match(p.name))


def load_overrides(path=None) -> dict[str, dict]:
    """``pipeline.yml``'s fast-mode overrides: ``{notebook stem: {parameter: value}}``, checked."""
    import yaml

    path = paths.PIPELINE_CONFIG if path is None else Path(path)
    if not path.exists():
        raise FileNotFoundError(f"pipeline configuration {path} not found")
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    fast = config.get("fast")
    if not isinstance(fast, dict):
        raise ValueError(f"{path}: expected a top-level 'fast:' mapping of notebook -> overrides")
    for stem, overrides in fast.items():
        if not isinstance(overrides, dict):
            raise ValueError(f"{path}: fast.{stem} must be a mapping of parameters")
    return fast


def parameters_for(notebook: Path, mode: str, overrides: dict) -> tuple[dict, dict]:
    """``(injected, effective)`` parameters of ``notebook`` in ``mode``.

    ``injected`` is what papermill passes (nothing in the full mode); ``effective`` the
    notebook's defaults updated by it, recorded in the provenance of every output.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    defaults = provenance.default_parameters(notebook)
    injected = dict(overrides.get(notebook.stem, {})) if mode == "fast" else {}
    unknown = set(injected) - set(defaults)
    if unknown:
        raise ValueError(f"pipeline.yml overrides {sorted(unknown)} that {notebook.name} does not declare")
    effective = {**defaults, **injected}
    if effective.get("show_photo"):
        raise ValueError(
            f"{notebook.stem}: show_photo must be false in the pipeline; the photos may not be redistributed "
            "(run the notebook by hand into a scratch copy to see them)"
        )
    return injected, effective


def select(notebooks: list[Path], only) -> list[Path]:
    """The notebooks whose number (``NN``) or stem is in ``only`` (all when ``only`` is empty)."""
    if not only:
        return notebooks
    wanted = {str(item) for item in only}
    chosen = [nb for nb in notebooks if nb.name[:2] in wanted or nb.stem in wanted]
    unknown = wanted - {nb.name[:2] for nb in chosen} - {nb.stem for nb in chosen}
    if unknown:
        raise ValueError(f"no notebook matches {sorted(unknown)}; have {[nb.stem for nb in notebooks]}")
    return chosen


def stale_reasons(notebook: Path, effective: dict, figures_dir: Path, library: str) -> list[str]:
    """Why ``notebook``'s recorded outputs in ``figures_dir`` are out of date (empty: current)."""
    manifest = provenance.load_manifest(figures_dir / provenance.MANIFEST_NAME)
    reasons = []
    files = {"figures": lambda name: figures_dir / name, "numbers": lambda name: figures_dir / "numbers" / f"{name}.json"}
    n_outputs = 0
    for section, where in files.items():
        for name, entry in manifest[section].items():
            if entry.get("notebook") == notebook.name:
                n_outputs += 1
                reasons += [f"{name}: {r}" for r in
                            provenance.stale_reasons(entry, where(name), library=library, parameters=effective)]
    return reasons if n_outputs else ["no recorded output"]


# --------------------------------------------------------------------------------------------
# Running


def _clean_metadata(nb, parameters):
    """Drop what changes from run to run: timestamps, temporary paths, random ids, stream splits."""
    meta = nb.metadata.get("papermill", {})
    for key in _VOLATILE_NOTEBOOK_KEYS:
        meta.pop(key, None)
    meta["parameters"] = parameters
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell["id"] = "injected-parameters"  # papermill draws a random id
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = _coalesce_streams(cell.outputs)
    return nb


def _coalesce_streams(outputs):
    """Join consecutive stdout (or stderr) outputs: the kernel splits a print at random places."""
    merged = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (output.output_type == "stream" and previous is not None and previous.output_type == "stream"
                and previous.name == output.name):
            previous.text += output.text
        else:
            merged.append(output)
    return merged


def _declared_figures(notebook: Path, figures_dir: Path) -> list[str]:
    manifest = provenance.load_manifest(figures_dir / provenance.MANIFEST_NAME)
    return sorted(name for name, entry in manifest["figures"].items() if entry.get("notebook") == notebook.name)


def execute_notebook(notebook: Path, injected: dict, effective: dict, mode: str, *, figures_dir: Path,
                     notebook_out: Path, timeout=None) -> NotebookRun:
    """Execute ``notebook`` with papermill, writing the executed copy to ``notebook_out`` on success.

    Its previous manifest entries are dropped first, so the entries after the run are exactly the
    outputs this run declared (an output made again unchanged keeps its old entry and commit); figure
    and numbers files of this notebook's number that it no longer makes are removed. Raises
    :class:`PipelineError` naming the failing cell, and leaves the notebook without entries (stale).
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    manifest_path = figures_dir / provenance.MANIFEST_NAME
    previous = provenance.forget_notebook(notebook.name, manifest_path)
    workdir = Path(tempfile.mkdtemp(prefix="gmm-pipeline-"))
    failed, tmp = workdir / f"{notebook.stem}.failed.ipynb", workdir / notebook.name
    context = {"notebook": notebook.name, "parameters": effective, "mode": mode, "figures_dir": str(figures_dir)}
    os.environ[provenance.RUN_ENV] = json.dumps(context)  # the kernel inherits it
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(notebook), str(tmp), parameters=injected, kernel_name=KERNEL_NAME, cwd=str(notebook.parent),
            progress_bar=False, log_output=False, execution_timeout=timeout,
        )
    except PapermillExecutionError as error:
        # What it declared before the failing cell must not make it look up to date next time.
        provenance.forget_notebook(notebook.name, manifest_path)
        if tmp.exists():
            os.replace(tmp, failed)
        raise PipelineError(
            f"{notebook.name}: cell {error.cell_index} (execution count {error.exec_count}) raised "
            f"{error.ename}: {error.evalue}\n  the failed run is kept in {failed}"
        ) from None
    except Exception as error:  # a dead kernel, a cell timeout, an unreadable notebook
        provenance.forget_notebook(notebook.name, manifest_path)
        shutil.rmtree(workdir, ignore_errors=True)
        raise PipelineError(f"{notebook.name}: {type(error).__name__}: {error}") from error
    finally:
        os.environ.pop(provenance.RUN_ENV, None)
    seconds = time.perf_counter() - start
    provenance.keep_unchanged(previous, manifest_path)  # unchanged outputs keep their entry, commit included
    declared = _declared_figures(notebook, figures_dir)
    number = notebook.name[:2]
    for stale in sorted(p.name for p in figures_dir.glob(f"{number}_*") if p.is_file()):
        if stale not in declared:
            (figures_dir / stale).unlink()
            print(f"  removed figure {stale}: {notebook.name} no longer makes it", file=sys.stderr)
    recorded = provenance.load_manifest(manifest_path)["numbers"]
    for stale in sorted((figures_dir / "numbers").glob(f"{number}_*.json")):
        if recorded.get(stale.stem, {}).get("notebook") != notebook.name:
            stale.unlink()
            print(f"  removed numbers {stale.name}: {notebook.name} no longer records them", file=sys.stderr)
    nb = nbformat.read(tmp, as_version=4)
    atomic_write(notebook_out, (nbformat.writes(_clean_metadata(nb, injected)) + "\n").encode("utf-8"))
    shutil.rmtree(workdir, ignore_errors=True)
    return NotebookRun(notebook_out, seconds, declared)


def run_pipeline(mode="full", only=(), *, run_all=False, out=None, notebooks_dir=None, config_path=None,
                 timeout=None, stream=sys.stderr) -> list[NotebookRun]:
    """Execute the selected stale notebooks (all with ``run_all``) in order.

    ``out``: scratch folder for the executed notebooks and the figures; the fast mode always
    uses one (``build/fast`` by default). Without it the full mode updates the checkout.
    """
    for key, value in THREAD_ENV.items():
        os.environ.setdefault(key, value)
    if mode == "fast" and out is None:
        out = paths.SCRATCH_DIR / "fast"
    if out is not None:
        out = Path(out).resolve()  # the kernel runs in notebooks/: a relative folder would land there
    figures_dir = paths.FIGURES_DIR if out is None else Path(out) / "figures"
    figures_dir.mkdir(parents=True, exist_ok=True)
    overrides = load_overrides(config_path)
    notebooks = select(notebook_paths(notebooks_dir), only)
    if not notebooks:
        raise PipelineError(f"no numbered notebooks found in {notebooks_dir or paths.NOTEBOOKS_DIR}")
    library = provenance.library_sha256()
    plan = []
    for notebook in notebooks:
        injected, effective = parameters_for(notebook, mode, overrides)
        reasons = ["--all"] if run_all else stale_reasons(notebook, effective, figures_dir, library)
        if reasons:
            plan.append((notebook, injected, effective))
            print(f"{notebook.name}: runs ({'; '.join(reasons[:3])}{' ...' if len(reasons) > 3 else ''})",
                  file=stream, flush=True)
        else:
            print(f"{notebook.name}: up to date", file=stream, flush=True)
    runs = []
    for notebook, injected, effective in plan:
        notebook_out = notebook if out is None else Path(out) / "notebooks" / notebook.name
        run = execute_notebook(notebook, injected, effective, mode, figures_dir=figures_dir,
                               notebook_out=notebook_out, timeout=timeout)
        runs.append(run)
        print(f"{notebook.name}: ok in {run.seconds:.1f} s, {len(run.figures)} figure(s)", file=stream, flush=True)
    return runs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gmm.companion.pipeline", description="Run the stale numbered notebooks (papermill)."
    )
    parser.add_argument("--all", action="store_true", help="rerun every selected notebook, stale or not")
    parser.add_argument("--fast", action="store_true",
                        help="the fast overrides of pipeline.yml, into a scratch folder (a quick check)")
    parser.add_argument("--only", nargs="+", default=(), metavar="NN", help="only these notebooks (number or stem)")
    parser.add_argument("--out", type=Path, default=None, help="write notebooks and figures under this folder")
    parser.add_argument("--timeout", type=int, default=None, help="per-cell timeout in seconds")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        runs = run_pipeline("fast" if args.fast else "full", args.only, run_all=args.all, out=args.out,
                            timeout=args.timeout)
    except (PipelineError, ValueError, FileNotFoundError) as error:
        print(f"pipeline failed: {error}", file=sys.stderr)
        return 1
    n_figures = sum(len(run.figures) for run in runs)
    total = time.perf_counter() - start
    print(f"pipeline: {len(runs)} notebook(s) run, {n_figures} figure(s) in {total:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
