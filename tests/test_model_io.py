"""Saving, loading and applying fitted models (gmm.model_io): a plain, checked JSON file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gmm.model_io import (
    FORMAT,
    VERSION,
    ModelFileError,
    _checksum,
    apply_model,
    load_model,
    model_document,
    save_model,
)
from gmm.segmentation import NO_LABEL, segment

COLOURS = np.array([[220, 40, 30], [40, 200, 60], [30, 40, 180]])


def blocks(seed=0, shape=(24, 36)):
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(3), shape[1] // 3)[np.newaxis].repeat(shape[0], axis=0)
    return np.clip(np.rint(COLOURS[truth] + rng.normal(scale=6, size=truth.shape + (3,))), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def result():
    return segment(blocks(), 3)


@pytest.fixture
def saved(tmp_path, result):
    return save_model(result, tmp_path / "model.json", names=["blue", "red", "green"], info={"images": ["a.png"]})


def rewrite(path, change, *, fix_checksum=True):
    """Edit a saved model's document, then (by default) give it a valid checksum again, as a
    deliberate forger would: the checks behind the checksum must still catch the problem."""
    document = json.loads(path.read_text())
    change(document)
    if fix_checksum:
        document["checksum"] = _checksum(document)
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize("space", ["rgb", "grey", "lab", "hsv"])
@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_round_trip_labels_every_pixel_as_the_fitted_model(tmp_path, space, covariance_type):
    image = blocks(1)
    fitted = segment(image, 3, color_space=space, covariance_type=covariance_type)
    loaded = load_model(save_model(fitted, tmp_path / "m.json"))
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(fitted.model, name), err_msg=name)
    applied = apply_model(loaded, image)
    np.testing.assert_array_equal(applied.labels, fitted.labels)
    np.testing.assert_array_equal(applied.responsibilities(), fitted.responsibilities())  # bit for bit
    assert loaded.color_space_ == space and applied.color_space == space


def test_the_file_is_plain_json_with_format_version_and_colour_space(saved):
    text = saved.read_text(encoding="utf-8")
    document = json.loads(text)
    assert document["format"] == FORMAT and document["version"] == VERSION == 1
    assert document["color_space"] == "rgb" and document["n_components"] == 3
    assert document["names"] == ["blue", "red", "green"] and document["info"] == {"images": ["a.png"]}
    assert document["fit"]["tol"] == 1e-3 and document["fit"]["init_params"] == "kmeans"
    assert document["checksum"].startswith("sha256:")
    loaded = load_model(saved)
    assert loaded.names_ == ["blue", "red", "green"] and loaded.info_ == {"images": ["a.png"]}
    assert loaded.tol == 1e-3 and loaded.converged_


def test_saving_is_deterministic(tmp_path, result):
    save_model(result, tmp_path / "a.json")
    save_model(result, tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_a_bare_estimator_needs_its_colour_space(tmp_path, result):
    with pytest.raises(ValueError, match="pass color_space="):
        save_model(result.model, tmp_path / "m.json")
    save_model(result.model, tmp_path / "m.json", color_space="rgb")
    assert load_model(tmp_path / "m.json").color_space_ == "rgb"
    with pytest.raises(ValueError, match="features"):
        model_document(result.model, color_space="grey")  # 3 features are not grey's 1


def test_spatial_models_are_not_saved(tmp_path):
    spatial = segment(blocks(), 3, spatial_weight=1.0)
    with pytest.raises(ValueError, match="spatial"):
        save_model(spatial, tmp_path / "m.json")


def test_smoothed_models_are_not_saved(tmp_path):
    smoothed = segment(blocks(), 3, smoothing=1.0)
    with pytest.raises(ValueError, match="smoothed"):
        save_model(smoothed, tmp_path / "m.json")
    with pytest.raises(ValueError, match="smoothed"):
        save_model(smoothed.model, tmp_path / "m.json", color_space="rgb")


def test_names_must_match_the_components(tmp_path, result):
    with pytest.raises(ValueError, match="3 names"):
        save_model(result, tmp_path / "m.json", names=["a", "b"])


# ------------------------------------------------------------------------ what load refuses
@pytest.mark.parametrize("content,message", [
    (b"\x80\x04\x95 a pickle", "not JSON"),
    (b"", "not JSON"),
    (b"[1, 2, 3]", "not a gmm model file"),
    (b'{"format": "something-else"}', "not a gmm model file"),
    (b'{"format": "gmm-segmentation-model", "version": 1, "weights": NaN}', "not JSON"),
])
def test_foreign_files_are_refused(tmp_path, content, message):
    path = tmp_path / "m.json"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=message) as error:
        load_model(path)
    assert str(path) in str(error.value)


def test_any_edit_breaks_the_checksum(saved):
    rewrite(saved, lambda d: d["means"][0].__setitem__(0, 0.5), fix_checksum=False)
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        load_model(saved)


def test_a_newer_version_asks_for_an_upgrade(saved):
    rewrite(saved, lambda d: d.__setitem__("version", 2))
    with pytest.raises(ModelFileError, match="newer.*upgrade"):
        load_model(saved)


@pytest.mark.parametrize("change,message", [
    (lambda d: d.pop("means"), "missing fields"),
    (lambda d: d.__setitem__("code", "import os"), "unknown fields"),
    (lambda d: d.__setitem__("color_space", "yuv"), "color_space"),
    (lambda d: d.__setitem__("covariance_type", "banded"), "covariance_type"),
    (lambda d: d.__setitem__("n_components", 0), "n_components"),
    (lambda d: d.__setitem__("n_features", 1), "n_features"),
    (lambda d: d["means"].pop(), "means must be finite numbers of shape"),
    (lambda d: d["means"][0].__setitem__(0, "x"), "means must be"),
    (lambda d: d["weights"].__setitem__(0, 0.9), "sum to 1"),
    (lambda d: d["covariances"][0][0].__setitem__(0, -1.0), "positive definite"),
    (lambda d: d["covariances"][0][0].__setitem__(1, 5.0), "not symmetric"),
    (lambda d: d.__setitem__("names", ["a"]), "names must be"),
    (lambda d: d.__setitem__("fit", [1]), "fit and info"),
])
def test_damaged_fields_are_named(saved, change, message):
    rewrite(saved, change)
    with pytest.raises(ModelFileError, match=message):
        load_model(saved)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "nothere.json")


# ---------------------------------------------------------------------------------- apply
def test_apply_gives_the_same_components_on_another_image(saved, result):
    other = blocks(seed=7)[:, ::-1]  # the blocks in the other order, other noise
    applied = apply_model(load_model(saved), other)
    assert applied.n_components == 3
    # Same meaning: the blue block is still component 0, whichever side it is on.
    np.testing.assert_array_equal(applied.labels[0, [0, 35]], [0, 1])
    assert np.abs(applied.mean_colors.astype(int) - result.mean_colors).max() <= 4


def test_apply_with_a_mask_and_across_grey_and_colour(saved, tmp_path):
    model = load_model(saved)
    mask = np.ones((24, 36), bool)
    mask[:5] = False
    applied = apply_model(model, blocks(), mask=mask)
    assert np.all(applied.labels[:5] == NO_LABEL) and applied.labels[5:].min() >= 0
    grey = blocks()[:, :, 1]
    assert apply_model(model, grey).labels.shape == grey.shape  # grey read as (v, v, v)
    grey_model = load_model(save_model(segment(grey, 2, color_space="grey"), tmp_path / "g.json"))
    assert apply_model(grey_model, blocks()).labels.max() <= 1  # colour read as its grey levels
    with pytest.raises(ValueError, match="color_space_"):
        apply_model(segment(blocks(), 3).model, blocks())
