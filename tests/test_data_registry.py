"""The data registry: hash-verified loading from the mirror, the cache or a download."""

from __future__ import annotations

import csv
import importlib
import re
import shutil

import numpy as np
import pytest
import requests
from PIL import Image

from gmm import data
from gmm.companion.paths import REPO_ROOT

reg = importlib.import_module("gmm.data.registry")  # the module: gmm.data.registry is also a function

SHARED_MIRROR = REPO_ROOT.parent / "shared" / "data"


def _mirror_folder():
    folder = reg.data_mirror() or SHARED_MIRROR
    return folder if (folder / "seed" / "fox.jpg").is_file() else None


@pytest.fixture
def mirror(monkeypatch):
    """The shared data mirror, named by GMM_DATA_MIRROR; skip when it is absent."""
    folder = _mirror_folder()
    if folder is None:
        pytest.skip("data mirror absent (set GMM_DATA_MIRROR to ../shared/data)")
    monkeypatch.setenv(reg.DATA_MIRROR_ENV, str(folder))
    return folder


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """An empty cache and a network that always fails (nothing is ever sent)."""
    calls = []

    def no_network(self, url, output_file, pooch_obj, check_only=False):
        calls.append(url)
        raise requests.exceptions.ConnectionError(f"no route to host for {url}")

    import pooch.downloaders

    monkeypatch.setattr(pooch.downloaders.HTTPDownloader, "__call__", no_network)
    monkeypatch.setenv(reg.DATA_CACHE_ENV, str(tmp_path / "cache"))
    return calls


def _serve(monkeypatch, payload: bytes):
    """Make pooch 'download' ``payload`` for any URL, recording the URLs asked for."""
    calls = []

    def fake_download(self, url, output_file, pooch_obj, check_only=False):
        calls.append(url)
        if isinstance(output_file, (str, bytes)) or hasattr(output_file, "__fspath__"):
            with open(output_file, "wb") as handle:
                handle.write(payload)
        else:
            output_file.write(payload)

    import pooch.downloaders

    monkeypatch.setattr(pooch.downloaders.HTTPDownloader, "__call__", fake_download)
    return calls


# --- the registry itself ------------------------------------------------------------------


def test_registry_lists_photos_and_bsds_with_pinned_urls():
    entries = data.registry()
    kinds = [e.kind for e in entries.values()]
    assert {"fox", "moose", "football"} <= set(entries)
    assert kinds.count("photo") == 3
    assert kinds.count("bsds_image") == kinds.count("bsds_truth") == 10 + 200 + 100
    assert [len(data.bsds_ids(split)) for split in ("test", "train", "val")] == [10, 200, 100]
    with pytest.raises(ValueError, match="split must be one of"):
        data.bsds_ids("training")
    assert len({e.path for e in entries.values()}) == len(entries)
    for entry in entries.values():
        assert re.fullmatch(r"[0-9a-f]{64}", entry.sha256)
        # Every URL names a commit, so the bytes behind it cannot change.
        assert entry.url.startswith("https://raw.githubusercontent.com/")
        assert re.search(r"/[0-9a-f]{40}/", entry.url), entry.url
        assert entry.licence
    assert "Martin" in entries["bsds_14085"].licence and "Arbelaez" in entries["bsds_14085"].licence


def test_no_data_file_is_kept_in_the_checkout():
    suffixes = {".jpg", ".jpeg", ".png", ".mat"}
    kept = [p for folder in ("data", "gmm", "figures", "notebooks") for p in (REPO_ROOT / folder).rglob("*")
            if p.suffix.lower() in suffixes - {".png"} or (p.suffix.lower() == ".png" and folder == "data")]
    assert kept == []


