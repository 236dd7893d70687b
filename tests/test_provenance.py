"""Declared provenance: the manifest entries written by save_figure and record_numbers, staleness,
the paper's provenance check, and the two writers themselves (gmm.companion.figures, .numbers).

Most tests work in a temporary "checkout" (``paths`` constants monkeypatched); the committed
``figures/`` folder is checked as it is (``test_committed_outputs_are_current``) and through a
doctored copy.
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output  # noqa: E402

from gmm.companion import numbers, paths, provenance  # noqa: E402
from gmm.companion.figures import figure_path, output_dir, save_figure  # noqa: E402
from gmm.companion.numbers import below, latex_numbers, load_numbers, record_numbers, write_latex_numbers  # noqa: E402

# gmm.data re-exports the function registry(), which hides the module of that name.
reg = importlib.import_module("gmm.data.registry")
FOX_SHA = reg.registry()["fox"].sha256
ENTRY_FIELDS = {*provenance.INPUT_FIELDS, "commit", "sha256"}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _notebook(parameters: str, *sources: str) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells.append(new_markdown_cell("# demo"))
    cell = new_code_cell(parameters)
    cell.metadata["tags"] = ["parameters"]
    nb.cells.append(cell)
    nb.cells.extend(new_code_cell(source) for source in sources)
    return nb


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A tiny checkout: one notebook, a library folder, an empty figures/; no run context, no data loaded."""
    root = tmp_path / "checkout"
    (root / "notebooks").mkdir(parents=True)
    (root / "gmm").mkdir()
    (root / "gmm" / "core.py").write_text("x = 1\n")
    (root / "figures").mkdir()
    (root / "pipeline.yml").write_text("fast: {}\n")
    nbformat.write(_notebook("value = 2", "y = value + 1", "print(y)"), root / "notebooks" / "97_demo.ipynb")
    for name, value in {"REPO_ROOT": root, "NOTEBOOKS_DIR": root / "notebooks", "FIGURES_DIR": root / "figures",
                        "LIBRARY_DIR": root / "gmm", "PIPELINE_CONFIG": root / "pipeline.yml",
                        "SCRATCH_DIR": root / "build"}.items():
        monkeypatch.setattr(paths, name, value)
    monkeypatch.delenv(provenance.RUN_ENV, raising=False)
    monkeypatch.setattr(reg, "_LOADED", {})
    monkeypatch.setattr(provenance, "commit", lambda: "c0ffee")
    return root


def _in_pipeline(monkeypatch, root, parameters=None, mode="full", figures_dir=None):
    context = {"notebook": "97_demo.ipynb", "parameters": {"value": 2} if parameters is None else parameters,
               "mode": mode, "figures_dir": str(root / "figures" if figures_dir is None else figures_dir)}
    monkeypatch.setenv(provenance.RUN_ENV, json.dumps(context))


def _declared(root, monkeypatch, data=b"figure bytes"):
    """A figure file in figures/ declared by the pipeline's run of 97_demo (which loaded the fox photo)."""
    _in_pipeline(monkeypatch, root)
    reg._LOADED["fox"] = FOX_SHA
    written = root / "figures" / "97_x.png"
    written.write_bytes(data)
    return provenance.declare("figures", written.name, written), written


# =============================================================================== declare


def test_declare_writes_an_entry_with_every_field(checkout, monkeypatch):
    entry, written = _declared(checkout, monkeypatch)
    notebook = checkout / "notebooks" / "97_demo.ipynb"
    assert entry == {
        "notebook": "97_demo.ipynb",
        "cell": None,  # no IPython shell runs this test
        "parameters": {"value": 2},
        "mode": "full",
        "notebook_sha256": provenance.notebook_sha256(notebook),
        "inputs": {"fox": FOX_SHA},
        "library_sha256": provenance.library_sha256(checkout / "gmm"),
        "commit": "c0ffee",
        "pipeline": True,
        "sha256": provenance.sha256_bytes(b"figure bytes"),
    }
    assert set(entry) == ENTRY_FIELDS
    manifest = json.loads((checkout / "figures" / provenance.MANIFEST_NAME).read_text())
    assert manifest == {"figures": {"97_x.png": entry}, "numbers": {}}
    assert provenance.stale_reasons(entry, written, library=provenance.library_sha256(), parameters={"value": 2}) == []


