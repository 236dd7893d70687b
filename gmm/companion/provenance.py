"""Provenance declared by the call that writes a figure or a number.

Every :func:`gmm.companion.figures.save_figure` and :func:`gmm.companion.numbers.record_numbers`
call writes its own entry in ``figures/manifest.json`` (learned from showyourwork's
``\\script{}`` / ``\\variable{}``): the notebook and the cell that made the output, the parameters
of the run, the sha256 of the notebook's sources, of the input data it loaded (the data
registry's hashes) and of the library, the commit, and the output's own sha256. Nothing is
guessed after the run.

The pipeline sets ``GMM_RUN`` (a JSON object: notebook, parameters, mode, output folder) for
the notebook's kernel; a notebook run by hand has no such context and its entries say so
(``"pipeline": false``), which makes them stale.

:func:`stale_reasons` compares an entry with the checkout as it is now. The paper build
(``python -m gmm.companion.provenance --check``) fails on an output whose notebook, parameters
or input data changed since it was made, or whose file no longer matches its recorded hash;
the pipeline also reruns notebooks whose library code changed.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from gmm.companion import paths
from gmm.outputs import atomic_write

RUN_ENV = "GMM_RUN"
MANIFEST_NAME = "manifest.json"
#: Entry fields that say what an output was made from; an entry is rewritten only when one changes.
INPUT_FIELDS = ("notebook", "cell", "parameters", "mode", "notebook_sha256", "inputs", "library_sha256", "pipeline")


# ----------------------------------------------------------------------------- hashes
def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    return sha256_bytes(Path(path).read_bytes())


def _source_cells(notebook: Path) -> list[dict]:
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    kept = []
    for cell in cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            continue  # papermill's copy of the overrides: they are recorded as parameters
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        kept.append({"cell_type": cell["cell_type"], "source": source})
    return kept


def notebook_sha256(notebook: Path) -> str:
    """Hash of a notebook's sources (code and markdown), not of its outputs."""
    return sha256_bytes(json.dumps(_source_cells(notebook), sort_keys=True).encode("utf-8"))


