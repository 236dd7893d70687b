"""gmm.companion.reproduce: a rerun's figures match the committed ones up to a small image
difference (matplotlib's compare_images), its numbers exactly."""

from __future__ import annotations

import io
import json

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.testing.compare import calculate_rms  # noqa: E402
from PIL import Image  # noqa: E402

from gmm.companion import paths, provenance, reproduce  # noqa: E402
from gmm.plotting import figure_bytes  # noqa: E402

TOL = reproduce.FIGURE_RMS_TOLERANCE


def _curve(shift=0.0, size=(3, 2), color="tab:blue") -> bytes:
    """A sine curve, its data shifted up by ``shift`` (the axes span 3 data units over ~150 pixels)."""
    fig = Figure(figsize=size)
    ax = fig.subplots()
    x = np.linspace(0.0, 1.0, 50)
    ax.plot(x, np.sin(6 * x) + shift, color=color)
    ax.set_ylim(-1.5, 1.5)
    return figure_bytes(fig, "png")


def _folder(root, figures: dict[str, bytes], numbers: dict[str, dict] | None = None):
    """A figures folder: the files, a manifest listing them, and numbers/*.json."""
    root.mkdir(parents=True)
    manifest = {"figures": {}, "numbers": {}}
    for name, data in figures.items():
        (root / name).write_bytes(data)
        manifest["figures"][name] = {"notebook": "97_demo.ipynb", "sha256": provenance.sha256_bytes(data)}
    (root / "numbers").mkdir()
    for stem, values in (numbers or {}).items():
        (root / "numbers" / f"{stem}.json").write_text(json.dumps(values))
        manifest["numbers"][stem] = {"notebook": f"{stem}.ipynb"}
    provenance.write_manifest(manifest, root / provenance.MANIFEST_NAME)
    return root


def _rms(a, b):
    def load(path):
        return np.asarray(Image.open(path).convert("RGB")).astype(float)

    return calculate_rms(load(a), load(b))


# ------------------------------------------------------------------------------------ figures


def test_identical_figures_pass(tmp_path):
    committed = _folder(tmp_path / "committed", {"97_a.png": _curve(), "97_b.png": _curve(color="k")})
    rerun = _folder(tmp_path / "rerun", {"97_a.png": _curve(), "97_b.png": _curve(color="k")})
    assert reproduce.compare_figures(committed, rerun) == []
    assert reproduce.compare_figures(committed, rerun, tol=0) == []


def test_sub_pixel_shift_is_within_tolerance(tmp_path):
    committed = _folder(tmp_path / "committed", {"97_a.png": _curve()})
    rerun = _folder(tmp_path / "rerun", {"97_a.png": _curve(shift=0.001)})  # about 0.05 pixel
    assert (committed / "97_a.png").read_bytes() != (rerun / "97_a.png").read_bytes()
    assert 0 < _rms(committed / "97_a.png", rerun / "97_a.png") <= TOL
    assert reproduce.compare_figures(committed, rerun) == []
    assert reproduce.compare_figures(committed, rerun, tol=0) != []  # the files do differ


def test_a_handful_of_changed_pixels_is_within_tolerance(tmp_path):
    data = _curve()
    pixels = np.array(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)

    def changed(block):  # anti-aliasing differences: a few pixels a few dozen grey levels off
        edited = pixels.copy()
        edited[block] = np.clip(edited[block] + np.where(edited[block] > 127, -60, 60), 0, 255)
        buffer = io.BytesIO()
        Image.fromarray(edited.astype(np.uint8)).save(buffer, format="PNG")
        return buffer.getvalue()

    committed = _folder(tmp_path / "committed", {"97_a.png": data, "97_b.png": data})
    rerun = _folder(tmp_path / "rerun", {"97_a.png": changed(np.s_[10:13, 20:23]),  # 9 pixels
                                         "97_b.png": changed(np.s_[10:60, 20:120])})  # a whole region
    assert 0 < _rms(committed / "97_a.png", rerun / "97_a.png") <= TOL
    assert _rms(committed / "97_b.png", rerun / "97_b.png") > TOL
    problems = reproduce.compare_figures(committed, rerun)
    assert len(problems) == 1 and problems[0].startswith("97_b.png: RMS")


def test_a_moved_curve_fails(tmp_path):
    committed = _folder(tmp_path / "committed", {"97_a.png": _curve(), "97_b.png": _curve()})
    rerun = _folder(tmp_path / "rerun", {"97_a.png": _curve(shift=0.3), "97_b.png": _curve()})
    problems = reproduce.compare_figures(committed, rerun)
    assert len(problems) == 1 and problems[0].startswith("97_a.png: RMS ")
    rms = float(problems[0].split()[2])
    assert rms > TOL and rms == pytest.approx(_rms(committed / "97_a.png", rerun / "97_a.png"), abs=0.01)
    # A looser tolerance accepts it.
    assert reproduce.compare_figures(committed, rerun, tol=rms + 1) == []


def test_a_figure_of_another_size_is_a_problem_not_a_crash(tmp_path):
    committed = _folder(tmp_path / "committed", {"97_a.png": _curve(), "97_b.png": _curve(shift=0.5)})
    rerun = _folder(tmp_path / "rerun", {"97_a.png": _curve(size=(3, 3)), "97_b.png": _curve()})
    problems = reproduce.compare_figures(committed, rerun)
    assert [p.split(":")[0] for p in problems] == ["97_a.png", "97_b.png"]  # the second is still compared
    assert "size" in problems[0]