def test_declare_outside_the_pipeline_says_so(checkout):
    written = checkout / "figures" / "97_x.png"
    written.write_bytes(b"by hand")
    entry = provenance.declare("figures", "97_x.png", written)
    assert entry["pipeline"] is False and entry["notebook"] is None and entry["mode"] is None
    assert set(entry) == ENTRY_FIELDS
    assert provenance.stale_reasons(entry, written) == ["made outside the pipeline"]


def test_redeclaring_an_unchanged_output_keeps_the_manifest_bytes(checkout, monkeypatch):
    _declared(checkout, monkeypatch)
    manifest = checkout / "figures" / provenance.MANIFEST_NAME
    before = manifest.read_bytes()
    monkeypatch.setattr(provenance, "commit", lambda: "beef")  # a later commit, same inputs and bytes
    entry = provenance.declare("figures", "97_x.png", checkout / "figures" / "97_x.png")
    assert entry["commit"] == "c0ffee"
    assert manifest.read_bytes() == before
    # A changed file is a new output: its entry (and its commit) is rewritten.
    (checkout / "figures" / "97_x.png").write_bytes(b"other bytes")
    entry = provenance.declare("figures", "97_x.png", checkout / "figures" / "97_x.png")
    assert entry["commit"] == "beef" and entry["sha256"] == provenance.sha256_bytes(b"other bytes")
    assert json.loads(manifest.read_text())["figures"]["97_x.png"] == entry


def test_declare_keeps_the_other_entries_and_sections(checkout, monkeypatch):
    _declared(checkout, monkeypatch)
    numbers_file = checkout / "figures" / "numbers" / "97_demo.json"
    numbers_file.parent.mkdir()
    numbers_file.write_text('{"a": 1}\n')
    provenance.declare("numbers", "97_demo", numbers_file)
    manifest = provenance.load_manifest(checkout / "figures" / provenance.MANIFEST_NAME)
    assert set(manifest["figures"]) == {"97_x.png"} and set(manifest["numbers"]) == {"97_demo"}
    provenance.forget_notebook("97_demo.ipynb", checkout / "figures" / provenance.MANIFEST_NAME)
    assert provenance.load_manifest(checkout / "figures" / provenance.MANIFEST_NAME) == {"figures": {}, "numbers": {}}


# =============================================================================== staleness


def test_stale_when_the_notebook_source_changes_but_not_its_outputs(checkout, monkeypatch):
    entry, written = _declared(checkout, monkeypatch)
    path = checkout / "notebooks" / "97_demo.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[2].outputs = [new_output("stream", name="stdout", text="3\n")]
    nb.cells[2].execution_count = 7
    nb.metadata["papermill"] = {"parameters": {}}
    nbformat.write(nb, path)
    assert provenance.stale_reasons(entry, written) == [], "outputs and metadata are not the notebook's source"
    nb.cells[2].source = "y = value + 2"
    nbformat.write(nb, path)
    assert provenance.stale_reasons(entry, written) == ["notebook 97_demo.ipynb changed"]
    path.unlink()
    assert provenance.stale_reasons(entry, written) == ["notebook 97_demo.ipynb no longer exists"]


def test_stale_when_the_parameters_change(checkout, monkeypatch):
    entry, written = _declared(checkout, monkeypatch)
    assert provenance.stale_reasons(entry, written, parameters={"value": 2}) == []
    assert provenance.stale_reasons(entry, written, parameters={"value": 3}) == ["parameters changed"]
    assert provenance.stale_reasons(entry, written) == []  # not compared unless given


