"""The notebook pipeline: parameters, overrides, staleness, and real runs of two tiny notebooks.

The real runs work in a temporary checkout (``gmm.companion.paths`` monkeypatched, and
``GMM_CHECKOUT`` for the kernel) holding two notebooks that each save a figure and record numbers.
A module fixture runs the pipeline on it once; each test works on its own copy of the result.
"""

from __future__ import annotations

import ast
import io
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from gmm.companion import paths, pipeline, provenance, reproduce
from gmm.companion.pipeline import NotebookRun, PipelineError

# ------------------------------------------------------------------------------ the tiny checkout

IMPORTS = (
    "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
    "from gmm.companion.figures import save_figure\nfrom gmm.companion.numbers import record_numbers"
)
ALPHA = [
    'value = 2\nlabel = "full"',
    IMPORTS,
    "fig, ax = plt.subplots(figsize=(2, 1.5))\nax.plot([0, 1], [0, value])\nax.set_title(label)\n"
    "print('saved', save_figure(fig, '97_line', close=True).name)",
    "written = record_numbers('97_alpha', value=value, label=label)",
]
BETA = [
    "n = 3",
    IMPORTS,
    "fig, ax = plt.subplots(figsize=(2, 1.5))\nax.bar(range(n), range(n))\n"
    "written = save_figure(fig, '98_bars', close=True)",
    "written = record_numbers('98_beta', n=n, total=sum(range(n)))",
]
FAST = "fast:\n  97_alpha: {value: 1, label: fast}\n  98_beta: {}\n"
PLOT_CELL, NUMBERS_CELL = 3, 4  # after the title and the parameters and imports cells


def _notebook(parameters: str, *sources: str) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells.append(new_markdown_cell("# tiny"))
    cell = new_code_cell(parameters)
    cell.metadata["tags"] = ["parameters"]
    nb.cells.append(cell)
    nb.cells.extend(new_code_cell(source) for source in sources)
    return nb


def _use(root: Path, mp: pytest.MonkeyPatch) -> None:
    """Point the companion (this process and the kernels it starts) at the checkout ``root``."""
    for name, value in {"REPO_ROOT": root, "NOTEBOOKS_DIR": root / "notebooks", "FIGURES_DIR": root / "figures",
                        "LIBRARY_DIR": root / "gmm", "PIPELINE_CONFIG": root / "pipeline.yml",
                        "SCRATCH_DIR": root / "build", "PAPER_DIR": root / "paper"}.items():
        mp.setattr(paths, name, value)
    mp.setenv(paths.CHECKOUT_ENV, str(root))
    mp.delenv(provenance.RUN_ENV, raising=False)
    for key, value in pipeline.THREAD_ENV.items():  # run_pipeline sets these; undo it afterwards
        mp.setenv(key, value)


def _run(**kwargs) -> tuple[list[NotebookRun], str]:
    log = io.StringIO()
    runs = pipeline.run_pipeline(stream=log, **kwargs)
    return runs, log.getvalue()


def _snapshot(root: Path, skip: str | None = None) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not (skip and p.relative_to(root).parts[0] == skip)}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """A checkout with notebooks 97_alpha and 98_beta, after one full pipeline run."""
    root = tmp_path_factory.mktemp("first") / "checkout"
    (root / "notebooks").mkdir(parents=True)
    (root / "gmm").mkdir()
    (root / "gmm" / "core.py").write_text("x = 1\n")  # "the library": its hash is recorded
    (root / "pipeline.yml").write_text(FAST)
    nbformat.write(_notebook(*ALPHA), root / "notebooks" / "97_alpha.ipynb")
    nbformat.write(_notebook(*BETA), root / "notebooks" / "98_beta.ipynb")
    sources = {name: provenance.notebook_sha256(root / "notebooks" / name)
               for name in ("97_alpha.ipynb", "98_beta.ipynb")}
    with pytest.MonkeyPatch.context() as mp:
        _use(root, mp)
        runs, log = _run()
    return root, runs, log, sources