def test_registry_agrees_with_the_mirror_manifests(mirror):
    entries = data.registry()
    with open(mirror / "bsds" / "manifest.csv", newline="") as handle:
        manifest = list(csv.DictReader(handle))
    assert data.bsds_ids() == [row["image_id"] for row in manifest]
    for row in manifest:
        assert entries[f"bsds_{row['image_id']}"].sha256 == row["jpeg_sha256"]
    for split in ("train", "val"):
        with open(mirror / f"bsds-{split}" / "manifest.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert data.bsds_ids(split) == [row["image_id"] for row in rows]
        for row in rows:
            assert entries[f"bsds_{row['image_id']}"].sha256 == row["jpeg_sha256"]
            assert entries[f"bsds_{row['image_id']}_gt"].sha256 == row["gt_sha256"]
    seed_readme = (mirror / "seed" / "README.md").read_text()
    for name in ("fox", "moose", "football"):
        assert entries[name].sha256 in seed_readme


def test_malformed_registry_is_rejected(monkeypatch, tmp_path):
    bad = tmp_path / "registry.csv"
    bad.write_text("name,kind,path,sha256,url,licence\nfox,photo,seed/fox.jpg,abc,https://x,none\n")
    monkeypatch.setattr(reg, "REGISTRY_FILE", bad)
    with pytest.raises(ValueError, match="not a sha256"):
        data.registry()


# --- load ---------------------------------------------------------------------------------


def test_mirror_hit_returns_the_verified_mirror_file(mirror, offline):
    for name, entry in data.registry().items():
        assert data.load(name) == mirror / entry.path
    assert offline == []  # nothing was downloaded


def test_tampered_mirror_copy_is_refused(mirror, offline, monkeypatch, tmp_path):
    fake = tmp_path / "mirror"
    (fake / "seed").mkdir(parents=True)
    original = (mirror / "seed" / "fox.jpg").read_bytes()
    (fake / "seed" / "fox.jpg").write_bytes(original[:-10] + b"0123456789")
    monkeypatch.setenv(reg.DATA_MIRROR_ENV, str(fake))
    expected = data.registry()["fox"].sha256
    actual = data.sha256_of(fake / "seed" / "fox.jpg")
    with pytest.raises(data.DataIntegrityError) as caught:
        data.load("fox")
    assert expected in str(caught.value) and actual in str(caught.value)
    assert offline == []  # refused outright, not replaced by a download


def test_missing_file_offline_gives_one_clear_error(offline, tmp_path, monkeypatch):
    monkeypatch.setenv(reg.DATA_MIRROR_ENV, str(tmp_path / "empty-mirror"))
    entry = data.registry()["moose"]
    with pytest.raises(data.DataUnavailableError) as caught:
        data.load("moose")
    message = str(caught.value)
    assert "'moose'" in message and entry.url in message and "GMM_DATA_MIRROR" in message
    assert offline == [entry.url]
    assert not (tmp_path / "cache" / entry.path).exists()


def test_cached_copy_is_used_without_network(mirror, offline, monkeypatch, tmp_path):
    entry = data.registry()["moose"]
    cached = tmp_path / "cache" / entry.path
    cached.parent.mkdir(parents=True)
    shutil.copyfile(mirror / entry.path, cached)
    monkeypatch.delenv(reg.DATA_MIRROR_ENV, raising=False)
    assert data.load("moose") == cached
    assert offline == []


def test_download_lands_in_the_cache_and_is_verified(mirror, monkeypatch, tmp_path):
    entry = data.registry()["moose"]
    calls = _serve(monkeypatch, (mirror / entry.path).read_bytes())
    monkeypatch.delenv(reg.DATA_MIRROR_ENV, raising=False)
    monkeypatch.setenv(reg.DATA_CACHE_ENV, str(tmp_path / "cache"))
    path = data.load("moose")
    assert path == tmp_path / "cache" / entry.path
    assert data.sha256_of(path) == entry.sha256
    assert calls == [entry.url]


def test_download_with_wrong_bytes_is_refused(monkeypatch, tmp_path):
    _serve(monkeypatch, b"not the moose")
    monkeypatch.delenv(reg.DATA_MIRROR_ENV, raising=False)
    monkeypatch.setenv(reg.DATA_CACHE_ENV, str(tmp_path / "cache"))
    with pytest.raises(data.DataIntegrityError, match="moose"):
        data.load("moose")
    assert not (tmp_path / "cache" / data.registry()["moose"].path).exists()


def test_unknown_name_lists_the_known_names():
    with pytest.raises(ValueError, match="unknown data file 'zebra'.*fox, moose, football"):
        data.load("zebra")


# --- decoded content ----------------------------------------------------------------------


def test_load_image_decodes_the_photos(mirror):
    shapes = {"fox": (534, 800, 3), "moose": (200, 300, 3), "football": (1080, 1920, 3)}
    for name, shape in shapes.items():
        image = data.load_image(name)
        assert image.shape == shape and image.dtype == np.uint8
        assert image.std() > 10  # a photo, not a blank decode


def test_truncated_image_gives_one_clear_error(mirror, monkeypatch, tmp_path):
    broken = tmp_path / "mirror" / "seed" / "fox.jpg"
    broken.parent.mkdir(parents=True)
    broken.write_bytes((mirror / "seed" / "fox.jpg").read_bytes()[:5000])
    table = tmp_path / "registry.csv"
    table.write_text(
        "name,kind,path,sha256,url,licence\n"
        f"broken,photo,seed/fox.jpg,{data.sha256_of(broken)},https://example.invalid/fox.jpg,test\n"
    )
    monkeypatch.setattr(reg, "REGISTRY_FILE", table)
    monkeypatch.setenv(reg.DATA_MIRROR_ENV, str(tmp_path / "mirror"))
    with pytest.raises(ValueError, match="cannot read .*fox.jpg as an image"):
        data.load_image("broken")
    assert data.loaded_files()["broken"] == data.sha256_of(broken)  # it was verified before decoding


def test_bsds_label_maps_equal_the_mirror_pngs(mirror):
    with open(mirror / "bsds" / "manifest.csv", newline="") as handle:
        manifest = {row["image_id"]: row for row in csv.DictReader(handle)}
    for image_id in data.bsds_ids():
        image, label_maps = data.load_bsds(image_id)
        row = manifest[image_id]
        assert image.shape == (int(row["height"]), int(row["width"]), 3)
        assert len(label_maps) == int(row["n_annotators"])
        maxima = [int(k) for k in row["max_label_per_annotator"].split(";")]
        for n, (labels, k) in enumerate(zip(label_maps, maxima), start=1):
            png = np.asarray(Image.open(mirror / "bsds" / f"{image_id}_gt{n}.png"))
            np.testing.assert_array_equal(labels, png)
            assert labels.min() == 1 and labels.max() == k


def test_load_bsds_accepts_int_ids_and_rejects_unknown_ones(mirror):
    image, label_maps = data.load_bsds(14085)
    assert image.dtype == np.uint8 and label_maps[0].shape == image.shape[:2]
    with pytest.raises(ValueError, match="unknown BSDS image id '999'.*14085"):
        data.load_bsds("999")
    val_id = data.bsds_ids("val")[0]
    image, label_maps = data.load_bsds(val_id)  # train and val load the same way
    assert label_maps and label_maps[0].shape == image.shape[:2]
