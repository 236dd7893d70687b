"""``gmm-segment``: in this process through ``gmm.cli.main`` and, where the process itself matters
(start-up, the console script, a terminal, Ctrl-C, Dask workers), as the installed script."""

from __future__ import annotations

import csv
import inspect
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gmm.cli import main
from gmm.render import PALETTE

SCRIPT = shutil.which("gmm-segment", path=str(Path(sys.executable).parent))
needs_script = pytest.mark.skipif(SCRIPT is None, reason="gmm-segment is not installed beside python")

# Three vertical blocks, pure-ish red, green and blue, with Gaussian noise: an easy 3-segment image.
BLOCK_COLOURS = np.array([(200, 30, 30), (30, 200, 30), (30, 30, 200)])
HEIGHT, BLOCK_WIDTH = 24, 16


def blocks_image(seed=0, noise=8.0):
    rng = np.random.default_rng(seed)
    clean = np.repeat(BLOCK_COLOURS[np.newaxis], HEIGHT, axis=0).repeat(BLOCK_WIDTH, axis=1)
    return np.clip(np.rint(clean + rng.normal(0.0, noise, clean.shape)), 0, 255).astype(np.uint8)


def grey_image(seed=1):
    """Three grey bands, dark to light, with noise."""
    rng = np.random.default_rng(seed)
    clean = np.repeat([40, 120, 210], BLOCK_WIDTH)[np.newaxis].repeat(HEIGHT, axis=0)
    return np.clip(np.rint(clean + rng.normal(0, 6, clean.shape)), 0, 255).astype(np.uint8)


def split(array):
    """The three blocks of an (H, W, ...) array, left to right."""
    return [array[:, i * BLOCK_WIDTH:(i + 1) * BLOCK_WIDTH] for i in range(3)]


def write_png(path, array, mode=None):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode=mode).save(path)
    return Path(path)


def read(path):
    with Image.open(path) as image:
        return np.asarray(image)