@pytest.fixture
def project(first_run, tmp_path, monkeypatch):
    """A fresh copy of the first run's checkout, which the companion now points at."""
    root = tmp_path / "checkout"
    shutil.copytree(first_run[0], root)
    _use(root, monkeypatch)
    return root


def _edit(path: Path, index: int, source: str | None) -> None:
    """Replace (or, with None, delete) cell ``index`` of a notebook."""
    nb = nbformat.read(path, as_version=4)
    if source is None:
        del nb.cells[index]
    else:
        nb.cells[index].source = source
    nbformat.write(nb, path)


# ------------------------------------------------------------------------------ real runs


def test_first_run_executes_every_notebook(first_run):
    root, runs, log, sources = first_run
    assert [run.path for run in runs] == [root / "notebooks" / "97_alpha.ipynb", root / "notebooks" / "98_beta.ipynb"]
    assert [run.figures for run in runs] == [["97_line.png"], ["98_bars.png"]]
    assert "97_alpha.ipynb: runs (no recorded output)" in log and "98_beta.ipynb: runs (no recorded output)" in log
    figures = root / "figures"
    assert sorted(p.name for p in figures.iterdir()) == ["97_line.png", "98_bars.png", "manifest.json", "numbers"]
    assert json.loads((figures / "numbers" / "97_alpha.json").read_text()) == {"label": "full", "value": 2}
    assert json.loads((figures / "numbers" / "98_beta.json").read_text()) == {"n": 3, "total": 3}
    manifest = json.loads((figures / "manifest.json").read_text())
    library = provenance.library_sha256(root / "gmm")
    for section, name, file, notebook, parameters, cell in [
        ("figures", "97_line.png", figures / "97_line.png", "97_alpha.ipynb", {"value": 2, "label": "full"}, PLOT_CELL),
        ("numbers", "97_alpha", figures / "numbers" / "97_alpha.json", "97_alpha.ipynb",
         {"value": 2, "label": "full"}, NUMBERS_CELL),
        ("figures", "98_bars.png", figures / "98_bars.png", "98_beta.ipynb", {"n": 3}, PLOT_CELL),
        ("numbers", "98_beta", figures / "numbers" / "98_beta.json", "98_beta.ipynb", {"n": 3}, NUMBERS_CELL),
    ]:
        entry = manifest[section].pop(name)
        assert entry == {
            "notebook": notebook, "cell": cell, "parameters": parameters, "mode": "full",
            "notebook_sha256": sources[notebook], "inputs": {}, "library_sha256": library,
            "commit": entry["commit"], "pipeline": True, "sha256": provenance.sha256_file(file),
        }, f"{section} {name}"
    assert manifest == {"figures": {}, "numbers": {}}
    # The committed notebook is the executed one, without run-dependent metadata or injected cells.
    executed = nbformat.read(root / "notebooks" / "97_alpha.ipynb", as_version=4)
    assert executed.cells[PLOT_CELL].outputs[0]["text"] == "saved 97_line.png\n"
    assert not any("injected-parameters" in cell.metadata.get("tags", []) for cell in executed.cells)
    assert executed.metadata["papermill"]["parameters"] == {}
    assert not set(pipeline._VOLATILE_NOTEBOOK_KEYS) & set(executed.metadata["papermill"])
    assert provenance.notebook_sha256(root / "notebooks" / "97_alpha.ipynb") == sources["97_alpha.ipynb"]


def test_outputs_of_a_run_are_current(project):
    assert provenance.check() == []
    library = provenance.library_sha256()
    for notebook in pipeline.notebook_paths():
        _, effective = pipeline.parameters_for(notebook, "full", pipeline.load_overrides())
        assert pipeline.stale_reasons(notebook, effective, paths.FIGURES_DIR, library) == []


def test_unchanged_checkout_runs_nothing_and_changes_nothing(project):
    before = _snapshot(project)
    runs, log = _run()
    assert runs == []
    assert "97_alpha.ipynb: up to date" in log and "98_beta.ipynb: up to date" in log
    assert _snapshot(project) == before