def test_stale_when_the_input_data_change(checkout, monkeypatch, tmp_path):
    entry, written = _declared(checkout, monkeypatch)
    assert provenance.stale_reasons(entry, written) == []
    text = reg.REGISTRY_FILE.read_text(encoding="utf-8")
    assert FOX_SHA in text
    changed = tmp_path / "registry.csv"
    changed.write_text(text.replace(FOX_SHA, "0" * 64), encoding="utf-8")  # the fox photo was replaced
    monkeypatch.setattr(reg, "REGISTRY_FILE", changed)
    assert provenance.stale_reasons(entry, written) == ["input data 'fox' changed"]
    dropped = tmp_path / "dropped.csv"
    dropped.write_text("\n".join(line for line in text.splitlines() if not line.startswith("fox,")) + "\n")
    monkeypatch.setattr(reg, "REGISTRY_FILE", dropped)
    assert provenance.stale_reasons(entry, written) == ["input data 'fox' changed"]


def test_stale_when_the_file_changes_or_goes(checkout, monkeypatch):
    entry, written = _declared(checkout, monkeypatch)
    written.write_bytes(b"edited by hand")
    assert provenance.stale_reasons(entry, written) == ["file changed since it was recorded"]
    written.unlink()
    assert provenance.stale_reasons(entry, written) == ["file missing"]


def test_library_change_counts_only_when_asked(checkout, monkeypatch):
    entry, written = _declared(checkout, monkeypatch)
    (checkout / "gmm" / "core.py").write_text("x = 2\n")
    assert provenance.library_sha256() != entry["library_sha256"]
    assert provenance.stale_reasons(entry, written) == []  # the paper check ignores the library
    assert provenance.stale_reasons(entry, written, library=provenance.library_sha256()) == ["library code changed"]


def test_library_hash_covers_sources_and_registry_only(checkout):
    library = checkout / "gmm"
    first = provenance.library_sha256(library)
    (library / "__pycache__").mkdir()
    (library / "__pycache__" / "core.cpython-311.pyc").write_bytes(b"compiled")
    (library / "notes.txt").write_text("not code")
    assert provenance.library_sha256(library) == first
    (library / "data").mkdir()
    (library / "data" / "registry.csv").write_text("name\n")
    assert provenance.library_sha256(library) != first


def test_notebook_hash_ignores_papermills_injected_cell(checkout):
    path = checkout / "notebooks" / "97_demo.ipynb"
    plain = provenance.notebook_sha256(path)
    nb = nbformat.read(path, as_version=4)
    injected = new_code_cell("# Parameters\nvalue = 1\n")
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(2, injected)
    nbformat.write(nb, path)
    assert provenance.notebook_sha256(path) == plain
    nb.cells[0].source = "# demo, retitled"  # markdown is source too
    nbformat.write(nb, path)
    assert provenance.notebook_sha256(path) != plain


# =============================================================================== check (the paper's guard)


def test_committed_outputs_are_current():
    """Every figure and number in figures/ matches its notebook, parameters, data and file hash."""
    assert (paths.FIGURES_DIR / provenance.MANIFEST_NAME).is_file(), "figures/manifest.json is missing"
    manifest = provenance.load_manifest(paths.FIGURES_DIR / provenance.MANIFEST_NAME)
    assert manifest["figures"] and manifest["numbers"]
    assert provenance.check() == [], "stale committed outputs: run `make update`"


def test_every_committed_output_is_declared_by_its_notebook():
    from gmm.companion.pipeline import notebook_paths

    manifest = provenance.load_manifest(paths.FIGURES_DIR / provenance.MANIFEST_NAME)
    files = {p.name for p in paths.FIGURES_DIR.iterdir() if p.is_file() and p.suffix in (".png", ".pdf", ".svg")}
    declared = set(manifest["figures"])
    assert files == declared, f"figure files and manifest differ: {sorted(files ^ declared)}"
    recorded = {p.stem for p in (paths.FIGURES_DIR / "numbers").glob("*.json")}
    declared = set(manifest["numbers"])
    assert recorded == declared, f"numbers files and manifest differ: {sorted(recorded ^ declared)}"
    notebooks = {nb.name for nb in notebook_paths()}
    for section in manifest.values():
        for name, entry in section.items():
            assert entry["notebook"] in notebooks, f"{name}: made by unknown notebook {entry['notebook']}"
            assert name[:3] == entry["notebook"][:3], f"{name} must start with its notebook's number"
            assert entry["pipeline"] is True and entry["mode"] == "full", name


