"""Run the numbered notebooks with papermill and record which notebook made which figure.

    python -m gmm.pipeline [--fast] [--only NN ...]

Every ``notebooks/NN_*.ipynb`` runs in order, in place (the executed notebooks, outputs
included, are committed), with the parameters of its section in ``pipeline.yml`` (``full`` or,
with ``--fast``, ``fast``). A notebook saves figures with ``gmm.figures.save_figure(fig,
"NN_name")``, always with a literal name, so a figure's source is readable in the notebook;
afterwards ``figures/manifest.json`` maps each figure file to its notebook, the cell that saved
it and its sha256. Key numbers land in ``figures/numbers/`` (:mod:`gmm.report`).

A failing notebook is named with its failing cell; the committed notebook is left as it was
(the failed run is kept in a temporary folder, named in the message) and the exit
status is non-zero.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from gmm import paths
from gmm.outputs import atomic_write

MODES = ("full", "fast")
KERNEL_NAME = "python3"
#: One BLAS/OpenMP thread, as in the Makefile: printed numbers are then machine-independent.
THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
_NOTEBOOK = re.compile(r"^(\d{2})_[A-Za-z0-9_]+\.ipynb$")
#: A save_figure call with a literal figure name (its first string argument).
SAVE_CALL = re.compile(r"save_figure\(\s*[^,()]+,\s*(?:name\s*=\s*)?[\"']([0-9]{2}_[A-Za-z0-9_-]+)[\"']([^)]*)\)")
_FMT = re.compile(r"fmt\s*=\s*[\"'](\w+)[\"']")
# Papermill metadata that changes on every run; dropped so re-running an unchanged notebook
# leaves the committed file unchanged.
_VOLATILE_NOTEBOOK_KEYS = (
    "start_time", "end_time", "duration", "exception", "input_path", "output_path", "environment_variables",
)


class PipelineError(RuntimeError):
    """A notebook failed or its figures disagree with its source."""


@dataclass(frozen=True)
class NotebookRun:
    path: Path
    seconds: float
    figures: dict[str, dict]


# --------------------------------------------------------------------------------------------
# Configuration


def notebook_paths(notebooks_dir=None) -> list[Path]:
    """The numbered notebooks ``NN_*.ipynb``, in order."""
    notebooks_dir = paths.NOTEBOOKS_DIR if notebooks_dir is None else Path(notebooks_dir)
    return sorted(p for p in notebooks_dir.glob("*.ipynb") if _NOTEBOOK.match(p.name))


def load_config(path=None) -> dict[str, dict]:
    """``pipeline.yml`` as ``{notebook stem: {"full": {...}, "fast": {...}}}``, checked."""
    import yaml

    path = paths.PIPELINE_CONFIG if path is None else Path(path)
    if not path.exists():
        raise FileNotFoundError(f"pipeline configuration {path} not found")
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    notebooks = config.get("notebooks")
    if not isinstance(notebooks, dict):
        raise ValueError(f"{path}: expected a top-level 'notebooks:' mapping")
    for stem, section in notebooks.items():
        if not isinstance(section, dict) or set(section) != set(MODES):
            raise ValueError(f"{path}: notebook {stem!r} needs exactly the sections {MODES}, got {section!r}")
        for mode in MODES:
            if not isinstance(section[mode], dict):
                raise ValueError(f"{path}: {stem}.{mode} must be a mapping of parameters")
    return notebooks


def parameters_for(config: dict, notebook: Path, mode: str) -> dict:
    """Parameters of ``notebook`` in ``mode``; every notebook must have a section."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if notebook.stem not in config:
        raise ValueError(f"pipeline.yml has no section for notebook {notebook.stem!r}")
    parameters = dict(config[notebook.stem][mode])
    if parameters.get("show_photo"):
        raise ValueError(
            f"{notebook.stem}: show_photo must be false in pipeline.yml; the photos may not be redistributed "
            "(run the notebook by hand into a scratch copy to see them)"
        )
    return parameters


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


# --------------------------------------------------------------------------------------------
# Figures saved by a notebook


def saved_figures(nb) -> dict[str, dict]:
    """Figure file names saved by an executed notebook's code cells, with the saving cell.

    Returns ``{file name: {"cell": index in nb.cells, "execution_count": n}}``.
    """
    found = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for match in SAVE_CALL.finditer(cell.source):
            fmt = _FMT.search(match.group(2))
            name = f"{match.group(1)}.{fmt.group(1) if fmt else 'png'}"
            if name in found:
                raise PipelineError(f"figure {name} is saved by two cells ({found[name]['cell']} and {index})")
            found[name] = {"cell": index, "execution_count": cell.get("execution_count")}
    return found


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def figures_of(number: str, figures_dir: Path) -> set[str]:
    """Figure files in ``figures_dir`` whose name starts with the notebook number ``NN_``."""
    return {p.name for p in figures_dir.glob(f"{number}_*") if p.is_file() and not p.name.startswith(".")}


def _stat_keys(number: str, figures_dir: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime) of each figure of notebook ``number``: save_figure's atomic replace changes both."""
    keys = {}
    for name in figures_of(number, figures_dir):
        stat = (figures_dir / name).stat()
        keys[name] = (stat.st_ino, stat.st_mtime_ns)
    return keys