def test_all_reruns_everything_and_an_unchanged_run_changes_no_byte(project):
    manifest_path = project / "figures" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    for section in manifest.values():
        for entry in section.values():
            entry["commit"] = "0123abc"  # the outputs were made at an earlier commit
    provenance.write_manifest(manifest, manifest_path)
    before = _snapshot(project)
    runs, log = _run(run_all=True)
    assert [run.path.name for run in runs] == ["97_alpha.ipynb", "98_beta.ipynb"]
    assert "97_alpha.ipynb: runs (--all)" in log
    after = _snapshot(project)
    assert after.keys() == before.keys()
    assert [name for name in before if after[name] != before[name]] == []  # the commit of unchanged outputs kept


def test_an_edited_notebook_reruns_alone_and_its_dropped_outputs_go(project):
    beta = project / "notebooks" / "98_beta.ipynb"
    _edit(beta, PLOT_CELL, "fig, ax = plt.subplots(figsize=(2, 1.5))\nax.plot(range(n), 'o')\n"
                           "written = save_figure(fig, '98_dots', close=True)")
    _edit(beta, NUMBERS_CELL, None)  # it records no numbers any more
    before = _snapshot(project)
    runs, log = _run()
    assert [run.path.name for run in runs] == ["98_beta.ipynb"]
    assert "97_alpha.ipynb: up to date" in log
    assert re.search(r"98_beta\.ipynb: runs \(.*notebook 98_beta\.ipynb changed", log)
    after = _snapshot(project)
    for name in ("figures/97_line.png", "figures/numbers/97_alpha.json", "notebooks/97_alpha.ipynb"):
        assert after[name] == before[name], name
    assert "figures/98_bars.png" not in after, "a figure the notebook no longer saves stays behind"
    assert "figures/numbers/98_beta.json" not in after, "numbers the notebook no longer records stay behind"
    manifest = provenance.load_manifest(project / "figures" / "manifest.json")
    old = json.loads(before["figures/manifest.json"])
    assert manifest["figures"]["97_line.png"] == old["figures"]["97_line.png"]
    assert set(manifest["figures"]) == {"97_line.png", "98_dots.png"}
    assert set(manifest["numbers"]) == {"97_alpha"}
    assert manifest["figures"]["98_dots.png"]["cell"] == PLOT_CELL
    assert runs[0].figures == ["98_dots.png"]
    assert provenance.check() == []


def test_fast_run_writes_to_the_scratch_folder_only(project):
    before = _snapshot(project)
    runs, _ = _run(mode="fast", only=["97"])
    scratch = project / "build" / "fast"
    assert [run.path for run in runs] == [scratch / "notebooks" / "97_alpha.ipynb"]
    assert _snapshot(project, skip="build") == before, "a fast run touched the checkout"
    assert sorted(_snapshot(scratch)) == ["figures/97_line.png", "figures/manifest.json",
                                          "figures/numbers/97_alpha.json", "notebooks/97_alpha.ipynb"]
    assert json.loads((scratch / "figures" / "numbers" / "97_alpha.json").read_text()) == {"label": "fast", "value": 1}
    assert (scratch / "figures" / "97_line.png").read_bytes() != before["figures/97_line.png"]
    manifest = provenance.load_manifest(scratch / "figures" / "manifest.json")
    for entry in (manifest["figures"]["97_line.png"], manifest["numbers"]["97_alpha"]):
        assert entry["mode"] == "fast" and entry["parameters"] == {"value": 1, "label": "fast"}
    executed = nbformat.read(scratch / "notebooks" / "97_alpha.ipynb", as_version=4)
    injected = [cell for cell in executed.cells if "injected-parameters" in cell.metadata.get("tags", [])]
    assert len(injected) == 1 and injected[0].id == "injected-parameters" and "value = 1" in injected[0].source
    # The scratch outputs are current for the fast mode: a second fast run does nothing.
    runs, log = _run(mode="fast", only=["97_alpha"])
    assert runs == [] and "97_alpha.ipynb: up to date" in log