def test_check_reports_a_doctored_copy(tmp_path):
    copy = tmp_path / "figures"
    shutil.copytree(paths.FIGURES_DIR, copy, ignore=shutil.ignore_patterns("local"))
    baseline = set(provenance.check(copy))
    assert baseline == set(provenance.check()), "a faithful copy has the committed folder's problems"
    manifest = provenance.load_manifest(copy / provenance.MANIFEST_NAME)
    figure_a, figure_b, figure_c, figure_d = sorted(manifest["figures"])[:4]
    numbers_a, numbers_b = sorted(manifest["numbers"])[:2]
    with open(copy / figure_a, "ab") as handle:
        handle.write(b"\0")  # the file no longer matches its recorded hash
    (copy / figure_b).unlink()
    (copy / "numbers" / f"{numbers_a}.json").unlink()
    manifest["numbers"][numbers_b]["mode"] = "fast"
    manifest["figures"][figure_c]["notebook_sha256"] = "0" * 64
    manifest["figures"][figure_d]["mode"] = "fast"
    provenance.write_manifest(manifest, copy / provenance.MANIFEST_NAME)
    notebook_c = manifest["figures"][figure_c]["notebook"]
    new = set(provenance.check(copy)) - baseline
    assert new == {
        f"figure {figure_a}: file changed since it was recorded",
        f"figure {figure_b}: file missing",
        f"figure {figure_c}: notebook {notebook_c} changed",
        f"figure {figure_d}: made in 'fast' mode, not 'full'",
        f"numbers {numbers_a}: file missing",
        f"numbers {numbers_b}: made in 'fast' mode, not 'full'",
    }


def test_check_command_exit_status(checkout, monkeypatch, capsys):
    _declared(checkout, monkeypatch)
    assert provenance.main(["--check"]) == 0
    assert "every recorded figure and number is current" in capsys.readouterr().err
    (checkout / "figures" / "97_x.png").write_bytes(b"changed")
    assert provenance.main(["--check", "--figures-dir", str(checkout / "figures")]) == 1
    assert "stale: figure 97_x.png: file changed since it was recorded" in capsys.readouterr().err
    assert provenance.main([]) == 0  # without --check it only reports


# =============================================================================== parameters and cells


def test_default_parameters_reads_the_literals(checkout):
    path = checkout / "notebooks" / "98_params.ipynb"
    nbformat.write(_notebook('a = 1\n# a comment\nb = [1, 2.5]\nc = "x"\nd = {"k": (1, None)}\ne = -1e-3', "a"), path)
    assert provenance.default_parameters(path) == {"a": 1, "b": [1, 2.5], "c": "x", "d": {"k": (1, None)}, "e": -1e-3}


@pytest.mark.parametrize(
    "source", ["import numpy as np", "a = b = 1", "a, b = 1, 2", "a += 1", "print(1)", "a = np.zeros(3)", "a = b",
               "a = 1 + 2"],
)
def test_default_parameters_refuses_code(checkout, source):
    path = checkout / "notebooks" / "98_params.ipynb"
    nbformat.write(_notebook(source, "a"), path)
    with pytest.raises(ValueError):
        provenance.default_parameters(path)


def test_default_parameters_needs_a_parameters_cell(checkout):
    path = checkout / "notebooks" / "98_untagged.ipynb"
    nb = _notebook("a = 1")
    nb.cells[1].metadata["tags"] = []
    nbformat.write(nb, path)
    with pytest.raises(ValueError, match="no cell tagged 'parameters'"):
        provenance.default_parameters(path)


class _Shell:
    def __init__(self, history):
        self.user_ns = {"In": history}


def test_current_cell_is_found_by_its_source(checkout, monkeypatch):
    import IPython

    path = checkout / "notebooks" / "97_demo.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(1, new_markdown_cell("print(y)"))  # same text in a markdown cell: not code
    nbformat.write(nb, path)
    monkeypatch.setattr(IPython, "get_ipython", lambda: _Shell(["", "value = 2", "print(y)\n"]))
    assert provenance._current_cell(path) == 4
    monkeypatch.setattr(IPython, "get_ipython", lambda: _Shell(["", "y = value + 1  "]))
    assert provenance._current_cell(path) == 3
    monkeypatch.setattr(IPython, "get_ipython", lambda: _Shell(["", "something else"]))
    assert provenance._current_cell(path) is None
    monkeypatch.setattr(IPython, "get_ipython", lambda: _Shell([]))
    assert provenance._current_cell(path) is None
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)  # plain Python, IPython installed
    assert provenance._current_cell(path) is None


