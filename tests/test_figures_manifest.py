"""Figure provenance: every figure comes from a notebook, the manifest says which, and its bytes agree.

Also the two writers behind it: ``gmm.figures.save_figure`` (byte-stable, atomic) and
``gmm.report`` (key numbers as JSON and as ``\\gmmresult`` TeX lookups).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from gmm import paths, pipeline, report  # noqa: E402
from gmm.figures import figure_path, output_dir, save_figure  # noqa: E402

FIGURE_SUFFIXES = (".png", ".pdf", ".svg")
_INCLUDE = re.compile(r"\\includegraphics\s*(?:\[[^\]]*\])?\s*\{([^}]+)\}")


@pytest.fixture(scope="module")
def manifest():
    assert paths.FIGURE_MANIFEST.exists(), "figures/manifest.json is missing: run `make figures`"
    return json.loads(paths.FIGURE_MANIFEST.read_text())["figures"]


def _figure_files():
    return {p.name for p in paths.FIGURES_DIR.iterdir() if p.is_file() and p.suffix in FIGURE_SUFFIXES}


def _strip_comments(tex):
    return re.sub(r"(?<!\\)%.*", "", tex)


def included_figures(paper_dir=paths.PAPER_DIR):
    """Base names (no folder, no extension) of every figure the paper's sources include."""
    names = set()
    for tex in sorted(paper_dir.rglob("*.tex")):
        if paths.PAPER_BUILD_DIR in tex.parents:
            continue
        for target in _INCLUDE.findall(_strip_comments(tex.read_text(encoding="utf-8"))):
            stem = target.strip().rsplit("/", 1)[-1]
            names.add(stem.rsplit(".", 1)[0] if stem.endswith(FIGURE_SUFFIXES) else stem)
    return names


# ---------------------------------------------------------------- the committed figures


def test_manifest_hashes_match_files(manifest):
    for name, entry in manifest.items():
        path = paths.FIGURES_DIR / name
        assert path.exists(), f"manifest lists {name}, which is missing"
        assert pipeline.sha256_file(path) == entry["sha256"], f"{name} changed since the pipeline ran"


def test_every_figure_file_is_in_the_manifest(manifest):
    unlisted = _figure_files() - set(manifest)
    assert not unlisted, f"figures no notebook run recorded: {sorted(unlisted)}"


def test_committed_figures_come_from_a_full_run(manifest):
    fast = sorted(name for name, entry in manifest.items() if entry["mode"] != "full")
    assert not fast, f"figures from a --fast run: {fast} (run `make figures`)"


def test_notebooks_and_manifest_agree(manifest):
    notebooks = {nb.name: nb for nb in pipeline.notebook_paths()}
    by_notebook = {}
    for name, entry in manifest.items():
        assert entry["notebook"] in notebooks, f"{name}: made by unknown notebook {entry['notebook']}"
        where = {"cell": entry["cell"], "execution_count": entry["execution_count"]}
        by_notebook.setdefault(entry["notebook"], {})[name] = where
    for nb_name, path in notebooks.items():
        saved = pipeline.saved_figures(nbformat.read(path, as_version=4))
        assert saved == by_notebook.get(nb_name, {}), f"{nb_name}: save_figure calls and manifest differ"
        wrong = [name for name in saved if not name.startswith(nb_name[:3])]
        assert not wrong, f"{nb_name}: figure names must start with its number, got {wrong}"


def test_paper_includes_only_manifest_figures(manifest):
    produced = {name.rsplit(".", 1)[0] for name in manifest}
    missing = included_figures() - produced
    assert not missing, f"paper/*.tex includes figures no notebook produces: {sorted(missing)}"


def test_included_figures_parser(tmp_path):
    (tmp_path / "a.tex").write_text(
        "\\includegraphics[width=\\linewidth]{01_x}\n% \\includegraphics{99_commented}\n"
        "\\includegraphics{../figures/02_y.png} \\includegraphics [scale=2] {03_z}\n"
    )
    assert included_figures(tmp_path) == {"01_x", "02_y", "03_z"}