def test_a_rerun_into_a_folder_reproduces_the_checkout(project, tmp_path):
    before = _snapshot(project)
    runs, _ = _run(out=tmp_path / "rerun")
    assert [run.path for run in runs] == [tmp_path / "rerun" / "notebooks" / name
                                          for name in ("97_alpha.ipynb", "98_beta.ipynb")]
    assert _snapshot(project) == before
    assert reproduce.compare_figures(project / "figures", tmp_path / "rerun" / "figures") == []
    assert reproduce.compare_numbers(project / "figures", tmp_path / "rerun" / "figures") == []
    assert _snapshot(tmp_path / "rerun" / "notebooks") == {  # the same executed notebooks
        name.removeprefix("notebooks/"): data for name, data in before.items() if name.startswith("notebooks/")}


def test_a_failing_cell_is_named_and_the_notebook_kept(project):
    path = project / "notebooks" / "97_alpha.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(new_code_cell("raise ValueError('boom ' + str(value))"))
    nbformat.write(nb, path)
    before = path.read_bytes()
    with pytest.raises(PipelineError, match=r"97_alpha\.ipynb: cell 5 .*ValueError: boom 2") as raised:
        _run()
    kept = Path(re.search(r"kept in (\S+)", str(raised.value)).group(1))
    failed_run = nbformat.read(kept, as_version=4)  # the failed run, with its traceback, for inspection
    assert failed_run.cells[-1].outputs[-1]["ename"] == "ValueError"
    shutil.rmtree(kept.parent)
    assert path.read_bytes() == before
    # Its outputs were saved before the failing cell; it must still rerun next time.
    _, effective = pipeline.parameters_for(path, "full", pipeline.load_overrides())
    assert pipeline.stale_reasons(path, effective, project / "figures", provenance.library_sha256()) != []


# ------------------------------------------------------------------------------ the plan (no kernel)


@pytest.fixture
def planned(project, monkeypatch):
    """Record which notebooks run_pipeline would execute, with what, without executing them."""
    calls = []

    def fake(notebook, injected, effective, mode, *, figures_dir, notebook_out, timeout=None):
        calls.append({"notebook": notebook.name, "injected": injected, "effective": effective, "mode": mode,
                      "figures_dir": figures_dir, "notebook_out": notebook_out})
        return NotebookRun(notebook_out, 0.0, [])

    monkeypatch.setattr(pipeline, "execute_notebook", fake)
    return calls


def test_plan_library_change_reruns_everything(project, planned):
    _run()
    assert planned == []
    (project / "gmm" / "core.py").write_text("x = 2\n")
    _, log = _run()
    assert [call["notebook"] for call in planned] == ["97_alpha.ipynb", "98_beta.ipynb"]
    assert "97_line.png: library code changed" in log


def test_plan_changed_parameters_rerun(project, planned):
    _edit(project / "notebooks" / "98_beta.ipynb", 1, "n = 4")
    _, log = _run()
    assert [(call["notebook"], call["injected"], call["effective"]) for call in planned] == [
        ("98_beta.ipynb", {}, {"n": 4})]
    assert "parameters changed" in log and "notebook 98_beta.ipynb changed" in log


def test_plan_changed_or_missing_output_reruns(project, planned):
    (project / "figures" / "97_line.png").write_bytes(b"edited by hand")
    (project / "figures" / "numbers" / "98_beta.json").unlink()
    _, log = _run()
    assert [call["notebook"] for call in planned] == ["97_alpha.ipynb", "98_beta.ipynb"]
    assert "97_line.png: file changed since it was recorded" in log and "98_beta: file missing" in log


def test_plan_fast_and_out(project, planned, tmp_path):
    _run(mode="fast")
    _run(mode="fast", out=tmp_path / "elsewhere", only=["98"])
    _run(out=tmp_path / "rerun", run_all=True, only=["97_alpha"])
    scratch = project / "build" / "fast"
    assert planned == [
        {"notebook": "97_alpha.ipynb", "injected": {"value": 1, "label": "fast"},
         "effective": {"value": 1, "label": "fast"}, "mode": "fast", "figures_dir": scratch / "figures",
         "notebook_out": scratch / "notebooks" / "97_alpha.ipynb"},
        {"notebook": "98_beta.ipynb", "injected": {}, "effective": {"n": 3}, "mode": "fast",
         "figures_dir": scratch / "figures", "notebook_out": scratch / "notebooks" / "98_beta.ipynb"},
        {"notebook": "98_beta.ipynb", "injected": {}, "effective": {"n": 3}, "mode": "fast",
         "figures_dir": tmp_path / "elsewhere" / "figures",
         "notebook_out": tmp_path / "elsewhere" / "notebooks" / "98_beta.ipynb"},
        {"notebook": "97_alpha.ipynb", "injected": {}, "effective": {"value": 2, "label": "full"}, "mode": "full",
         "figures_dir": tmp_path / "rerun" / "figures",
         "notebook_out": tmp_path / "rerun" / "notebooks" / "97_alpha.ipynb"},
    ]