def test_current_cell_without_ipython(checkout, monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython", None)  # `import IPython` now raises ImportError
    assert provenance._current_cell(checkout / "notebooks" / "97_demo.ipynb") is None


def test_commit_outside_git_is_unknown(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert provenance.commit() == "unknown"


def test_commit_in_the_checkout():
    commit = provenance.commit()
    assert commit == "unknown" or re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", commit), commit


def test_output_root_follows_the_run(checkout, monkeypatch, tmp_path):
    # By hand (nbval, Jupyter): a scratch folder, never the committed figures/.
    assert provenance.output_root() == paths.SCRATCH_DIR / "by-hand" / "figures"
    _in_pipeline(monkeypatch, checkout, figures_dir=tmp_path / "scratch" / "figures")
    assert provenance.output_root() == tmp_path / "scratch" / "figures"


# =============================================================================== save_figure


def _figure():
    fig = Figure(figsize=(2, 1.5))
    ax = fig.subplots()
    ax.plot(np.arange(5), np.arange(5) ** 2, "o-")
    ax.set_title("same")
    return fig


@pytest.mark.parametrize("fmt", ["png", "pdf", "svg"])
def test_save_figure_is_byte_stable(tmp_path, fmt):
    first = save_figure(_figure(), "99_stable", fmt=fmt, directory=tmp_path).read_bytes()
    second = save_figure(_figure(), "99_stable", fmt=fmt, directory=tmp_path).read_bytes()
    assert first == second
    assert b"Matplotlib v" not in first and b"CreationDate" not in first
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"99_stable.{fmt}", provenance.MANIFEST_NAME]


def test_save_figure_refuses_bad_names_and_formats(tmp_path):
    fig = _figure()
    for name in ["stable", "9_x", "99 x", "../99_x", "99_x.png", "99_"]:
        with pytest.raises(ValueError, match="NN_description"):
            save_figure(fig, name, directory=tmp_path)
    for fmt in ["jpg", "eps", "PNG"]:
        with pytest.raises(ValueError, match="format"):
            save_figure(fig, "99_x", fmt=fmt, directory=tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert figure_path("99_x-y_2", "svg", tmp_path) == tmp_path / "99_x-y_2.svg"


def test_save_figure_declares_in_the_folder_it_writes_to(checkout, monkeypatch, tmp_path):
    _in_pipeline(monkeypatch, checkout)
    elsewhere = tmp_path / "elsewhere"
    path = save_figure(_figure(), "97_elsewhere", directory=elsewhere)
    entry = json.loads((elsewhere / provenance.MANIFEST_NAME).read_text())["figures"]["97_elsewhere.png"]
    assert entry["notebook"] == "97_demo.ipynb" and entry["pipeline"] is True
    assert entry["sha256"] == provenance.sha256_file(path)
    assert not (checkout / "figures" / provenance.MANIFEST_NAME).exists()
    # Without a directory, the run's figures folder.
    path = save_figure(_figure(), "97_default")
    assert path == checkout / "figures" / "97_default.png"
    manifest = provenance.load_manifest(checkout / "figures" / provenance.MANIFEST_NAME)
    assert set(manifest["figures"]) == {"97_default.png"}
    assert provenance.stale_reasons(manifest["figures"]["97_default.png"], path, parameters={"value": 2}) == []


def test_save_figure_never_declares_local_figures(checkout, monkeypatch):
    _in_pipeline(monkeypatch, checkout)
    local = output_dir(True)
    assert local == checkout / "figures" / "local" and local.is_dir()
    path = save_figure(_figure(), "97_with_photo", directory=local)
    assert path.parent == local and path.is_file()
    assert not (local / provenance.MANIFEST_NAME).exists()
    assert not (checkout / "figures" / provenance.MANIFEST_NAME).exists()


def test_output_dir_is_figures_local(checkout, monkeypatch, tmp_path):
    assert output_dir(False) is None
    assert output_dir(True) == paths.SCRATCH_DIR / "by-hand" / "figures" / "local"
    _in_pipeline(monkeypatch, checkout, figures_dir=tmp_path / "scratch")
    assert output_dir(True) == tmp_path / "scratch" / "local"


def test_save_figure_failure_leaves_the_old_file(tmp_path, monkeypatch):
    path = save_figure(_figure(), "99_x", directory=tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    fig = _figure()

    def broken_savefig(buffer, **kwargs):
        buffer.write(b"\x89PNG half a figure")
        raise RuntimeError("renderer died")

    fig.savefig = broken_savefig
    with pytest.raises(RuntimeError, match="renderer died"):
        save_figure(fig, "99_x", directory=tmp_path)
    with pytest.raises(RuntimeError, match="renderer died"):
        save_figure(fig, "99_new", directory=tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no partial file, no temporary
    assert path.read_bytes() == before["99_x.png"]


def test_save_figure_close(tmp_path):
    fig = plt.figure()
    save_figure(fig, "99_closed", directory=tmp_path, close=True)
    assert fig.number not in plt.get_fignums()


# =============================================================================== record_numbers


def test_record_numbers_writes_sorted_json_and_declares(checkout, monkeypatch):
    _in_pipeline(monkeypatch, checkout)
    path = record_numbers("97_demo", b=np.float64(0.25), a=3, c="yes")
    assert path == checkout / "figures" / "numbers" / "97_demo.json"
    assert path.read_text() == '{\n  "a": 3,\n  "b": 0.25,\n  "c": "yes"\n}\n'
    entry = provenance.load_manifest(checkout / "figures" / provenance.MANIFEST_NAME)["numbers"]["97_demo"]
    assert set(entry) == ENTRY_FIELDS and entry["sha256"] == provenance.sha256_file(path)
    assert entry["notebook"] == "97_demo.ipynb" and entry["mode"] == "full"
    record_numbers("97_demo", a=4)
    assert json.loads(path.read_text()) == {"a": 4}  # one run's numbers only
    entry = provenance.load_manifest(checkout / "figures" / provenance.MANIFEST_NAME)["numbers"]["97_demo"]
    assert entry["sha256"] == provenance.sha256_file(path)
    assert provenance.check() == []


def test_record_numbers_declares_beside_its_directory(tmp_path):
    path = record_numbers("05_demo", directory=tmp_path / "out" / "numbers", a=1)
    manifest = provenance.load_manifest(tmp_path / "out" / provenance.MANIFEST_NAME)
    assert manifest["numbers"]["05_demo"]["sha256"] == provenance.sha256_file(path)


@pytest.mark.parametrize(
    "notebook_id, values, message",
    [
        ("demo", {"a": 1}, "notebook id"),
        ("05-demo", {"a": 1}, "notebook id"),
        ("05_demo", {"a-b": 1}, "letters, digits"),
        ("05_demo", {"a": float("nan")}, "NaN"),
        ("05_demo", {"a": np.float64("nan")}, "NaN"),
        ("05_demo", {"a": True}, "int, float or str"),
        ("05_demo", {"a": [1, 2]}, "int, float or str"),
        ("05_demo", {"a": None}, "int, float or str"),
        ("05_demo", {}, "at least one"),
    ],
)
def test_record_numbers_refuses_bad_input(tmp_path, notebook_id, values, message):
    with pytest.raises(ValueError, match=message):
        record_numbers(notebook_id, directory=tmp_path / "numbers", **values)
    assert list(tmp_path.iterdir()) == []  # no file, no manifest


@pytest.mark.parametrize(
    "value, expected",
    [(0.0, "< 1e-10"), (3e-11, "< 1e-10"), (-9.9e-11, "< 1e-10"), (np.float64(1e-17), "< 1e-10"),
     (1e-10, "1e-10"), (1.234e-10, "1.2e-10"), (-0.012345, "-0.012"), (0.815, "0.81"), (2.0, "2"), (123.4, "1.2e+02")],
)
def test_below(value, expected):
    assert below(value, 1e-10) == expected


def test_below_other_bound_and_nan():
    assert below(5e-13, 1e-12) == "< 1e-12"
    assert below(0.5, 1e-3) == "0.5"
    with pytest.raises(ValueError, match="NaN"):
        below(float("nan"), 1e-10)
    with pytest.raises(ValueError, match="NaN"):
        below(np.nan, 1e-10)


def test_latex_numbers_defines_every_key(tmp_path):
    record_numbers("01_demo", directory=tmp_path, ari_rgb="0.815", n=3, text="a_b%", small=below(1e-15, 1e-10))
    tex = write_latex_numbers(tmp_path / "numbers.tex", directory=tmp_path).read_text()
    assert tex == latex_numbers(load_numbers(tmp_path))
    assert r"\expandafter\def\csname gmmresult@01_demo/ari_rgb\endcsname{0.815}" in tex
    assert r"\csname gmmresult@01_demo/n\endcsname{3}" in tex
    assert r"\csname gmmresult@01_demo/text\endcsname{a\_b\%}" in tex
    assert r"\csname gmmresult@01_demo/small\endcsname{< 1e-10}" in tex
    assert r"\errmessage" in tex


def test_numbers_command_writes_the_tex(checkout, monkeypatch, tmp_path):
    _in_pipeline(monkeypatch, checkout)
    record_numbers("97_demo", a=1)
    assert numbers.main([str(tmp_path / "out.tex")]) == 0
    assert r"\csname gmmresult@97_demo/a\endcsname{1}" in (tmp_path / "out.tex").read_text()


def test_load_numbers_names_a_corrupt_file(tmp_path):
    (tmp_path / "01_bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="01_bad.json"):
        load_numbers(tmp_path)


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_latex_lookup_works_and_unknown_key_fails(tmp_path):
    record_numbers("01_demo", directory=tmp_path, ari_rgb="0.815", loglik=-2.5)
    write_latex_numbers(tmp_path / "numbers.tex", directory=tmp_path)

    def build(body):
        (tmp_path / "doc.tex").write_text(
            "\\documentclass{article}\\input{numbers.tex}\\begin{document}" + body + "\\end{document}\n"
        )
        return subprocess.run(
            ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
            cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )

    ok = build(r"ARI \gmmresult{01_demo/ari_rgb}, $\gmmresult{01_demo/loglik}$.")
    assert ok.returncode == 0, ok.stdout[-2000:]
    bad = build(r"\gmmresult{01_demo/absent}")
    assert bad.returncode != 0
    assert "01_demo/absent" in bad.stdout


def test_a_results_file_read_by_a_notebook_is_an_input(tmp_path, monkeypatch):
    from gmm.companion import paths, provenance

    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(provenance, "_READ_FILES", {})
    monkeypatch.setattr(importlib.import_module("gmm.data.registry"), "_LOADED", {})  # other tests' loads
    results = tmp_path / "benchmarks" / "results" / "x.json"
    results.parent.mkdir(parents=True)
    results.write_text('{"pri": 0.8}')
    assert provenance.read_result("benchmarks/results/x.json") == {"pri": 0.8}
    inputs = provenance.describe_inputs()["inputs"]
    assert inputs["file:benchmarks/results/x.json"] == provenance.sha256_file(results)
    entry = {"pipeline": True, "sha256": "0", "notebook": "none.ipynb", "inputs": inputs}
    figure = tmp_path / "f.png"
    figure.write_bytes(b"png")
    entry["sha256"] = provenance.sha256_file(figure)
    monkeypatch.setattr(paths, "NOTEBOOKS_DIR", tmp_path)
    (tmp_path / "none.ipynb").write_text('{"cells": []}')
    entry["notebook_sha256"] = provenance.notebook_sha256(tmp_path / "none.ipynb")
    entry["parameters"] = {}
    assert provenance.stale_reasons(entry, figure) == []
    results.write_text('{"pri": 0.9}')  # the benchmark was rerun
    assert provenance.stale_reasons(entry, figure) == ["input file benchmarks/results/x.json changed"]
    with pytest.raises(FileNotFoundError, match="run the command that makes it"):
        provenance.read_result("benchmarks/results/missing.json")
