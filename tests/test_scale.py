"""gmm.scale: the distributed fit is the single-process fit, and bad input is handled by name.

Every test runs on a LocalCluster started here (threads, or two small processes for the
lost-worker test) over a few tens of small synthetic frames.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("distributed")

import gmm  # noqa: E402
from gmm.data import football_clip  # noqa: E402
from gmm.labels import canonical_order, relabel_model  # noqa: E402
from gmm.scale import (  # noqa: E402
    CollectionInputError,
    SkippedInputWarning,
    count_collection,
    fit_collection,
    label_collection,
    merge_counts,
)
from gmm.scale import counts as C  # noqa: E402
from gmm.scale.labeller import Labeller  # noqa: E402
from gmm.scale.sources import plan  # noqa: E402

K = 4
SHAPE = (64, 96)


@pytest.fixture(scope="module")
def frames():
    """12 consecutive frames of a synthetic play, (12, 64, 96, 3) uint8."""
    return football_clip(2, 12, SHAPE)[0]


@pytest.fixture(scope="module")
def folder(frames, tmp_path_factory):
    path = tmp_path_factory.mktemp("frames")
    for i, frame in enumerate(frames):
        Image.fromarray(frame).save(path / f"f{i:02d}.png")
    return path


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address="127.0.0.1:0") as cluster, \
            Client(cluster) as connected:
        yield connected


@pytest.fixture(scope="module")
def reference(frames):
    """segment on one image holding every pixel of the collection."""
    return gmm.segment(np.concatenate(list(frames), axis=0), K, random_state=0)


def assert_same_model(a, b, atol=0.0):
    for name in ("weights_", "means_", "covariances_"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=0, atol=atol, err_msg=name)
    np.testing.assert_allclose(a.history_.log_likelihood, b.history_.log_likelihood, rtol=0, atol=atol)
    assert a.n_iter_ == b.n_iter_


# ------------------------------------------------------------------------------ counting
def test_merge_is_exact_in_any_order_and_grouping(frames, monkeypatch):
    parts = [C.count_image(f, 3) for f in frames]
    codes, counts = np.unique(C.pack(frames.reshape(-1, 3), 3), return_counts=True)
    rng = np.random.default_rng(0)
    results = []
    for dense_above in (0, 1 << 40):  # the dense-table and the sort merge
        monkeypatch.setattr(C, "_DENSE_MERGE_ABOVE", dense_above)
        order = rng.permutation(len(parts))
        shuffled = [parts[i] for i in order]
        results.append(merge_counts(merge_counts(*shuffled[:5]), merge_counts(*shuffled[5:])))
        results.append(merge_counts(*[merge_counts(p) for p in parts]))
    for merged in results:
        np.testing.assert_array_equal(merged.codes, codes)
        np.testing.assert_array_equal(merged.counts, counts)
        assert merged.counts.dtype == np.int64 and merged.n_images == len(frames)
    np.testing.assert_array_equal(C.unpack(codes, 3), np.unique(frames.reshape(-1, 3), axis=0))


def test_merge_refuses_mixed_channels():
    with pytest.raises(ValueError, match="grey and RGB"):
        merge_counts(C.empty_counts(1), C.empty_counts(3))


# --------------------------------------------------------------------------------- exactness
@pytest.mark.parametrize("batch_size", [1, 5])
def test_fit_equals_segment_on_all_pixels(folder, reference, client, batch_size):
    model = fit_collection(folder, K, client=client, batch_size=batch_size)
    assert_same_model(model, reference.model)  # bit for bit: the same weighted EM
    assert model.n_pixels_ == 12 * SHAPE[0] * SHAPE[1] and model.n_images_ == 12 and model.skipped_ == []


def test_fit_with_one_worker_equals_two(folder, reference):
    model = fit_collection(sorted(folder.glob("*.png")), K, n_workers=1, processes=False, batch_size=3)
    assert_same_model(model, reference.model)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # tol=0: runs all 25 iterations
def test_fit_equals_em_on_every_pixel_from_the_same_start(folder, frames, client):
    pixels = frames.reshape(-1, 3).astype(np.float64) / 255.0
    start = dict(weights_init=np.full(K, 1.0 / K), means_init=pixels[[0, 5000, 20000, 30000]],
                 precisions_init=np.stack([np.eye(3) * 50.0] * K), tol=0.0, max_iter=25)
    model = fit_collection(folder, K, client=client, batch_size=4, **start)
    every = gmm.GaussianMixture(K, **start).fit(pixels)  # 73,728 rows, no weights
    every = relabel_model(every, canonical_order(every))
    assert_same_model(model, every, atol=1e-10)


def test_count_collection_mixes_sources(folder, frames, client):
    import dask.array as da

    sources = [str(folder / "f0[0-5].png"), frames[6], da.from_array(frames[7], chunks=(20, 30, 1))]
    merged = count_collection(sources, client=client, batch_size=2)
    expected = [C.count_image(f, 3) for f in frames[:8]]
    np.testing.assert_array_equal(merged.codes, merge_counts(*expected).codes)
    np.testing.assert_array_equal(merged.counts, merge_counts(*expected).counts)
    assert merged.n_images == 6 + 1 + 4 * 4  # six files, one array, 4 x 4 tiles


# ---------------------------------------------------------------------------------- labels
def test_labels_are_segment_labels(folder, reference, client, tmp_path):
    model = fit_collection(folder, K, client=client)
    written = label_collection(model, folder, tmp_path / "png", client=client)
    assert list(written) == [str(p) for p in sorted(folder.glob("*.png"))]
    for i, (name, path) in enumerate(written.items()):
        assert Path(path).name == f"f{i:02d}_labels.png"
        expected = reference.labels[i * SHAPE[0]:(i + 1) * SHAPE[0]]
        np.testing.assert_array_equal(np.asarray(Image.open(path)), expected)
    as_npy = label_collection(model, folder, tmp_path / "npy", client=client, format="npy")
    loaded = np.load(as_npy[str(folder / "f03.png")])
    assert loaded.dtype == reference.labels.dtype
    np.testing.assert_array_equal(loaded, reference.labels[3 * SHAPE[0]:4 * SHAPE[0]])
    assert not list((tmp_path / "png").glob(".*"))  # no temporary file left behind


@pytest.mark.parametrize("render", ["mean", "soft"])
def test_renderings_are_gmm_segment_renderings(folder, client, tmp_path, render):
    from gmm.outputs import png_bytes

    one = folder / "f05.png"
    model = fit_collection([one], K, client=client)
    written = label_collection(model, [one], tmp_path, client=client, format=None, render=render)
    assert written == {str(one): str(tmp_path / f"f05_{render}.png")}
    assert Path(written[str(one)]).read_bytes() == png_bytes(gmm.segment(one, K).render(render))


def test_progress_bar_when_asked_and_a_scheduler_address(frames, client, capsys):
    expected = fit_collection(list(frames[:4]), K, client=client, batch_size=1)
    assert "Completed" not in capsys.readouterr().out  # not a terminal: no bar unless asked
    by_address = fit_collection(list(frames[:4]), K, client=client.scheduler.address, progress=True)
    assert "100% Completed" in capsys.readouterr().out
    assert_same_model(by_address, expected)


def test_each_colour_predicted_once_gives_the_same_labels(frames, reference):
    labeller = Labeller(reference.model, "rgb")
    for i in (3, 0, 3, 11):  # the second time, frame 3's colours all come from the table
        np.testing.assert_array_equal(labeller(frames[i]), reference.labels[i * SHAPE[0]:(i + 1) * SHAPE[0]])


class ManyComponents:
    """A stand-in model with 300 components: label = the red value + 44 (so labels pass 255)."""

    n_components = 300

    def predict(self, features):
        return np.rint(features[:, 0] * 255).astype(np.int64) + 44


def test_more_than_255_components_give_int32_maps_and_16_bit_pngs(frames):
    from gmm.scale.label import encode

    labels = Labeller(ManyComponents(), "rgb")(frames[0])
    expected = frames[0][:, :, 0].astype(np.int32) + 44
    assert labels.dtype == np.int32
    np.testing.assert_array_equal(labels, expected)
    png = Image.open(io.BytesIO(encode(labels, "png")))
    assert png.mode.startswith("I") and np.array_equal(np.asarray(png), expected)


def test_grey_collection(folder, frames, client, tmp_path):
    model = fit_collection(folder, 3, client=client, color_space="grey")
    single = gmm.segment(np.concatenate(list(frames), axis=0), 3, color_space="grey", random_state=0)
    assert_same_model(model, single.model)
    written = label_collection(model, folder, tmp_path, client=client)
    np.testing.assert_array_equal(np.asarray(Image.open(written[str(folder / "f11.png")])), single.labels[-SHAPE[0]:])


def test_tiled_dask_array_image(frames, client, tmp_path):
    zarr = pytest.importorskip("zarr")
    import dask.array as da

    image = np.concatenate(list(frames[:4]), axis=1)  # (64, 384, 3)
    single = gmm.segment(image, K, random_state=0)
    array = da.from_array(image, chunks=(20, 50, 3))
    model = fit_collection(array, K, client=client)
    assert_same_model(model, single.model)
    written = label_collection(model, array, tmp_path, client=client)
    np.testing.assert_array_equal(zarr.open_array(written["array_0"], mode="r")[:], single.labels)


def test_video_is_streamed_in_runs_that_seek_to_key_frames(frames, client, tmp_path):
    av = pytest.importorskip("av")
    path = tmp_path / "play.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=15)
        stream.width, stream.height, stream.pix_fmt = SHAPE[1], SHAPE[0], "yuv420p"
        stream.options = {"g": "4", "keyint_min": "4", "sc_threshold": "0", "crf": "20"}
        for frame in np.concatenate([frames, frames[::-1]]):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    with av.open(str(path)) as container:  # the reference: every frame, decoded in one pass
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    runs = plan(path, batch_size=4)
    assert len(runs) >= 4 and sum(r.n_frames for r in runs) == len(decoded) == 24
    single = gmm.segment(np.concatenate(decoded, axis=0), K, random_state=0)
    model = fit_collection(path, K, client=client, batch_size=4)
    assert_same_model(model, single.model)
    written = label_collection(model, path, tmp_path / "labels", client=client, batch_size=4)
    assert len(written) == 24
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "labels" / "play_000017_labels.png")),
                                  single.labels[17 * SHAPE[0]:18 * SHAPE[0]])


# ------------------------------------------------------------------------------- bad input
@pytest.fixture
def bad_folder(frames, tmp_path):
    path = tmp_path / "bad"
    path.mkdir()
    for i, frame in enumerate(frames[:6]):
        Image.fromarray(frame).save(path / f"f{i:02d}.png")
    (path / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not an image")
    Image.fromarray(frames[0][:, :, 0]).save(path / "grey.png")
    (path / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 truncated")
    return path


def test_unreadable_inputs_raise_by_name(bad_folder, client):
    with pytest.raises(CollectionInputError, match="corrupt.png") as caught:
        fit_collection(bad_folder, K, client=client)
    names = {Path(name.split(" (")[0]).name for name, _ in caught.value.errors}
    assert names == {"corrupt.png", "grey.png", "broken.mp4"}
    assert "color_space='grey'" in dict(caught.value.errors)[str(bad_folder / "grey.png")]


def test_unreadable_inputs_skipped_with_a_warning(bad_folder, frames, client, tmp_path):
    with pytest.warns(SkippedInputWarning) as caught:
        model = fit_collection(bad_folder, K, client=client, on_error="skip")
    for name in ("corrupt.png", "grey.png", "broken.mp4"):
        assert sum(name in str(w.message) for w in caught) == 1
    assert len(model.skipped_) == 3 and model.n_images_ == 6
    assert_same_model(model, gmm.segment(np.concatenate(list(frames[:6]), axis=0), K).model)
    out = tmp_path / "labels"
    with pytest.raises(CollectionInputError, match="broken.mp4"):
        label_collection(model, bad_folder, out, client=client)
    assert sorted(p.name for p in out.iterdir()) == [f"f{i:02d}_labels.png" for i in range(6)]  # all written


class Flaky:
    """A source whose first read fails with a transient error (or kills its worker process)."""

    def __init__(self, frames, marker, kill=False):
        self.images, self.marker, self.kill = frames, str(marker), kill

    def frames(self):
        if not os.path.exists(self.marker):
            Path(self.marker).touch()
            if self.kill:
                os._exit(1)  # the worker process dies mid-task
            raise ConnectionError("network share went away")
        for i, image in enumerate(self.images):
            yield f"frame{i}", image


def test_transient_failure_is_retried(frames, reference, client, tmp_path):
    halves = [Flaky(frames[:6], tmp_path / "a"), Flaky(frames[6:], tmp_path / "b")]
    assert_same_model(fit_collection(halves, K, client=client), reference.model)
    with pytest.raises(ConnectionError):
        fit_collection([Flaky(frames, tmp_path / "c")], K, client=client, retries=0)


def test_a_lost_worker_changes_nothing(frames, reference, tmp_path):
    import cloudpickle
    from distributed import Client, LocalCluster

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # worker processes cannot import tests
    sources = [Flaky(frames[:6], tmp_path / "a", kill=True), Flaky(frames[6:], tmp_path / "b")]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                      memory_limit="1GB") as cluster, Client(cluster) as two:
        model = fit_collection(sources, K, client=two)
        written = label_collection(model, [Flaky(frames[:2], tmp_path / "c", kill=True)], tmp_path / "out",
                                   client=two)
    assert (tmp_path / "a").exists() and (tmp_path / "c").exists()  # the workers that read them did die
    assert_same_model(model, reference.model)
    np.testing.assert_array_equal(np.asarray(Image.open(written["frame1"])), reference.labels[SHAPE[0]:2 * SHAPE[0]])


def test_a_failed_run_keeps_earlier_outputs(folder, frames, reference, client, tmp_path):
    model = reference.model
    first = label_collection(model, folder, tmp_path, client=client)
    before = {p: Path(p).read_bytes() for p in first.values()}
    with pytest.raises(ConnectionError):
        label_collection(model, [folder, Flaky(frames, tmp_path / "m")], tmp_path, client=client, retries=0)
    assert {p: Path(p).read_bytes() for p in first.values()} == before
    assert not list(tmp_path.glob(".*"))


# -------------------------------------------------------------------------- argument checks
def test_argument_errors(folder, reference, client, tmp_path):
    with pytest.raises(ValueError, match="on_error"):
        fit_collection(folder, K, client=client, on_error="ignore")
    with pytest.raises(ValueError, match="n_components"):
        fit_collection(folder, 0, client=client)
    with pytest.raises(ValueError, match="no file matches"):
        fit_collection(str(folder / "*.jpeg"), K, client=client)
    with pytest.raises(ValueError, match="unsupported source"):
        fit_collection([42], K, client=client)
    with pytest.raises(ValueError, match="fewer than n_components"):
        fit_collection(np.zeros((8, 8, 3), np.uint8), 2, client=client)
    with pytest.raises(ValueError, match="color_space"):
        label_collection(reference.model, folder, tmp_path, client=client, color_space="grey")
    with pytest.raises(ValueError, match="both be"):
        label_collection(reference.model, folder, tmp_path, client=client, render="labels")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for sub in "ab":
        (tmp_path / sub / "x.png").write_bytes((folder / "f00.png").read_bytes())
    with pytest.raises(ValueError, match="would both write"):
        label_collection(reference.model, [tmp_path / "a", tmp_path / "b"], tmp_path / "out", client=client)
    (tmp_path / "a" / "x_labels.png").write_bytes((folder / "f01.png").read_bytes())
    with pytest.raises(ValueError, match="refusing to overwrite input"):
        label_collection(reference.model, tmp_path / "a", tmp_path / "a", client=client)


def test_import_gmm_does_not_import_dask():
    code = "import sys, gmm, gmm.scale; print(any(m.split('.')[0] in ('dask', 'distributed') for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
