"""The installed ``gmm-segment`` console script, driven in a subprocess on synthetic images."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gmm.render import PALETTE

SCRIPT = shutil.which("gmm-segment", path=str(Path(sys.executable).parent))
pytestmark = pytest.mark.skipif(SCRIPT is None, reason="gmm-segment is not installed beside python")

# Three vertical blocks, pure-ish red, green and blue, with Gaussian noise: an easy 3-segment image.
BLOCK_COLOURS = np.array([(200, 30, 30), (30, 200, 30), (30, 30, 200)])
HEIGHT, BLOCK_WIDTH = 24, 16


def _blocks_image(seed=0, noise=8.0):
    rng = np.random.default_rng(seed)
    clean = np.repeat(BLOCK_COLOURS[np.newaxis], HEIGHT, axis=0).repeat(BLOCK_WIDTH, axis=1)
    return np.clip(np.rint(clean + rng.normal(0.0, noise, clean.shape)), 0, 255).astype(np.uint8)


def _blocks(array):
    """The three blocks of an (H, W, ...) array, left to right."""
    return [array[:, i * BLOCK_WIDTH:(i + 1) * BLOCK_WIDTH] for i in range(3)]


def _write_png(path, array):
    Image.fromarray(array).save(path)
    return path


def _read_png(path):
    with Image.open(path) as image:
        return np.asarray(image)


def run_cli(*args, cwd=None):
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1")
    return subprocess.run([SCRIPT, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=120)


def _no_temporaries(folder):
    return not [p.name for p in Path(folder).iterdir() if p.name.startswith(".") or p.suffix == ".tmp"]


@pytest.fixture(scope="module")
def image_path(tmp_path_factory):
    return _write_png(tmp_path_factory.mktemp("inputs") / "blocks.png", _blocks_image())


@pytest.fixture(scope="module")
def full_run(image_path, tmp_path_factory):
    """One run with every optional output, into a folder that does not exist yet."""
    out = tmp_path_factory.mktemp("full") / "nested" / "out"
    proc = run_cli(image_path, "-k", "3", "--seed", "0", "--render", "labels", "-o", out,
                   "--save-labels", "--save-elbo", "--max-iter", "50", "--tol", "1e-6")
    return proc, out


def test_help_lists_options_and_examples():
    proc = run_cli("--help")
    assert proc.returncode == 0
    for text in ("examples:", "--render", "overlay", "--save-labels", "--save-elbo", "--space",
                 "gmm-segment photo.jpg -k 3 -o out", "exit status"):
        assert text in proc.stdout


def test_usage_errors_exit_2():
    proc = run_cli("x.png", "-k", "0", "-o", "out")
    assert proc.returncode == 2
    assert "must be a positive integer" in proc.stderr


def test_full_run_writes_every_output(full_run):
    proc, out = full_run
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no progress bar when stderr is not a terminal, no warnings
    assert sorted(p.name for p in out.iterdir()) == [
        "blocks_elbo.png", "blocks_history.csv", "blocks_history.json", "blocks_labels.npy",
        "blocks_labels.png",
    ]
    assert _no_temporaries(out)


def test_labels_round_trip_and_palette(full_run):
    _, out = full_run
    labels = np.load(out / "blocks_labels.npy")
    assert labels.shape == (HEIGHT, 3 * BLOCK_WIDTH)
    assert labels.dtype.kind in "iu"
    # Each block is one segment, and the three blocks are different segments.
    block_labels = [np.unique(block) for block in _blocks(labels)]
    assert all(values.size == 1 for values in block_labels)
    assert len({int(values[0]) for values in block_labels}) == 3
    # The labels rendering is the palette indexed by the saved labels.
    np.testing.assert_array_equal(_read_png(out / "blocks_labels.png"), PALETTE[labels])


def test_elbo_history_files(full_run):
    _, out = full_run
    document = json.loads((out / "blocks_history.json").read_text())
    assert document["n_components"] == 3 and document["seed"] == 0
    history = document["history"]
    n_iter = document["n_iter"]
    assert len(history["elbo"]) == n_iter >= 1
    # EM never decreases the log-likelihood; the ELBO after the E-step equals it.
    log_likelihood = np.array(history["log_likelihood"], dtype=float)
    assert np.all(np.diff(log_likelihood) >= -1e-9)
    np.testing.assert_allclose(history["elbo"], log_likelihood, atol=1e-9)
    rows = (out / "blocks_history.csv").read_text().splitlines()
    assert rows[0].split(",")[:3] == ["iteration", "log_likelihood", "expected_complete"]
    assert len(rows) == n_iter + 1
    assert float(rows[-1].split(",")[1]) == pytest.approx(log_likelihood[-1], abs=0, rel=1e-15)
    with Image.open(out / "blocks_elbo.png") as figure:
        assert figure.format == "PNG" and figure.size[0] > 100


# Random responsibilities start all means near the global mean, where the log-likelihood rises
# slowly: with the default tol EM stops after two iterations (scikit-learn does the same), so
# the random-init run gets a small tol.
@pytest.mark.parametrize(
    "render,space,init_options",
    [("mean", "lab", []), ("soft", "hsv", ["--init", "random", "--tol", "1e-9", "--max-iter", "500"]),
     ("overlay", "rgb", [])],
)
def test_render_kinds(render, space, init_options, image_path, tmp_path):
    proc = run_cli(image_path, "-k", "3", "--space", space, *init_options, "--render", render,
                   "-o", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == [f"blocks_{render}.png"]
    picture = _read_png(tmp_path / f"blocks_{render}.png")
    image = _read_png(image_path)
    assert picture.shape == image.shape and picture.dtype == np.uint8
    if render == "mean":
        # Each block is painted in (about) its true colour: the mean of its noisy pixels.
        for block, colour in zip(_blocks(picture), BLOCK_COLOURS):
            assert np.all(np.abs(block.astype(int) - colour) <= 3)
    elif render == "soft":
        # Well separated blocks: responsibilities near 0/1, so one near-pure palette colour
        # per block and three different ones.
        firsts = []
        for block in _blocks(picture):
            assert np.all(np.abs(block.astype(int) - block[0, 0]) <= 2)
            assert tuple(block[0, 0]) in {tuple(c) for c in PALETTE[:3]}
            firsts.append(tuple(block[0, 0]))
        assert len(set(firsts)) == 3
    else:
        # Boundaries only where the blocks meet: everything away from the two seams is the image.
        changed = np.any(picture != image, axis=2)
        seams = np.zeros_like(changed)
        for x in (BLOCK_WIDTH, 2 * BLOCK_WIDTH):
            seams[:, x - 2:x + 2] = True
        assert changed.any() and not (changed & ~seams).any()


def test_bad_inputs_report_one_line_each_and_the_rest_is_processed(image_path, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    good = shutil.copy(image_path, inputs / "good.png")
    data = Path(image_path).read_bytes()
    (inputs / "half.png").write_bytes(data[: len(data) // 2])
    (inputs / "notes.png").write_text("this is not an image\n")
    missing = inputs / "missing.png"
    out = tmp_path / "out"

    proc = run_cli(missing, inputs / "half.png", good, inputs / "notes.png", inputs, "-o", out)

    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert len(lines) == 4, proc.stderr
    for line, name in zip(lines, [missing, inputs / "half.png", inputs / "notes.png", inputs]):
        assert line.startswith(f"gmm-segment: error: {name}: ")
    assert "no such file" in lines[0]
    assert "truncated" in lines[1]
    assert "directory" in lines[3]
    assert "Traceback" not in proc.stderr
    # The good file is still segmented; the bad ones leave nothing behind.
    assert sorted(p.name for p in out.iterdir()) == ["good_labels.png"]
    assert _read_png(out / "good_labels.png").shape == _read_png(good).shape


def test_never_overwrites_inputs_or_earlier_outputs(tmp_path):
    # Output names are <stem>_labels.png, so with OUT = the input folder 'a.png' would write
    # 'a_labels.png', which is an input here; and two inputs with the stem 'b' would collide.
    (tmp_path / "other").mkdir()
    paths = {name: _write_png(tmp_path / name, _blocks_image(seed=i))
             for i, name in enumerate(["a.png", "a_labels.png", "b.png", "other/b.png"])}
    before = {name: path.read_bytes() for name, path in paths.items()}

    proc = run_cli("a.png", "a_labels.png", "b.png", "other/b.png", "-o", ".", cwd=tmp_path)

    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert len(lines) == 2, proc.stderr
    assert lines[0].startswith("gmm-segment: error: a.png: refusing to overwrite input file")
    assert lines[1].startswith(
        "gmm-segment: error: other/b.png: refusing to overwrite the output of b.png with output"
    )
    assert {name: path.read_bytes() for name, path in paths.items()} == before
    assert (tmp_path / "a_labels_labels.png").exists() and (tmp_path / "b_labels.png").exists()
    assert _no_temporaries(tmp_path)


def test_same_seed_gives_identical_bytes(full_run, image_path, tmp_path):
    _, first = full_run
    proc = run_cli(image_path, "-k", "3", "--seed", "0", "--render", "labels", "-o", tmp_path,
                   "--save-labels", "--save-elbo", "--max-iter", "50", "--tol", "1e-6")
    assert proc.returncode == 0, proc.stderr
    for path in first.iterdir():
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name


@pytest.mark.skipif(os.name != "posix", reason="needs a pseudo-terminal")
def test_progress_bar_only_on_a_terminal(image_path, tmp_path):
    import fcntl
    import struct
    import termios

    controller, terminal = os.openpty()
    # A pseudo-terminal starts 0 columns wide, where tqdm draws nothing: give it a size.
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        proc = subprocess.run([SCRIPT, str(image_path), "-o", str(tmp_path)], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=terminal, timeout=120,
                              env=dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1"))
        os.close(terminal)
        terminal = None
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the terminal side is closed and everything was read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if terminal is not None:
            os.close(terminal)
        os.close(controller)
    assert proc.returncode == 0
    assert b"1/1" in shown and b"100%" in shown  # tqdm's finished bar


def test_warnings_are_one_line_each(image_path, tmp_path):
    proc = run_cli(image_path, "--max-iter", "1", "--tol", "0", "-o", tmp_path)
    assert proc.returncode == 0  # a warning is not a failure: the output is written
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"gmm-segment: warning: {image_path}: ")
    assert "converge" in lines[0]
    assert (tmp_path / "blocks_labels.png").exists()


def test_atomic_write_leaves_old_content_on_failure(tmp_path, monkeypatch):
    from gmm import outputs

    target = tmp_path / "result.png"
    outputs.atomic_write(target, b"old")
    assert target.read_bytes() == b"old"

    def failing_replace(src, dst):
        raise OSError(28, "No space left on device", str(dst))

    monkeypatch.setattr(outputs.os, "replace", failing_replace)
    with pytest.raises(OSError, match="No space left"):
        outputs.atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["result.png"]  # no temporary file left


def test_png_bytes_have_no_time_or_text_chunks():
    from gmm.outputs import png_bytes

    data = png_bytes(_blocks_image())
    assert data == png_bytes(_blocks_image())
    assert b"tIME" not in data and b"tEXt" not in data and b"iTXt" not in data
    with Image.open(io.BytesIO(data)) as decoded:
        np.testing.assert_array_equal(np.asarray(decoded), _blocks_image())