def test_numbers_files_belong_to_notebooks():
    stems = {nb.stem for nb in pipeline.notebook_paths()}
    recorded = set(report.load_numbers())
    assert recorded <= stems, f"numbers from unknown notebooks: {sorted(recorded - stems)}"


# ---------------------------------------------------------------- save_figure


def _figure():
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot(np.arange(5), np.arange(5) ** 2, "o-")
    ax.set_title("same")
    return fig


@pytest.mark.parametrize("fmt", ["png", "pdf", "svg"])
def test_save_figure_is_byte_stable(tmp_path, fmt):
    fig = _figure()
    first = save_figure(fig, "99_stable", fmt=fmt, directory=tmp_path).read_bytes()
    second = save_figure(_figure(), "99_stable", fmt=fmt, directory=tmp_path).read_bytes()
    plt.close("all")
    assert first == second
    assert b"Matplotlib v" not in first and b"CreationDate" not in first
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"99_stable.{fmt}"]  # no temporary file left


def test_save_figure_rejects_bad_names_and_formats(tmp_path):
    fig = _figure()
    for name in ["stable", "9_x", "99 x", "../99_x"]:
        with pytest.raises(ValueError, match="NN_description"):
            save_figure(fig, name, directory=tmp_path)
    with pytest.raises(ValueError, match="format"):
        figure_path("99_x", "jpg", tmp_path)
    plt.close("all")
    assert list(tmp_path.iterdir()) == []


def test_photo_figures_go_to_the_local_folder():
    assert output_dir(False) is None
    local = output_dir(True)
    assert local == paths.FIGURES_DIR / "local" and local.is_dir()
    if not any(local.iterdir()):
        local.rmdir()


def test_save_figure_failure_leaves_no_file(tmp_path):
    fig = _figure()
    with pytest.raises(Exception):
        save_figure(fig, "99_bad", dpi=-1, directory=tmp_path)
    plt.close("all")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- gmm.report


def test_record_numbers_writes_sorted_json(tmp_path):
    path = report.record_numbers("05_demo", directory=tmp_path, b=np.float64(0.25), a=3, c="yes")
    assert path == tmp_path / "05_demo.json"
    assert path.read_text() == '{\n  "a": 3,\n  "b": 0.25,\n  "c": "yes"\n}\n'
    report.record_numbers("05_demo", directory=tmp_path, a=4)
    assert json.loads(path.read_text()) == {"a": 4}  # one run's numbers only


@pytest.mark.parametrize(
    "notebook_id, values, message",
    [
        ("demo", {"a": 1}, "notebook id"),
        ("05_demo", {"a-b": 1}, "letters, digits"),
        ("05_demo", {"a": float("nan")}, "NaN"),
        ("05_demo", {"a": True}, "int, float or str"),
        ("05_demo", {"a": [1, 2]}, "int, float or str"),
        ("05_demo", {}, "at least one"),
    ],
)
def test_record_numbers_rejects_bad_input(tmp_path, notebook_id, values, message):
    with pytest.raises(ValueError, match=message):
        report.record_numbers(notebook_id, directory=tmp_path, **values)
    assert list(tmp_path.iterdir()) == []


def test_latex_numbers_defines_every_key(tmp_path):
    report.record_numbers("01_demo", directory=tmp_path, ari_rgb="0.815", n=3, text="a_b%")
    tex = report.write_latex_numbers(tmp_path / "numbers.tex", directory=tmp_path).read_text()
    assert r"\expandafter\def\csname gmmresult@01_demo/ari_rgb\endcsname{0.815}" in tex
    assert r"\csname gmmresult@01_demo/n\endcsname{3}" in tex
    assert r"\csname gmmresult@01_demo/text\endcsname{a\_b\%}" in tex
    assert r"\errmessage" in tex


def test_load_numbers_names_a_corrupt_file(tmp_path):
    (tmp_path / "01_bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="01_bad.json"):
        report.load_numbers(tmp_path)


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_latex_lookup_works_and_unknown_key_fails(tmp_path):
    report.record_numbers("01_demo", directory=tmp_path, ari_rgb="0.815", loglik=-2.5)
    report.write_latex_numbers(tmp_path / "numbers.tex", directory=tmp_path)

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