def test_overrides_of_an_undeclared_parameter_are_refused(project, planned):
    (project / "pipeline.yml").write_text("fast:\n  97_alpha: {value: 1, nope: 3}\n")
    with pytest.raises(ValueError, match=r"overrides \['nope'\] that 97_alpha.ipynb does not declare"):
        _run(mode="fast")
    assert planned == [] and not (project / "build" / "fast" / "notebooks").exists()
    with pytest.raises(ValueError, match="nope"):
        pipeline.parameters_for(project / "notebooks" / "97_alpha.ipynb", "fast", {"97_alpha": {"nope": 3}})
    # The full mode injects nothing, whatever pipeline.yml says.
    assert pipeline.parameters_for(project / "notebooks" / "97_alpha.ipynb", "full", {"97_alpha": {"value": 9}}) == (
        {}, {"value": 2, "label": "full"})


def test_show_photo_is_refused(tmp_path):
    shows = tmp_path / "02_shows.ipynb"
    nbformat.write(_notebook("show_photo = True", "show_photo"), shows)
    for mode in pipeline.MODES:
        with pytest.raises(ValueError, match="show_photo must be false"):
            pipeline.parameters_for(shows, mode, {})
    hides = tmp_path / "03_hides.ipynb"
    nbformat.write(_notebook("show_photo = False", "show_photo"), hides)
    assert pipeline.parameters_for(hides, "fast", {}) == ({}, {"show_photo": False})
    with pytest.raises(ValueError, match="show_photo must be false"):
        pipeline.parameters_for(hides, "fast", {"03_hides": {"show_photo": True}})


def test_parameters_for_unknown_mode(tmp_path):
    path = tmp_path / "05_x.ipynb"
    nbformat.write(_notebook("a = 1", "a"), path)
    with pytest.raises(ValueError, match="mode"):
        pipeline.parameters_for(path, "slow", {})


def test_load_overrides_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        pipeline.load_overrides(tmp_path / "absent.yml")
    for text, message in [("notebooks: {}\n", "top-level 'fast:'"), ("fast: [1]\n", "top-level 'fast:'"),
                          ("fast:\n  00_x: 3\n", "fast.00_x must be a mapping")]:
        (tmp_path / "p.yml").write_text(text)
        with pytest.raises(ValueError, match=re.escape(message)):
            pipeline.load_overrides(tmp_path / "p.yml")
    (tmp_path / "p.yml").write_text("fast:\n  00_x: {a: 1.0e-4, b: [1, 2]}\n")
    assert pipeline.load_overrides(tmp_path / "p.yml") == {"00_x": {"a": 1e-4, "b": [1, 2]}}


def test_select_by_number_and_stem(tmp_path):
    notebooks = [tmp_path / "00_a.ipynb", tmp_path / "01_b.ipynb", tmp_path / "02_c.ipynb"]
    assert pipeline.select(notebooks, ()) == notebooks
    assert pipeline.select(notebooks, ["02", "00_a"]) == [notebooks[0], notebooks[2]]
    with pytest.raises(ValueError, match="07"):
        pipeline.select(notebooks, ["07"])


def test_main_reports_failure_with_exit_status(monkeypatch, capsys):
    def fail(*args, **kwargs):
        raise PipelineError("02_moose.ipynb: cell 4 (execution count 3) raised KeyError: 'x'")

    monkeypatch.setattr(pipeline, "run_pipeline", fail)
    assert pipeline.main(["--only", "02"]) == 1
    assert "pipeline failed: 02_moose.ipynb: cell 4" in capsys.readouterr().err