def load_manifest(path=None) -> dict:
    path = paths.FIGURE_MANIFEST if path is None else Path(path)
    if not path.exists():
        return {"figures": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def write_manifest(manifest: dict, path=None) -> Path:
    """Write the manifest with sorted keys, so the same figures give the same file."""
    path = paths.FIGURE_MANIFEST if path is None else Path(path)
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    atomic_write(path, text.encode("utf-8"))
    return path


def update_manifest(manifest: dict, notebook: Path, figures: dict[str, dict], figures_dir: Path, mode: str) -> dict:
    """Replace ``notebook``'s entries in ``manifest`` with ``figures`` (hashes read from disk).

    Each entry records the ``mode`` it was made in, so a ``--fast`` run cannot pass for the
    committed one (``tests/test_figures_manifest.py`` requires ``full``).
    """
    rel = notebook.name
    entries = {name: e for name, e in manifest.get("figures", {}).items() if e.get("notebook") != rel}
    for name, where in figures.items():
        entries[name] = {"notebook": rel, **where, "mode": mode, "sha256": sha256_file(figures_dir / name)}
    return {"figures": dict(sorted(entries.items()))}


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


def execute_notebook(notebook: Path, parameters: dict, *, figures_dir: Path, timeout=None) -> NotebookRun:
    """Execute ``notebook`` in place with ``parameters``; return its figures.

    The run writes to a hidden temporary notebook and replaces ``notebook`` only on success.
    Raises :class:`PipelineError` naming the failing cell, or when the figure files the run
    wrote differ from the ``save_figure`` calls in its source.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    number = notebook.name[:2]
    # Papermill writes as it goes; keep its output out of the checkout until the run succeeded.
    workdir = Path(tempfile.mkdtemp(prefix="gmm-pipeline-"))
    failed = workdir / f"{notebook.stem}.failed.ipynb"
    tmp = workdir / notebook.name
    before = _stat_keys(number, figures_dir)
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(notebook), str(tmp), parameters=parameters, kernel_name=KERNEL_NAME, cwd=str(notebook.parent),
            progress_bar=False, log_output=False, execution_timeout=timeout,
        )
    except PapermillExecutionError as error:
        if tmp.exists():
            os.replace(tmp, failed)
        raise PipelineError(
            f"{notebook.name}: cell {error.cell_index} (execution count {error.exec_count}) raised "
            f"{error.ename}: {error.evalue}\n  the failed run is kept in {failed}"
        ) from None
    except Exception as error:  # a dead kernel, a cell timeout, an unreadable notebook
        shutil.rmtree(workdir, ignore_errors=True)
        raise PipelineError(f"{notebook.name}: {type(error).__name__}: {error}") from error
    seconds = time.perf_counter() - start
    nb = nbformat.read(tmp, as_version=4)
    figures = saved_figures(nb)
    written = {name for name, key in _stat_keys(number, figures_dir).items() if before.get(name) != key}
    if written != set(figures):
        shutil.rmtree(workdir, ignore_errors=True)
        raise PipelineError(
            f"{notebook.name}: figures written {sorted(written)} differ from the save_figure calls with literal "
            f"names in its cells {sorted(figures)}"
        )
    for stale in sorted(figures_of(number, figures_dir) - written):
        (figures_dir / stale).unlink()
        print(f"  removed stale figure {stale}", file=sys.stderr)
    atomic_write(notebook, (nbformat.writes(_clean_metadata(nb, parameters)) + "\n").encode("utf-8"))
    shutil.rmtree(workdir, ignore_errors=True)
    return NotebookRun(notebook, seconds, figures)


def run_pipeline(mode="full", only=(), *, notebooks_dir=None, figures_dir=None, config_path=None, manifest_path=None,
                 timeout=None, stream=sys.stderr) -> list[NotebookRun]:
    """Execute the selected notebooks in order and update the manifest after each success."""
    for key, value in THREAD_ENV.items():
        os.environ.setdefault(key, value)
    figures_dir = paths.figures_dir() if figures_dir is None else Path(figures_dir)
    config = load_config(config_path)
    notebooks = select(notebook_paths(notebooks_dir), only)
    if not notebooks:
        raise PipelineError(f"no numbered notebooks found in {notebooks_dir or paths.NOTEBOOKS_DIR}")
    plan = [(nb, parameters_for(config, nb, mode)) for nb in notebooks]
    runs = []
    bar = _progress(len(plan), stream)
    for notebook, parameters in plan:
        if bar is not None:
            bar.set_description(notebook.stem)
        run = execute_notebook(notebook, parameters, figures_dir=figures_dir, timeout=timeout)
        manifest = update_manifest(load_manifest(manifest_path), notebook, run.figures, figures_dir, mode)
        write_manifest(manifest, manifest_path)
        runs.append(run)
        if bar is not None:
            bar.update(1)
        else:
            print(f"{notebook.name}: ok in {run.seconds:.1f} s, {len(run.figures)} figure(s)", file=stream, flush=True)
    if bar is not None:
        bar.close()
    return runs


def _progress(total, stream):
    if not (hasattr(stream, "isatty") and stream.isatty()):
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="notebook", file=stream)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gmm.pipeline", description="Run the numbered notebooks (papermill) and rebuild figures/."
    )
    parser.add_argument("--fast", action="store_true", help="use the 'fast' parameters of pipeline.yml (quick check)")
    parser.add_argument("--only", nargs="+", default=(), metavar="NN", help="run only these notebooks (number or stem)")
    parser.add_argument("--timeout", type=int, default=None, help="per-cell timeout in seconds")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        runs = run_pipeline("fast" if args.fast else "full", args.only, timeout=args.timeout)
    except (PipelineError, ValueError, FileNotFoundError) as error:
        print(f"pipeline failed: {error}", file=sys.stderr)
        return 1
    n_figures = sum(len(run.figures) for run in runs)
    total = time.perf_counter() - start
    print(f"pipeline: {len(runs)} notebook(s), {n_figures} figure(s) in {total:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