def test_missing_figures_on_either_side(tmp_path):
    committed = _folder(tmp_path / "committed", {"97_a.png": _curve(), "97_old.png": _curve()})
    rerun = _folder(tmp_path / "rerun", {"97_a.png": _curve(), "97_new.png": _curve()})
    assert reproduce.compare_figures(committed, rerun) == [
        "97_new.png: made by the rerun but not committed",
        "97_old.png: committed but not made by the rerun",
    ]


def test_a_listed_figure_whose_file_is_gone(tmp_path):
    committed = _folder(tmp_path / "committed", {"97_a.png": _curve(), "97_b.png": _curve()})
    rerun = _folder(tmp_path / "rerun", {"97_a.png": _curve(), "97_b.png": _curve()})
    (rerun / "97_a.png").unlink()
    (committed / "97_b.png").unlink()
    problems = reproduce.compare_figures(committed, rerun)
    assert [p.split(":")[0] for p in problems] == ["97_a.png", "97_b.png"]
    assert "missing" in problems[0] and "missing" in problems[1]


# ------------------------------------------------------------------------------------ numbers


def test_equal_numbers_pass(tmp_path):
    values = {"01_x": {"ari": "0.815", "n": 3, "ll": -2.5}}
    assert reproduce.compare_numbers(_folder(tmp_path / "a", {}, values), _folder(tmp_path / "b", {}, values)) == []


@pytest.mark.parametrize(
    "new, message",
    [
        ({"ari": "0.816", "n": 3, "ll": -2.5}, "numbers 01_x/ari: committed '0.815', rerun '0.816'"),
        ({"ari": "0.815", "n": 3, "ll": -2.5000000000000004},
         "numbers 01_x/ll: committed -2.5, rerun -2.5000000000000004"),
        ({"ari": "0.815", "n": "3", "ll": -2.5}, "numbers 01_x/n: committed 3, rerun '3'"),
        ({"ari": "0.815", "ll": -2.5}, "numbers 01_x/n: committed 3, rerun None"),
        ({"ari": "0.815", "n": 3, "ll": -2.5, "extra": 1}, "numbers 01_x/extra: committed None, rerun 1"),
    ],
    ids=["string", "last-digit", "type", "dropped-key", "new-key"],
)
def test_numbers_must_be_equal_exactly(tmp_path, new, message):
    committed = _folder(tmp_path / "a", {}, {"01_x": {"ari": "0.815", "n": 3, "ll": -2.5}, "02_y": {"k": 1}})
    rerun = _folder(tmp_path / "b", {}, {"01_x": new, "02_y": {"k": 1}})
    assert reproduce.compare_numbers(committed, rerun) == [message]


def test_numbers_files_missing_on_either_side(tmp_path):
    committed = _folder(tmp_path / "a", {}, {"01_x": {"k": 1}, "02_old": {"k": 1}})
    rerun = _folder(tmp_path / "b", {}, {"01_x": {"k": 1}, "03_new": {"k": 1}})
    assert reproduce.compare_numbers(committed, rerun) == [
        "numbers 02_old: missing from the rerun",
        "numbers 03_new: not committed",
    ]


# ------------------------------------------------------------------------------------ the command


def test_main_compares_with_the_checkout(tmp_path, monkeypatch, capsys):
    committed = _folder(tmp_path / "committed", {"97_a.png": _curve()}, {"97_demo": {"k": 1}})
    monkeypatch.setattr(paths, "FIGURES_DIR", committed)
    same = _folder(tmp_path / "same", {"97_a.png": _curve(shift=0.001)}, {"97_demo": {"k": 1}})
    assert reproduce.main([str(same)]) == 0
    assert "1 figures" in capsys.readouterr().err
    other = _folder(tmp_path / "other", {"97_a.png": _curve()}, {"97_demo": {"k": 2}})
    assert reproduce.main([str(other)]) == 1
    assert "not reproduced: numbers 97_demo/k: committed 1, rerun 2" in capsys.readouterr().err


# ------------------------------------------------------------------------------------ vector copies


def _pdf(shift=0.0) -> bytes:
    fig = Figure(figsize=(3, 2))
    fig.subplots().plot([0, 1], [shift, 1 + shift])
    return figure_bytes(fig, "pdf")


def test_pdf_counts_as_reproduced_when_its_png_sibling_is(tmp_path):
    # The PDFs differ byte for byte; no rasteriser is asked, the PNG decides.
    committed = _folder(tmp_path / "committed", {"97_a.png": _curve(), "97_a.pdf": _pdf()})
    rerun = _folder(tmp_path / "rerun", {"97_a.png": _curve(), "97_a.pdf": _pdf(0.5)})
    assert reproduce.compare_figures(committed, rerun) == []


def test_pdf_fails_with_its_png_sibling_or_without_one(tmp_path):
    committed = _folder(tmp_path / "committed", {"97_a.png": _curve(), "97_a.pdf": _pdf(), "97_b.pdf": _pdf()})
    rerun = _folder(tmp_path / "rerun", {"97_a.png": _curve(shift=1.0), "97_a.pdf": _pdf(), "97_b.pdf": _pdf()})
    problems = reproduce.compare_figures(committed, rerun)
    assert len(problems) == 3
    assert problems[0].startswith("97_a.png: RMS")
    assert "97_a.pdf: its PNG sibling 97_a.png was not reproduced" in problems
    assert "97_b.pdf: no committed PNG sibling 97_b.png to compare it by" in problems


def test_missing_pdf_is_reported(tmp_path):
    committed = _folder(tmp_path / "committed", {"97_a.png": _curve(), "97_a.pdf": _pdf()})
    rerun = _folder(tmp_path / "rerun", {"97_a.png": _curve()})
    assert reproduce.compare_figures(committed, rerun) == ["97_a.pdf: committed but not made by the rerun"]