def test_main_passes_its_options(monkeypatch, tmp_path):
    seen = {}

    def record(mode, only, **kwargs):
        seen.update(mode=mode, only=list(only), **kwargs)
        return []

    monkeypatch.setattr(pipeline, "run_pipeline", record)
    assert pipeline.main(["--fast", "--all", "--only", "01", "03_fox", "--out", str(tmp_path), "--timeout", "9"]) == 0
    assert seen == {"mode": "fast", "only": ["01", "03_fox"], "run_all": True, "out": tmp_path, "timeout": 9}


# ------------------------------------------------------------------------------ the committed notebooks

COMMITTED = pipeline.notebook_paths(paths.REPO_ROOT / "notebooks")


def _code_cells(path: Path) -> list[nbformat.NotebookNode]:
    return [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]


def _names_read(source: str) -> set[str]:
    """Every name a code cell loads (IPython magics translated to Python first)."""
    from IPython.core.inputtransformer2 import TransformerManager

    tree = ast.parse(TransformerManager().transform_cell(source))
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def test_committed_notebooks_are_numbered_once():
    assert len(COMMITTED) >= 6
    numbers = [nb.name[:2] for nb in COMMITTED]
    assert len(numbers) == len(set(numbers)), f"duplicate notebook numbers: {numbers}"
    assert pipeline.notebook_paths() == COMMITTED and COMMITTED[0].parent == paths.NOTEBOOKS_DIR


@pytest.mark.parametrize("notebook", COMMITTED, ids=lambda p: p.stem)
def test_committed_notebook_has_one_parameters_cell_of_literals(notebook):
    tagged = [cell for cell in _code_cells(notebook) if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{notebook.name} needs exactly one cell tagged 'parameters'"
    defaults = provenance.default_parameters(notebook)  # raises on anything but `name = literal`
    assert defaults, f"{notebook.name}: empty parameters cell"
    assert defaults.get("show_photo", False) is False


@pytest.mark.parametrize("notebook", COMMITTED, ids=lambda p: p.stem)
def test_committed_notebook_has_no_injected_parameters(notebook):
    injected = [i for i, cell in enumerate(nbformat.read(notebook, as_version=4).cells)
                if "injected-parameters" in cell.metadata.get("tags", [])]
    assert not injected, f"{notebook.name}: cells {injected} were injected by papermill; the full run injects nothing"
    assert nbformat.read(notebook, as_version=4).metadata.get("papermill", {}).get("parameters", {}) == {}


@pytest.mark.parametrize("notebook", COMMITTED, ids=lambda p: p.stem)
def test_committed_notebook_reads_every_parameter_it_declares(notebook):
    cells = _code_cells(notebook)
    read = set().union(*(_names_read(cell.source) for cell in cells
                         if "parameters" not in cell.metadata.get("tags", [])))
    unread = sorted(set(provenance.default_parameters(notebook)) - read)
    assert not unread, f"{notebook.name} declares parameters no cell reads: {unread}"


def test_fast_overrides_name_declared_parameters():
    overrides = pipeline.load_overrides(paths.PIPELINE_CONFIG)
    stems = {nb.stem for nb in COMMITTED}
    assert set(overrides) <= stems, f"pipeline.yml overrides unknown notebooks: {sorted(set(overrides) - stems)}"
    for notebook in COMMITTED:
        declared = provenance.default_parameters(notebook)
        assert set(overrides.get(notebook.stem, {})) <= set(declared), notebook.stem
        for mode in pipeline.MODES:
            injected, effective = pipeline.parameters_for(notebook, mode, overrides)  # refuses show_photo
            assert set(effective) == set(declared)
            assert injected == ({} if mode == "full" else overrides.get(notebook.stem, {}))
            for name, value in injected.items():
                assert type(value) is type(declared[name]), f"{notebook.stem}.{name}: {value!r} vs {declared[name]!r}"


def test_names_read_sees_through_magics_and_fstrings():
    assert _names_read("%matplotlib inline\nprint(f'{a:.2f}', b[c])\nd = 1") == {"get_ipython", "print", "a", "b", "c"}
