"""The notebook pipeline: configuration, figure discovery, manifest, and real (tiny) runs."""

from __future__ import annotations

import ast
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from gmm import paths, pipeline
from gmm.pipeline import PipelineError


def _notebook(*sources, parameters=None):
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    if parameters is not None:
        cell = new_code_cell(parameters)
        cell.metadata["tags"] = ["parameters"]
        nb.cells.append(cell)
    nb.cells.extend(new_code_cell(source) for source in sources)
    return nb


def _parameter_names(notebook_path):
    nb = nbformat.read(notebook_path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"{notebook_path.name} needs exactly one cell tagged 'parameters'"
    tree = ast.parse(cells[0].source)
    names = set()
    for node in tree.body:
        assert isinstance(node, ast.Assign), f"{notebook_path.name}: parameters cell must hold plain assignments"
        ast.literal_eval(node.value)  # plain literals only
        names.update(t.id for t in node.targets)
    return names


# ---------------------------------------------------------------- the committed configuration


def test_every_notebook_has_a_config_section_with_its_parameters():
    config = pipeline.load_config()
    notebooks = pipeline.notebook_paths()
    assert [nb.name[:2] for nb in notebooks] == sorted({nb.name[:2] for nb in notebooks}), "duplicate notebook numbers"
    assert {nb.stem for nb in notebooks} == set(config), "pipeline.yml sections and notebooks differ"
    for nb in notebooks:
        names = _parameter_names(nb)
        for mode in pipeline.MODES:
            given = set(pipeline.parameters_for(config, nb, mode))
            assert given <= names, f"{nb.stem}.{mode}: unknown parameters {sorted(given - names)}"
            assert pipeline.parameters_for(config, nb, mode)["fast"] is (mode == "fast")


def test_committed_run_never_shows_the_photos():
    config = pipeline.load_config()
    for stem, section in config.items():
        for mode in pipeline.MODES:
            assert section[mode].get("show_photo", False) is False, f"{stem}.{mode}: show_photo must stay false"


# ---------------------------------------------------------------- configuration errors


def test_load_config_rejects_missing_mode(tmp_path):
    path = tmp_path / "pipeline.yml"
    path.write_text("notebooks:\n  00_x:\n    full: {a: 1}\n")
    with pytest.raises(ValueError, match="00_x"):
        pipeline.load_config(path)


def test_load_config_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        pipeline.load_config(tmp_path / "absent.yml")


def test_select_by_number_and_stem(tmp_path):
    notebooks = [tmp_path / "00_a.ipynb", tmp_path / "01_b.ipynb", tmp_path / "02_c.ipynb"]
    assert pipeline.select(notebooks, ()) == notebooks
    assert pipeline.select(notebooks, ["02", "00_a"]) == [notebooks[0], notebooks[2]]
    with pytest.raises(ValueError, match="07"):
        pipeline.select(notebooks, ["07"])


def test_pipeline_refuses_to_show_photos(tmp_path):
    config = {"02_moose": {"full": {"show_photo": True}, "fast": {"show_photo": False}}}
    with pytest.raises(ValueError, match="show_photo"):
        pipeline.parameters_for(config, tmp_path / "02_moose.ipynb", "full")
    assert pipeline.parameters_for(config, tmp_path / "02_moose.ipynb", "fast") == {"show_photo": False}


def test_parameters_for_unknown_notebook(tmp_path):
    with pytest.raises(ValueError, match="no section"):
        pipeline.parameters_for({}, tmp_path / "05_new.ipynb", "full")
    with pytest.raises(ValueError, match="mode"):
        pipeline.parameters_for({"05_new": {"full": {}, "fast": {}}}, tmp_path / "05_new.ipynb", "slow")


# ---------------------------------------------------------------- figures and manifest


def test_saved_figures_finds_literal_names_and_formats():
    nb = _notebook(
        'x = 1',
        'print("saved", save_figure(fig, "03_fox_nose").name)',
        'save_figure(fig2, "03_fox_other", fmt="pdf", dpi=72)\nsave_figure(fig3, name="03_third")',
    )
    for i, cell in enumerate(nb.cells):
        cell.execution_count = i + 1
    found = pipeline.saved_figures(nb)
    assert found == {
        "03_fox_nose.png": {"cell": 1, "execution_count": 2},
        "03_fox_other.pdf": {"cell": 2, "execution_count": 3},
        "03_third.png": {"cell": 2, "execution_count": 3},
    }


def test_saved_figures_rejects_duplicates():
    nb = _notebook('save_figure(a, "01_x")', 'save_figure(b, "01_x")')
    with pytest.raises(PipelineError, match="01_x"):
        pipeline.saved_figures(nb)


def test_update_manifest_replaces_only_that_notebook(tmp_path):
    (tmp_path / "01_new.png").write_bytes(b"new")
    manifest = {"figures": {
        "00_keep.png": {"notebook": "00_a.ipynb", "cell": 1, "execution_count": 1, "mode": "full", "sha256": "x"},
        "01_old.png": {"notebook": "01_b.ipynb", "cell": 1, "execution_count": 1, "mode": "full", "sha256": "y"},
    }}
    updated = pipeline.update_manifest(manifest, tmp_path / "01_b.ipynb",
                                       {"01_new.png": {"cell": 4, "execution_count": 3}}, tmp_path, "fast")
    assert set(updated["figures"]) == {"00_keep.png", "01_new.png"}
    entry = updated["figures"]["01_new.png"]
    assert entry["mode"] == "fast" and entry["cell"] == 4
    assert entry["sha256"] == "11507a0e2f5e69d5dfa40a62a1bd7b6ee57e6bcd85c67c9b8431b36fff21c437"  # sha256(b"new")


def test_write_manifest_is_deterministic(tmp_path):
    a = {"figures": {"b.png": {"z": 1, "a": 2}, "a.png": {"y": 3}}}
    b = {"figures": {"a.png": {"y": 3}, "b.png": {"a": 2, "z": 1}}}
    pipeline.write_manifest(a, tmp_path / "a.json")
    pipeline.write_manifest(b, tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert json.loads((tmp_path / "a.json").read_text()) == a


# ---------------------------------------------------------------- real runs (one kernel each)


@pytest.fixture
def project(tmp_path):
    notebooks, figures = tmp_path / "notebooks", tmp_path / "figures"
    notebooks.mkdir()
    figures.mkdir()
    (tmp_path / "pipeline.yml").write_text(
        "notebooks:\n  97_tiny:\n    full: {value: 2, fast: false}\n    fast: {value: 1, fast: true}\n"
    )
    return tmp_path


def _run(project, mode="full"):
    return pipeline.run_pipeline(
        mode, notebooks_dir=project / "notebooks", figures_dir=project / "figures",
        config_path=project / "pipeline.yml", manifest_path=project / "figures" / "manifest.json",
    )


def test_run_executes_in_place_and_writes_the_manifest(project):
    figures = project / "figures"
    (figures / "97_stale.png").write_bytes(b"left over from an older run")
    nb = _notebook(
        "import matplotlib\nmatplotlib.use('Agg')\n"
        "import matplotlib.pyplot as plt\nfrom gmm.figures import save_figure",
        f"fig, ax = plt.subplots()\nax.plot([0, value])\n"
        f"print('saved', save_figure(fig, '97_line', directory={str(figures)!r}).name)",
        parameters="value = 0\nfast = False",
    )
    nbformat.write(nb, project / "notebooks" / "97_tiny.ipynb")
    (run,) = _run(project)
    executed = nbformat.read(project / "notebooks" / "97_tiny.ipynb", as_version=4)
    assert executed.cells[1].metadata["tags"] == ["injected-parameters"]
    assert "value = 2" in executed.cells[1].source
    assert executed.cells[-1].outputs[0]["text"] == "saved 97_line.png\n"
    assert "start_time" not in executed.metadata["papermill"]  # no run-dependent metadata
    assert not (figures / "97_stale.png").exists()
    manifest = json.loads((figures / "manifest.json").read_text())
    entry = manifest["figures"]["97_line.png"]
    assert entry["notebook"] == "97_tiny.ipynb" and entry["cell"] == 3 and entry["mode"] == "full"
    assert entry["sha256"] == pipeline.sha256_file(figures / "97_line.png")
    assert run.figures == {"97_line.png": {"cell": 3, "execution_count": 4}}  # parameters, injected, import, plot


def test_failing_cell_is_named_and_the_notebook_kept(project):
    nb = _notebook("x = value + 1", "raise ValueError('boom ' + str(x))", parameters="value = 0\nfast = False")
    path = project / "notebooks" / "97_tiny.ipynb"
    nbformat.write(nb, path)
    before = path.read_bytes()
    with pytest.raises(PipelineError, match=r"97_tiny\.ipynb: cell 3 .*ValueError: boom 3") as raised:
        _run(project)
    kept = Path(re.search(r"kept in (\S+)", str(raised.value)).group(1))
    failed_run = nbformat.read(kept, as_version=4)  # the failed run, with its traceback, for inspection
    assert failed_run.cells[-1].outputs[-1]["ename"] == "ValueError"
    shutil.rmtree(kept.parent)
    assert path.read_bytes() == before
    assert not (project / "figures" / "manifest.json").exists()


def test_main_reports_failure_with_exit_status(monkeypatch, capsys):
    def fail(*args, **kwargs):
        raise PipelineError("02_moose.ipynb: cell 4 (execution count 3) raised KeyError: 'x'")

    monkeypatch.setattr(pipeline, "run_pipeline", fail)
    assert pipeline.main(["--only", "02"]) == 1
    assert "02_moose.ipynb: cell 4" in capsys.readouterr().err


def test_default_paths_point_into_the_repository():
    assert pipeline.notebook_paths()[0].parent == paths.NOTEBOOKS_DIR