def cli(capsys, *args):
    """Run gmm-segment in this process: (exit status, stdout, stderr)."""
    try:
        status = main([str(a) for a in args])
    except SystemExit as exit_:  # argparse: usage errors, --help, --version
        status = exit_.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def run_script(*args, cwd=None, timeout=120):
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1")
    return subprocess.run([SCRIPT, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=timeout)


def names(folder):
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*") if p.is_file())


def no_temporaries(folder):
    return not [p for p in Path(folder).rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]


@pytest.fixture(scope="module")
def image_path(tmp_path_factory):
    return write_png(tmp_path_factory.mktemp("inputs") / "blocks.png", blocks_image())


# ------------------------------------------------------------------------ the command line
@needs_script
def test_help_and_version_start_fast_without_numpy():
    proc = run_script("--help")
    assert proc.returncode == 0
    for text in ("examples:", "--render", "overlay", "--space", "auto", "--jobs", "--recursive", "--overwrite",
                 "--skip-existing", "--mask", "--name", "gmm-segment fit", "exit status", "_labels.png",
                 "{stem}_k{k}_{space}"):
        assert text in proc.stdout, text
    version = run_script("--version")
    assert version.returncode == 0 and version.stdout.startswith("gmm-segment (gmm) ")
    # Lazy imports: answering --help loads none of the heavy libraries ...
    code = ("import sys; from gmm.cli import main\ntry: main(['--help'])\nexcept SystemExit: pass\n"
            "print(sorted(m for m in ('numpy', 'scipy', 'sklearn', 'skimage', 'PIL', 'dask', 'tqdm') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip().splitlines()[-1] == "[]"
    # ... so the whole process takes well under the 0.5 s (best of three, on a busy machine).
    seconds = []
    for _ in range(3):
        start = time.perf_counter()
        run_script("--help")
        seconds.append(time.perf_counter() - start)
    assert min(seconds) < 0.5, seconds


@pytest.mark.parametrize("sub", ["segment", "fit", "apply"])
def test_subcommand_help(capsys, sub):
    status, out, _ = cli(capsys, sub, "--help")
    assert status == 0 and "examples:" in out and "--jobs" in out


def test_defaults_are_the_estimators():
    from gmm.cli.options import DEFAULTS, fit_parser, segment_parser
    from gmm.mixture import GaussianMixture
    from gmm.segmentation import segment

    estimator = {name: p.default for name, p in inspect.signature(GaussianMixture).parameters.items()}
    seg = {name: p.default for name, p in inspect.signature(segment).parameters.items()}
    for parser in (segment_parser(), fit_parser()):
        args = parser.parse_args(["x.png", "-o", "out"])
        assert args.tol == estimator["tol"] == DEFAULTS["tol"]
        assert args.max_iter == estimator["max_iter"] == DEFAULTS["max_iter"]
        assert args.reg_covar == estimator["reg_covar"] == DEFAULTS["reg_covar"]
        assert args.init == estimator["init_params"] == seg["init"] == DEFAULTS["init"]
        assert args.seed == seg["random_state"] == DEFAULTS["seed"]
        assert args.n_components == DEFAULTS["n_components"]


@pytest.mark.parametrize("args,message", [
    (["x.png", "-k", "0", "-o", "out"], "must be a positive integer"),
    (["x.png", "-o", "out", "--overwrite", "--skip-existing"], "exclude each other"),
    (["x.png", "-o", "out", "--name", "{stem}_{colour}"], "unknown field {colour}"),
    (["x.png", "-o", "out", "--name", "sub/{stem}"], "file name, not a path"),
    (["x.png", "-o", "out", "-k", "3", "--names", "a,b"], "2 names for -k 3"),
    (["x.png", "-o", "out", "--render", "overlay,contour"], "comma-separated list"),
    (["x.png", "-o", "out", "--mask", "{name}.png"], "only {stem}"),
    (["x.png", "-o", "out", "-k", "auto", "--names", "a,b"], "not -k auto"),
    (["x.png", "-o", "out", "--smooth", "1", "--save-model"], "smoothed model cannot be saved"),
    (["x.png", "-o", "out", "--smooth", "-1"], "must be a finite number >= 0"),
    (["x.png", "-o", "out", "--regions", "0"], "must be a positive integer"),
])
def test_usage_errors_exit_2(capsys, args, message):
    status, _, err = cli(capsys, *args)
    assert status == 2 and message in err, err


def test_a_name_without_stem_is_refused_for_several_images(capsys, tmp_path):
    a, b = write_png(tmp_path / "a.png", blocks_image()), write_png(tmp_path / "b.png", blocks_image(1))
    status, _, err = cli(capsys, a, b, "-o", tmp_path / "out", "--name", "result")
    assert status == 2 and "put {stem} in it" in err
    assert cli(capsys, a, "-o", tmp_path / "out", "--name", "result")[0] == 0
    assert (tmp_path / "out" / "result_labels.png").exists()


# ------------------------------------------------------------------------------- outputs
@pytest.fixture(scope="module")
def full_run(image_path, tmp_path_factory):
    """One run with every output, into a folder that does not exist yet."""
    out = tmp_path_factory.mktemp("full") / "nested" / "out"
    status = main([str(image_path), "-k", "3", "--seed", "0", "--render", "overlay,palette,mean,soft", "-o", str(out),
                   "--save-model", "--save-elbo", "--max-iter", "50", "--tol", "1e-6", "--names", "blue,red,green"])
    return status, out


def test_full_run_writes_every_output_named_for_what_it_is(full_run):
    status, out = full_run
    assert status == 0
    stem = "blocks_k3_rgb"
    assert names(out) == sorted(f"{stem}_{suffix}" for suffix in (
        "labels.png", "segments.csv", "overlay.png", "palette.png", "mean.png", "soft.png", "model.json",
        "elbo.png", "history.json", "history.csv"))
    assert no_temporaries(out)


def test_label_image_is_16_bit_and_holds_the_api_labels(full_run, image_path):
    import skimage.io

    from gmm.segmentation import segment

    _, out = full_run
    labels = skimage.io.imread(out / "blocks_k3_rgb_labels.png")  # what scikit-image users read
    assert labels.dtype == np.uint16 and labels.shape == (HEIGHT, 3 * BLOCK_WIDTH)
    expected = segment(str(image_path), 3, random_state=0, max_iter=50, tol=1e-6).labels
    np.testing.assert_array_equal(labels, expected)
    # Canonical order, by mean luminance: blue 0, red 1, green 2 (the blocks are red, green, blue).
    assert [int(np.unique(block)[0]) for block in split(labels)] == [1, 2, 0]
    np.testing.assert_array_equal(read(out / "blocks_k3_rgb_palette.png"), PALETTE[labels])


def test_segment_table_has_one_row_per_segment(full_run):
    _, out = full_run
    rows = list(csv.DictReader((out / "blocks_k3_rgb_segments.csv").read_text().splitlines()))
    assert [row["label"] for row in rows] == ["0", "1", "2"]
    assert [row["name"] for row in rows] == ["blue", "red", "green"]
    assert sum(int(row["pixels"]) for row in rows) == HEIGHT * 3 * BLOCK_WIDTH
    assert sum(float(row["share"]) for row in rows) == pytest.approx(1, abs=1e-5)
    for row, block in zip(rows, (2, 0, 1)):  # label 0 is the blue block, the third from the left
        mean = [float(row[f"mean_{c}"]) for c in "rgb"]
        assert np.allclose(mean, BLOCK_COLOURS[block], atol=3)
        box = [int(row[k]) for k in ("min_row", "min_col", "max_row", "max_col")]
        assert box == [0, block * BLOCK_WIDTH, HEIGHT, (block + 1) * BLOCK_WIDTH]
    assert rows[0]["colour"] == "#" + "".join(f"{int(c):02x}" for c in PALETTE[0])


def test_renderings(full_run, image_path):
    _, out = full_run
    image = read(image_path)
    mean = read(out / "blocks_k3_rgb_mean.png")
    for block, colour in zip(split(mean), BLOCK_COLOURS):
        assert np.all(np.abs(block.astype(int) - colour) <= 3)
    soft = read(out / "blocks_k3_rgb_soft.png")
    assert len({tuple(block[0, 0]) for block in split(soft)}) == 3
    overlay = read(out / "blocks_k3_rgb_overlay.png")
    assert overlay.shape[0] > image.shape[0] and overlay.shape[1] >= image.shape[1]  # a legend under the image
    picture = overlay[:HEIGHT, : image.shape[1]].astype(int)
    assert np.abs(picture - image).max() > 30  # filled ...
    assert not np.array_equal(picture, PALETTE[read(out / "blocks_k3_rgb_labels.png")])  # ... semi-transparently


def test_model_and_history_files(full_run):
    from gmm.model_io import load_model

    _, out = full_run
    model = load_model(out / "blocks_k3_rgb_model.json")
    assert model.color_space_ == "rgb" and model.names_ == ["blue", "red", "green"]
    document = json.loads((out / "blocks_k3_rgb_history.json").read_text())
    assert document["n_components"] == 3 and document["seed"] == 0 and document["color_space"] == "rgb"
    log_likelihood = np.array(document["history"]["log_likelihood"], dtype=float)
    assert len(log_likelihood) == document["n_iter"] >= 1
    assert np.all(np.diff(log_likelihood) >= -1e-9)
    assert (out / "blocks_k3_rgb_history.csv").read_text().startswith("iteration,log_likelihood,")


@pytest.mark.parametrize("label_format,suffix", [("tiff", ".tif"), ("npy", ".npy")])
def test_label_formats(capsys, image_path, tmp_path, label_format, suffix):
    status, _, _ = cli(capsys, image_path, "-o", tmp_path, "--label-format", label_format, "--render", "none",
                       "--no-table")
    assert status == 0
    assert names(tmp_path) == [f"blocks_k3_rgb_labels{suffix}"]
    path = tmp_path / f"blocks_k3_rgb_labels{suffix}"
    if label_format == "tiff":
        import tifffile

        labels = tifffile.imread(path)
        assert labels.dtype == np.uint16
    else:
        labels = np.load(path)
    assert [int(np.unique(block)[0]) for block in split(labels)] == [1, 2, 0]


def test_same_seed_gives_identical_bytes(full_run, image_path, tmp_path):
    _, first = full_run
    main([str(image_path), "-k", "3", "--seed", "0", "--render", "overlay,palette,mean,soft", "-o", str(tmp_path),
          "--save-model", "--save-elbo", "--max-iter", "50", "--tol", "1e-6", "--names", "blue,red,green"])
    for path in first.iterdir():
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name


# ----------------------------------------------------------------------- inputs and folders
@pytest.fixture(scope="module")
def mixed_folder(tmp_path_factory):
    """Colour, grey, RGBA (a transparent corner), 16-bit grey, a broken file and a non-image."""
    folder = tmp_path_factory.mktemp("mixed") / "photos"
    write_png(folder / "colour.png", blocks_image())
    write_png(folder / "grey.png", grey_image())
    rgba = np.dstack([blocks_image(2), np.full((HEIGHT, 3 * BLOCK_WIDTH), 255, np.uint8)])
    rgba[:6, :6, 3] = 0
    write_png(folder / "rgba.png", rgba)
    write_png(folder / "deep.png", grey_image(3).astype(np.uint16) * 257)
    data = (folder / "colour.png").read_bytes()
    (folder / "broken.png").write_bytes(data[: len(data) // 2])
    (folder / "notes.txt").write_text("not an image, not listed\n")
    write_png(folder / "sub" / "inner.png", blocks_image(4))
    return folder


def test_mixed_folder_every_good_image_written_the_broken_one_named(capsys, mixed_folder, tmp_path):
    out = tmp_path / "OUT"
    status, stdout, stderr = cli(capsys, mixed_folder, "-o", out)
    assert status == 1
    assert stderr.splitlines() == [stderr.splitlines()[0]]
    assert stderr.startswith(f"gmm-segment: error: {mixed_folder / 'broken.png'}: ") and "truncated" in stderr
    assert "Traceback" not in stderr
    expected = [f"{stem}_{suffix}" for stem in ("colour_k3_rgb", "deep_k3_grey", "grey_k3_grey", "rgba_k3_rgb")
                for suffix in ("labels.png", "overlay.png", "segments.csv")]
    assert names(out) == sorted(expected)  # nothing else: no subfolder without --recursive, no temporaries
    # One line per image on stdout (not a terminal), then the summary.
    lines = stdout.splitlines()
    assert len(lines) == 5 and lines[-1].startswith("gmm-segment: 5 images: 4 written, 0 skipped, 1 failed")
    assert lines[0].startswith(f"{mixed_folder / 'colour.png'} -> {out / 'colour_k3_rgb_labels.png'}")
    # The 16-bit input is segmented like its 8-bit version; the RGBA corner is "none".
    labels = read(out / "rgba_k3_rgb_labels.png")
    assert np.all(labels[:6, :6] == 65535) and labels[6:].max() <= 2
    rows = list(csv.DictReader((out / "rgba_k3_rgb_segments.csv").read_text().splitlines()))
    assert rows[-1]["label"] == "none" and int(rows[-1]["pixels"]) == 36
    assert read(out / "rgba_k3_rgb_overlay.png")[0, 0, 3] == 0  # transparent where the input was


def test_recursive_mirrors_subfolders(capsys, mixed_folder, tmp_path):
    status, _, _ = cli(capsys, mixed_folder, "-r", "-o", tmp_path, "--render", "none", "--no-table")
    assert status == 1
    assert "sub/inner_k3_rgb_labels.png" in names(tmp_path)


def test_grey_image_forced_into_a_colour_space_says_how_to_fix_it(capsys, mixed_folder, tmp_path):
    status, _, err = cli(capsys, mixed_folder / "grey.png", "--space", "lab", "-o", tmp_path)
    assert status == 1 and "--space grey" in err and "color_space" not in err
    assert cli(capsys, mixed_folder / "grey.png", "--space", "grey", "-o", tmp_path)[0] == 0


def test_alpha_white_composites_instead_of_masking(capsys, mixed_folder, tmp_path):
    assert cli(capsys, mixed_folder / "rgba.png", "--alpha", "white", "-o", tmp_path)[0] == 0
    assert read(tmp_path / "rgba_k3_rgb_labels.png").max() <= 2  # every pixel labelled


def test_mask_images_by_stem(capsys, image_path, tmp_path):
    mask = np.zeros((HEIGHT, 3 * BLOCK_WIDTH), np.uint8)
    mask[:, BLOCK_WIDTH:] = 255  # the first block is left out
    write_png(tmp_path / "masks" / "blocks.png", mask)
    status, _, err = cli(capsys, image_path, "-k", "2", "--mask", tmp_path / "masks" / "{stem}.png", "-o", tmp_path / "out")
    assert status == 0, err
    labels = read(tmp_path / "out" / "blocks_k2_rgb_labels.png")
    assert np.all(labels[:, :BLOCK_WIDTH] == 65535) and set(np.unique(labels[:, BLOCK_WIDTH:])) == {0, 1}
    status, _, err = cli(capsys, image_path, "--mask", tmp_path / "nomask" / "{stem}.png", "-o", tmp_path / "out2")
    assert status == 1 and "no mask" in err


def test_bad_inputs_report_one_line_each_and_the_rest_is_processed(capsys, image_path, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    good = shutil.copy(image_path, inputs / "good.png")
    data = Path(image_path).read_bytes()
    (inputs / "half.png").write_bytes(data[: len(data) // 2])
    (inputs / "notes.png").write_text("this is not an image\n")
    (tmp_path / "empty").mkdir()
    missing = inputs / "missing.png"
    out = tmp_path / "out"

    status, _, err = cli(capsys, missing, inputs / "half.png", good, inputs / "notes.png", tmp_path / "empty", "-o", out)

    assert status == 1
    lines = err.splitlines()
    assert len(lines) == 4, err
    for name in (missing, tmp_path / "empty", inputs / "half.png", inputs / "notes.png"):
        assert sum(line.startswith(f"gmm-segment: error: {name}: ") for line in lines) == 1
    assert "no such file" in err and "truncated" in err and "no image files" in err
    assert names(out) == ["good_k3_rgb_labels.png", "good_k3_rgb_overlay.png", "good_k3_rgb_segments.csv"]


def test_same_stems_are_named_apart(capsys, tmp_path):
    a = write_png(tmp_path / "a.png", blocks_image())
    other = write_png(tmp_path / "other" / "a.png", blocks_image(1))
    jpeg = tmp_path / "a.jpg"
    Image.fromarray(blocks_image(2)).save(jpeg, quality=95)
    status, _, err = cli(capsys, a, other, jpeg, "-o", tmp_path / "out", "--render", "none", "--no-table")
    assert status == 0, err
    assert names(tmp_path / "out") == ["a-2_k3_rgb_labels.png", "a-3_k3_rgb_labels.png", "a_k3_rgb_labels.png"]


def test_never_overwrites_an_input_even_with_overwrite(capsys, tmp_path):
    # An input named like the output of another: refused whatever the flags.
    a = write_png(tmp_path / "a.png", blocks_image())
    trap = write_png(tmp_path / "a_k3_rgb_labels.png", blocks_image(1))
    before = trap.read_bytes()
    status, _, err = cli(capsys, a, trap, "-o", tmp_path, "--overwrite", "--render", "none", "--no-table")
    assert status == 1
    assert err.splitlines() == [f"gmm-segment: error: {a}: refusing to overwrite input file {trap} with an output"]
    assert trap.read_bytes() == before
    assert (tmp_path / "a_k3_rgb_labels_k3_rgb_labels.png").exists() and no_temporaries(tmp_path)


def test_existing_outputs_refused_replaced_or_skipped(capsys, image_path, tmp_path):
    assert cli(capsys, image_path, "-o", tmp_path)[0] == 0
    labels = tmp_path / "blocks_k3_rgb_labels.png"
    labels.write_bytes(b"stale")
    status, _, err = cli(capsys, image_path, "-o", tmp_path)
    assert status == 1 and "exists: pass --overwrite" in err and labels.read_bytes() == b"stale"
    (tmp_path / "blocks_k3_rgb_overlay.png").unlink()
    status, out, _ = cli(capsys, image_path, "-o", tmp_path, "--skip-existing")
    assert status == 0 and labels.read_bytes() == b"stale"  # kept; the missing one is written again
    assert (tmp_path / "blocks_k3_rgb_overlay.png").exists()
    status, out, _ = cli(capsys, image_path, "-o", tmp_path, "--skip-existing")
    assert status == 0 and "skipped" in out and "1 skipped" in out
    assert cli(capsys, image_path, "-o", tmp_path, "--overwrite")[0] == 0
    assert read(labels).dtype == np.uint16


def test_names_carry_the_settings_so_sweeps_do_not_collide(capsys, image_path, tmp_path):
    for k in ("2", "3"):
        for space in ("rgb", "lab"):
            assert cli(capsys, image_path, "-k", k, "--space", space, "-o", tmp_path, "--render", "none", "--no-table")[0] == 0
    assert cli(capsys, image_path, "--seed", "5", "--name", "{stem}_s{seed}_{init}", "-o", tmp_path, "--render", "none",
               "--no-table")[0] == 0
    assert names(tmp_path) == sorted(["blocks_k2_lab_labels.png", "blocks_k2_rgb_labels.png", "blocks_k3_lab_labels.png",
                                      "blocks_k3_rgb_labels.png", "blocks_s5_kmeans_labels.png"])


def test_warnings_are_one_line_each(capsys, image_path, tmp_path):
    status, _, err = cli(capsys, image_path, "--max-iter", "1", "--tol", "0", "-o", tmp_path)
    assert status == 0  # a warning is not a failure: the outputs are written
    lines = [line for line in err.splitlines() if "converge" in line]
    assert len(lines) == 1 and lines[0].startswith(f"gmm-segment: warning: {image_path}: ")
    assert all(line.startswith("gmm-segment: warning: ") for line in err.splitlines())


def test_too_few_colours_uses_the_command_line_spelling(capsys, tmp_path):
    flat = write_png(tmp_path / "flat.png", np.full((4, 4, 3), 7, np.uint8))
    status, _, err = cli(capsys, flat, "-k", "3", "--space", "rgb", "-o", tmp_path / "out")
    assert status == 1 and "-k 3" in err and "n_components" not in err


def test_one_pixel_image_is_one_clear_error(capsys, tmp_path):
    dot = write_png(tmp_path / "dot.png", np.array([[[10, 20, 30]]], np.uint8))
    status, _, err = cli(capsys, dot, "-k", "1", "-o", tmp_path / "out")
    assert status == 1 and err.startswith(f"gmm-segment: error: {dot}: cannot segment: ") and len(err.splitlines()) == 1
    assert names(tmp_path / "out") == []


# ------------------------------------------------------------ K choice, smoothing, regions
def test_k_auto_smoothing_and_regions(capsys, image_path, tmp_path):
    from gmm.segmentation import segment

    status, out, err = cli(capsys, image_path, "-k", "auto", "--smooth", "0.5", "--regions", "5", "-o", tmp_path)
    assert status == 0, err
    stem = "blocks_kauto_rgb_smooth0.5_regions5"
    assert names(tmp_path) == sorted(f"{stem}_{s}" for s in ("labels.png", "regions.csv", "overlay.png"))
    assert "(auto)" in out and "smoothing beta=0.5" in out
    expected = segment(str(image_path), "auto", smoothing=0.5, random_state=0)
    assert expected.n_components == 3
    regions = read(tmp_path / f"{stem}_labels.png")
    np.testing.assert_array_equal(regions, expected.regions(5))
    assert regions.min() == 1  # regions are numbered from 1
    rows = list(csv.DictReader((tmp_path / f"{stem}_regions.csv").read_text().splitlines()))
    assert [int(row["label"]) for row in rows] == list(range(1, regions.max() + 1))
    assert sum(int(row["pixels"]) for row in rows) == regions.size


def test_regions_and_smoothing_refuse_masks_with_the_fix(capsys, mixed_folder, tmp_path):
    for option in (["--regions", "5"], ["--smooth", "1"]):
        status, _, err = cli(capsys, mixed_folder / "rgba.png", *option, "-o", tmp_path)
        assert status == 1 and len(err.splitlines()) == 1 and "mask" in err and "smoothing" not in err
    assert cli(capsys, mixed_folder / "rgba.png", "--regions", "5", "--alpha", "white", "-o", tmp_path)[0] == 0


# --------------------------------------------------------------------------- fit and apply
def test_fit_then_apply_reproduces_segment_on_the_fitted_image(capsys, image_path, tmp_path):
    model = tmp_path / "model.json"
    status, out, _ = cli(capsys, "fit", image_path, "-o", model, "--names", "b,r,g")
    assert status == 0 and "K=3, rgb, fitted on 1 image" in out
    assert cli(capsys, "apply", model, image_path, "-o", tmp_path / "applied", "--render", "palette")[0] == 0
    assert cli(capsys, image_path, "-o", tmp_path / "segmented", "--render", "palette")[0] == 0
    applied = tmp_path / "applied" / "blocks_model_labels.png"
    assert applied.read_bytes() == (tmp_path / "segmented" / "blocks_k3_rgb_labels.png").read_bytes()
    rows = list(csv.DictReader((tmp_path / "applied" / "blocks_model_segments.csv").read_text().splitlines()))
    assert [row["name"] for row in rows] == ["b", "r", "g"]  # the model's names


def test_fit_on_a_mixed_folder_and_apply_everywhere(capsys, mixed_folder, tmp_path):
    model = tmp_path / "m.json"
    status, _, err = cli(capsys, "fit", mixed_folder, "-r", "-k", "4", "-o", model)
    assert status == 1 and "broken.png" in err  # named, left out; the model is still written
    document = json.loads(model.read_text())
    assert document["color_space"] == "rgb" and document["info"]["n_images"] == 5
    status, _, _ = cli(capsys, "apply", model, mixed_folder / "grey.png", mixed_folder / "colour.png", "-o", tmp_path / "o")
    assert status == 0
    assert {"grey_m_labels.png", "colour_m_labels.png"} <= set(names(tmp_path / "o"))
    # The same component means the same colour in every image: the table's colours agree.
    tables = [list(csv.DictReader((tmp_path / "o" / f"{s}_m_segments.csv").read_text().splitlines()))
              for s in ("grey", "colour")]
    assert [r["colour"] for r in tables[0]] == [r["colour"] for r in tables[1]]


def test_fit_with_k_auto(capsys, image_path, tmp_path):
    status, out, _ = cli(capsys, "fit", image_path, "-k", "auto", "-o", tmp_path / "m.json")
    assert status == 0 and "K=3 (auto)" in out
    assert json.loads((tmp_path / "m.json").read_text())["n_components"] == 3


def test_fit_refuses_to_overwrite_its_model(capsys, image_path, tmp_path):
    model = tmp_path / "m.json"
    assert cli(capsys, "fit", image_path, "-o", model)[0] == 0
    status, _, err = cli(capsys, "fit", image_path, "-o", model)
    assert status == 1 and "exists" in err
    assert cli(capsys, "fit", image_path, "-o", model, "--overwrite")[0] == 0


def test_apply_refuses_a_tampered_model(capsys, image_path, tmp_path):
    model = tmp_path / "m.json"
    assert cli(capsys, "fit", image_path, "-o", model)[0] == 0
    model.write_text(model.read_text().replace('"rgb"', '"lab"'))
    status, _, err = cli(capsys, "apply", model, image_path, "-o", tmp_path / "out")
    assert status == 1 and err.startswith(f"gmm-segment: error: {model}: ") and "checksum" in err
    assert not (tmp_path / "out").exists() or names(tmp_path / "out") == []


# -------------------------------------------------------------- processes: Dask, terminal, Ctrl-C
@needs_script
def test_jobs_run_on_dask_and_give_the_same_bytes(mixed_folder, tmp_path):
    one = run_script(mixed_folder, "-o", tmp_path / "one", "--render", "overlay,soft")
    two = run_script(mixed_folder, "-o", tmp_path / "two", "--render", "overlay,soft", "--jobs", "2")
    assert one.returncode == two.returncode == 1
    assert sorted(one.stderr.splitlines()) == sorted(two.stderr.splitlines())
    assert len(two.stdout.splitlines()) == 5 and "Traceback" not in two.stderr
    assert names(tmp_path / "one") == names(tmp_path / "two")
    for name in names(tmp_path / "one"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
    # gmm-segment fit counts the images on Dask too: the same model, byte for byte.
    fits = [run_script("fit", mixed_folder, "-k", "2", "-o", tmp_path / f"m{j}.json", "--jobs", j) for j in "12"]
    assert [proc.returncode for proc in fits] == [1, 1]
    assert (tmp_path / "m1.json").read_bytes() == (tmp_path / "m2.json").read_bytes()


@pytest.fixture(scope="module")
def scheduler_address():
    """A LocalCluster for this module's --scheduler tests (started here, closed after them)."""
    distributed = pytest.importorskip("distributed")
    import logging

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  silence_logs=logging.ERROR) as cluster:
        yield cluster.scheduler_address


def test_scheduler_runs_fit_segment_and_apply_on_a_cluster_with_the_same_bytes(mixed_folder, tmp_path,
                                                                               scheduler_address, capsys):
    """--scheduler: the images go to an existing Dask cluster; counts are merged on its workers.
    The model file and every output are byte for byte those of a run on this machine."""
    for extra in ([], ["--scheduler", scheduler_address]):
        tag = "cluster" if extra else "here"
        model = tmp_path / tag / "model.json"  # apply names its outputs after the model's stem
        assert main(["fit", str(mixed_folder), "-k", "2", "-o", str(model), *extra]) == 1
        out, err = capsys.readouterr()
        assert "fitted on 4 image(s)" in out and "broken.png" in err and "Traceback" not in err
        assert main([str(mixed_folder), "-k", "2", "-o", str(tmp_path / f"seg-{tag}"), "--render", "overlay",
                     *extra]) == 1
        assert main(["apply", str(model), str(mixed_folder), "-o", str(tmp_path / f"app-{tag}"), *extra]) == 1
        capsys.readouterr()
    assert (tmp_path / "here" / "model.json").read_bytes() == (tmp_path / "cluster" / "model.json").read_bytes()
    for kind in ("seg", "app"):
        here, there = tmp_path / f"{kind}-here", tmp_path / f"{kind}-cluster"
        assert names(here) == names(there) and names(here)
        for name in names(here):
            assert (here / name).read_bytes() == (there / name).read_bytes(), name


def test_merging_on_workers_is_the_merge_of_all_images(mixed_folder):
    """The tree's merge (grey and colour apart, any grouping) gives the counts of one merge."""
    from gmm.cli.fitting import count_job, merge_by_channels, merge_counts
    from gmm.cli.inputs import expand

    jobs, _ = expand([mixed_folder], mixed_folder, False)
    counted = [count_job(job, ("mask", None)) for job in jobs]
    done = [c for c in counted if c.status == "done"]
    assert {c.values.shape[1] for c in done} == {1, 3}
    tree = merge_by_channels(merge_by_channels(*counted[:2]), merge_by_channels(*counted[2:]))
    for space in ("auto", "grey", "rgb"):
        expected, got = merge_counts(done, space), merge_counts(list(tree), space)
        assert expected[0] == got[0]
        np.testing.assert_array_equal(expected[1], got[1])
        np.testing.assert_array_equal(expected[2], got[2])


def test_scheduler_and_jobs_exclude_each_other(mixed_folder, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([str(mixed_folder), "-o", str(tmp_path), "--jobs", "2", "--scheduler", "tcp://127.0.0.1:1"])
    assert exit_info.value.code == 2 and "--jobs and --scheduler exclude each other" in capsys.readouterr().err


def test_jobs_use_dask(monkeypatch, mixed_folder, tmp_path):
    """--jobs goes through dask.bag's processes scheduler (here patched to run in this process)."""
    import dask.bag

    calls = []
    original = dask.bag.Bag.compute

    def spy(self, **kwargs):
        calls.append(dict(kwargs))
        kwargs.update(scheduler="sync")
        kwargs.pop("num_workers"), kwargs.pop("chunksize"), kwargs.pop("initializer")
        return original(self, **kwargs)

    monkeypatch.setattr(dask.bag.Bag, "compute", spy)
    assert main([str(mixed_folder), "-o", str(tmp_path), "--jobs", "2", "--render", "none"]) == 1
    assert calls and calls[0]["scheduler"] == "processes" and calls[0]["num_workers"] == 2
    assert len(names(tmp_path)) == 8


@needs_script
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
                              stdout=subprocess.PIPE, stderr=terminal, timeout=120,
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
    assert proc.stdout.decode().splitlines() == [proc.stdout.decode().splitlines()[-1]]  # the summary only


@needs_script
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_exits_cleanly_keeping_finished_outputs(tmp_path, jobs):
    folder = tmp_path / "many"
    for i in range(30):
        write_png(folder / f"frame{i}.png", blocks_image(i))
    out = tmp_path / "out"
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1")
    # A runner started in the background by a shell without job control ignores SIGINT, and its
    # children inherit that (Python then installs no Ctrl-C handler): give the command the default.
    proc = subprocess.Popen([SCRIPT, str(folder), "-o", str(out), "--jobs", jobs], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    first = proc.stdout.readline()  # the first image is written
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=120)
    assert first.startswith(str(folder)), (first, err)
    assert proc.returncode == 130, err
    assert err.splitlines() == [err.splitlines()[0]] and "interrupted" in err and "Traceback" not in err
    written = names(out)
    assert written and len(written) < 90 and len(written) % 3 == 0  # whole images only
    assert no_temporaries(out)
    for name in written:
        if name.endswith("_labels.png"):
            assert read(out / name).shape == (HEIGHT, 3 * BLOCK_WIDTH)


def test_ctrl_c_inside_compiled_code_stops_the_run_and_a_real_error_does_not(capsys, tmp_path, monkeypatch):
    """Ctrl-C that lands inside a numba call surfaces as a SystemError whose cause is the
    KeyboardInterrupt (a fresh-clone CI run met it once, in a colour count). The run must stop as
    for Ctrl-C (130, finished outputs kept), not report the image as failed and go on. A
    SystemError of its own stays a failure of that image."""
    from gmm.cli import work

    folder = tmp_path / "in"
    for i in range(3):
        write_png(folder / f"frame{i}.png", blocks_image(i))
    process, calls = work._process, []

    def wrapped_interrupt(job, settings):
        calls.append(job.path.name)
        if len(calls) == 2:
            try:
                raise KeyboardInterrupt
            except KeyboardInterrupt as interrupt:
                raise SystemError("returned a result with an exception set") from interrupt
        return process(job, settings)

    monkeypatch.setattr(work, "_process", wrapped_interrupt)
    status, _, err = cli(capsys, folder, "-o", tmp_path / "out", "--jobs", "1")
    assert status == 130 and "interrupted" in err and "unexpected error" not in err
    assert len(calls) == 2 and len(names(tmp_path / "out")) == 3  # the first image, whole

    def own_error(job, settings):
        raise SystemError("a bug")

    monkeypatch.setattr(work, "_process", own_error)
    status, _, err = cli(capsys, folder, "-o", tmp_path / "out2", "--jobs", "1")
    assert status == 1 and err.count("unexpected error, please report it") == 3


# -------------------------------------------------------------------------- the writers
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

    data = png_bytes(blocks_image())
    assert data == png_bytes(blocks_image())
    assert b"tIME" not in data and b"tEXt" not in data and b"iTXt" not in data
    with Image.open(io.BytesIO(data)) as decoded:
        np.testing.assert_array_equal(np.asarray(decoded), blocks_image())


def test_label_image_refuses_labels_beyond_16_bits():
    from gmm.cli.files import InputError, label_image_bytes

    with pytest.raises(InputError, match="--label-format npy"):
        label_image_bytes(np.array([[0, 65535]]), "png")
    assert label_image_bytes(np.array([[-1, 1]]), "png", none_value=0)  # regions: 0 is "none"