def library_sha256(library_dir: Path | None = None) -> str:
    """Hash of every source file of the ``gmm`` package (its code and its data registry)."""
    library_dir = paths.LIBRARY_DIR if library_dir is None else Path(library_dir)
    digest = hashlib.sha256()
    for path in sorted(library_dir.rglob("*")):
        if path.suffix in (".py", ".csv") and "__pycache__" not in path.parts:
            digest.update(path.relative_to(library_dir).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def commit() -> str:
    """The checkout's commit (``unknown`` outside git), with ``+dirty`` for uncommitted changes."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=paths.REPO_ROOT, capture_output=True, text=True, check=True).stdout

    try:
        head = git("rev-parse", "HEAD").strip()
        dirty = bool(git("status", "--porcelain", "--untracked-files=no").strip())
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


# ----------------------------------------------------------------------------- parameters
def default_parameters(notebook: Path) -> dict:
    """The literals assigned in a notebook's cell tagged ``parameters`` (its defaults)."""
    for cell in json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            values = {}
            for node in ast.parse(source).body:
                if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                    values[node.targets[0].id] = ast.literal_eval(node.value)
                else:
                    raise ValueError(f"{notebook.name}: the parameters cell may hold only `name = literal` lines")
            return values
    raise ValueError(f"{notebook.name} has no cell tagged 'parameters'")


# ----------------------------------------------------------------------------- the run context
def run_context() -> dict | None:
    """The pipeline's description of the running notebook (``GMM_RUN``), or None by hand."""
    text = os.environ.get(RUN_ENV, "").strip()
    return json.loads(text) if text else None


def _current_cell(notebook: Path) -> int | None:
    """Index (in the source notebook) of the code cell now executing, found by its source."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None or not shell.user_ns.get("In"):
        return None
    running = shell.user_ns["In"][-1].strip()
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    for index, cell in enumerate(cells):
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        if cell["cell_type"] == "code" and source.strip() == running:
            return index
    return None


#: Prefix of an input that is a file of the checkout (e.g. a benchmark's results) rather than registry data.
FILE_INPUT = "file:"
_READ_FILES: dict[str, str] = {}


def read_result(relative_path: str) -> dict:
    """Read a JSON file of the checkout (e.g. ``benchmarks/results/bsds500.json``) as an input.

    Its hash joins the inputs of every output the run declares afterwards, so a notebook that
    shows a benchmark's results goes stale when the benchmark is rerun.
    """
    path = paths.REPO_ROOT / relative_path
    if not path.is_file():
        raise FileNotFoundError(f"{relative_path} not found in the checkout; run the command that makes it first")
    data = path.read_bytes()
    _READ_FILES[FILE_INPUT + Path(relative_path).as_posix()] = sha256_bytes(data)
    return json.loads(data)


def describe_inputs() -> dict:
    """The entry fields shared by every output of the current run (see the module docstring)."""
    from gmm.data.registry import loaded_files

    run = run_context()
    inputs = {**loaded_files(), **dict(sorted(_READ_FILES.items()))}
    base = {"inputs": inputs, "library_sha256": library_sha256(), "commit": commit()}
    if run is None:
        return {**base, "pipeline": False, "notebook": None, "cell": None, "parameters": None, "mode": None,
                "notebook_sha256": None}
    notebook = paths.NOTEBOOKS_DIR / run["notebook"]
    return {**base, "pipeline": True, "notebook": run["notebook"], "cell": _current_cell(notebook),
            "parameters": run["parameters"], "mode": run["mode"], "notebook_sha256": notebook_sha256(notebook)}


#: Where a notebook run by hand (Jupyter, nbval, papermill without the pipeline) saves: never the
#: committed ``figures/``, which only the pipeline writes, with provenance it can vouch for.
BY_HAND = "by-hand"


def output_root() -> Path:
    """Folder of figures, numbers and the manifest for this run.

    The pipeline names it (``figures/``, or a scratch folder); a notebook run by hand writes to
    ``build/by-hand/figures/`` (git-ignored), so re-executing a notebook outside the pipeline, as
    nbval does, never rewrites the committed outputs or their manifest.
    """
    run = run_context()
    if run and run.get("figures_dir"):
        return Path(run["figures_dir"])
    return paths.SCRATCH_DIR / BY_HAND / "figures"


# ----------------------------------------------------------------------------- the manifest
def load_manifest(path: Path) -> dict:
    if not Path(path).exists():
        return {"figures": {}, "numbers": {}}
    manifest = json.loads(Path(path).read_text(encoding="utf-8"))
    return {"figures": manifest.get("figures", {}), "numbers": manifest.get("numbers", {})}


def write_manifest(manifest: dict, path: Path) -> Path:
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    atomic_write(Path(path), text.encode("utf-8"))
    return Path(path)


def declare(section: str, name: str, written: Path, manifest_path: Path | None = None) -> dict:
    """Record that the current run wrote ``written`` as output ``name`` of ``section``.

    An existing entry with the same inputs and the same file hash is kept as it is (its commit
    included), so rerunning an unchanged notebook leaves the manifest byte for byte unchanged.
    """
    manifest_path = output_root() / MANIFEST_NAME if manifest_path is None else Path(manifest_path)
    entry = {**describe_inputs(), "sha256": sha256_file(written)}
    manifest = load_manifest(manifest_path)
    if not same_output(manifest[section].get(name), entry):
        manifest[section][name] = entry
        write_manifest(manifest, manifest_path)
    return manifest[section][name]


def same_output(old: dict | None, new: dict) -> bool:
    """Whether two entries describe the same file made from the same inputs (their commits may differ)."""
    return old is not None and all(old.get(k) == new.get(k) for k in (*INPUT_FIELDS, "sha256"))


def forget_notebook(notebook_name: str, manifest_path: Path) -> dict[str, dict]:
    """Drop every entry of one notebook (before it reruns, so outputs it no longer makes go).

    Returns the dropped entries, ``{section: {name: entry}}``, for :func:`keep_unchanged`.
    """
    manifest = load_manifest(manifest_path)
    dropped = {}
    for section_name, section in manifest.items():
        names = [n for n, e in section.items() if e.get("notebook") == notebook_name]
        dropped[section_name] = {name: section.pop(name) for name in names}
    write_manifest(manifest, manifest_path)
    return dropped


def keep_unchanged(previous: dict[str, dict], manifest_path: Path) -> None:
    """Put back the earlier entries (their commit included) of outputs a rerun made again unchanged.

    ``previous``: what :func:`forget_notebook` dropped before the rerun. Rerunning an unchanged
    notebook thus leaves the manifest byte for byte as it was, as :func:`declare` does.
    """
    manifest = load_manifest(manifest_path)
    restored = False
    for section, entries in previous.items():
        for name, old in entries.items():
            new = manifest[section].get(name)
            if new is not None and new != old and same_output(old, new):
                manifest[section][name] = old
                restored = True
    if restored:
        write_manifest(manifest, manifest_path)


# ----------------------------------------------------------------------------- staleness
def stale_reasons(entry: dict, file: Path, *, library: str | None = None, parameters: dict | None = None) -> list[str]:
    """Why an output no longer matches the checkout (empty when it is current).

    ``library``: also compare the library hash (the pipeline does; the paper check does not).
    ``parameters``: the parameters the pipeline would run the notebook with now.
    """
    from gmm.data.registry import registry

    reasons = []
    if not entry.get("pipeline"):
        return ["made outside the pipeline"]
    if not file.exists():
        return ["file missing"]
    if sha256_file(file) != entry["sha256"]:
        reasons.append("file changed since it was recorded")
    notebook = paths.NOTEBOOKS_DIR / entry["notebook"]
    if not notebook.exists():
        return [*reasons, f"notebook {entry['notebook']} no longer exists"]
    if notebook_sha256(notebook) != entry["notebook_sha256"]:
        reasons.append(f"notebook {entry['notebook']} changed")
    if parameters is not None and parameters != entry["parameters"]:
        reasons.append("parameters changed")
    known = registry()
    for name, digest in entry["inputs"].items():
        if name.startswith(FILE_INPUT):
            source = paths.REPO_ROOT / name.removeprefix(FILE_INPUT)
            if not source.is_file() or sha256_file(source) != digest:
                reasons.append(f"input file {name.removeprefix(FILE_INPUT)} changed")
        elif name not in known or known[name].sha256 != digest:
            reasons.append(f"input data {name!r} changed")
    if library is not None and library != entry["library_sha256"]:
        reasons.append("library code changed")
    return reasons


def check(figures_dir: Path | None = None) -> list[str]:
    """Problems of every recorded figure and number of ``figures_dir`` (the paper's inputs)."""
    figures_dir = paths.FIGURES_DIR if figures_dir is None else Path(figures_dir)
    manifest = load_manifest(figures_dir / MANIFEST_NAME)
    problems = []
    for section, label, where in (("figures", "figure", lambda name: figures_dir / name),
                                  ("numbers", "numbers", lambda name: figures_dir / "numbers" / f"{name}.json")):
        for name, entry in sorted(manifest[section].items()):
            problems += [f"{label} {name}: {r}" for r in stale_reasons(entry, where(name))]
            if entry.get("pipeline") and entry.get("mode") != "full":
                problems.append(f"{label} {name}: made in {entry.get('mode')!r} mode, not 'full'")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gmm.companion.provenance",
                                     description="Check that every recorded figure and number is current.")
    parser.add_argument("--check", action="store_true", help="exit 1 when an output is stale")
    parser.add_argument("--figures-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    problems = check(args.figures_dir)
    for problem in problems:
        print(f"stale: {problem}", file=sys.stderr)
    if not problems:
        print("provenance: every recorded figure and number is current", file=sys.stderr)
    return 1 if problems and args.check else 0


if __name__ == "__main__":
    raise SystemExit(main())
