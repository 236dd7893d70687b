"""Masks (gmm.masks) and segmenting with one (gmm.segment(mask=...))."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from gmm.masks import check_mask, load_image_and_mask, load_mask
from gmm.segmentation import NO_LABEL, segment

COLOURS = np.array([[220, 40, 30], [40, 200, 60], [30, 40, 180]])


def blocks(seed=0, shape=(24, 36)):
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(3), shape[1] // 3)[np.newaxis].repeat(shape[0], axis=0)
    return np.clip(np.rint(COLOURS[truth] + rng.normal(scale=6, size=truth.shape + (3,))), 0, 255).astype(np.uint8)


# ------------------------------------------------------------------------------- reading
def test_alpha_becomes_a_mask_and_colours_are_not_composited(tmp_path):
    rgba = np.zeros((2, 3, 4), dtype=np.uint8)
    rgba[..., :3] = (10, 20, 30)
    rgba[..., 3] = 255
    rgba[0, 0, 3] = 0
    rgba[0, 1, 3] = 100  # half transparent: used, with its own colour
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "a.png")
    image, mask = load_image_and_mask(tmp_path / "a.png")
    np.testing.assert_array_equal(image, np.broadcast_to([10, 20, 30], (2, 3, 3)))
    np.testing.assert_array_equal(mask, [[False, True, True], [True, True, True]])


def test_opaque_or_alpha_free_images_have_no_mask(tmp_path):
    rgba = np.full((2, 2, 4), 255, dtype=np.uint8)
    assert load_image_and_mask(rgba)[1] is None
    grey = np.array([[1, 2]], dtype=np.uint8)
    image, mask = load_image_and_mask(grey)
    assert mask is None and image is grey


def test_grey_alpha_and_16_bit_alpha():
    grey_alpha = np.array([[[100, 0], [50, 65535]]], dtype=np.uint16)
    image, mask = load_image_and_mask(grey_alpha)
    assert image.shape == (1, 2) and image.dtype == np.uint8
    np.testing.assert_array_equal(mask, [[False, True]])


def test_fully_transparent_image_is_refused():
    with pytest.raises(ValueError, match="no pixel to segment"):
        load_image_and_mask(np.zeros((2, 2, 4), dtype=np.uint8))


def test_mask_images_non_zero_is_used(tmp_path):
    grey = np.array([[0, 255, 3]], dtype=np.uint8)
    Image.fromarray(grey).save(tmp_path / "m.png")
    np.testing.assert_array_equal(load_mask(tmp_path / "m.png"), [[False, True, True]])
    colour = np.zeros((1, 2, 3), dtype=np.uint8)
    colour[0, 1, 2] = 1
    np.testing.assert_array_equal(load_mask(colour), [[False, True]])
    with pytest.raises(ValueError, match="must match"):
        load_mask(tmp_path / "m.png", shape=(2, 3))
    with pytest.raises(ValueError, match="no pixel"):
        load_mask(np.zeros((2, 2), np.uint8))


def test_check_mask():
    with pytest.raises(ValueError, match="boolean"):
        check_mask(np.ones((2, 2), np.uint8), (2, 2))
    with pytest.raises(ValueError, match="must match"):
        check_mask(np.ones((2, 2), bool), (2, 3))
    assert check_mask(np.ones((2, 2), bool), (2, 2, 3)).all()


# ---------------------------------------------------------------------------- segmenting
def test_masked_pixels_are_left_out_of_the_fit_and_labelled_none():
    image = blocks()
    mask = np.ones(image.shape[:2], bool)
    mask[:, 24:] = False  # the blue block is left out
    result = segment(image, 2, mask=mask)
    assert result.labels.dtype == np.int16
    assert np.all(result.labels[:, 24:] == NO_LABEL)
    # Fitted on the used pixels only: the same model as on an image holding just those pixels.
    alone = segment(image[:, :24], 2)
    np.testing.assert_array_equal(result.model.means_, alone.model.means_)
    np.testing.assert_array_equal(result.labels[:, :24], alone.labels)
    resp = result.responsibilities()
    assert np.all(resp[:, 24:] == 0) and np.allclose(resp[:, :24].sum(axis=2), 1)
    np.testing.assert_array_equal(result.mean_colors, alone.mean_colors)
    assert np.all(result.component_masks().sum(axis=0)[:, 24:] == 0)
    picture = result.render("labels")
    assert picture.shape == image.shape[:2] + (4,) and np.all(picture[:, 24:, 3] == 0)
    for kind in ("mean", "soft", "overlay"):
        assert result.render(kind).shape[2] == 4
    assert np.all(result.canonical().labels[:, 24:] == NO_LABEL)


def test_a_mask_that_leaves_nothing_out_is_no_mask():
    image = blocks()
    plain = segment(image, 3)
    full = segment(image, 3, mask=np.ones(image.shape[:2], bool))
    assert full.mask is None and full.labels.dtype == plain.labels.dtype
    np.testing.assert_array_equal(full.labels, plain.labels)


def test_masked_spatial_and_grey_paths():
    image = blocks()
    mask = np.ones(image.shape[:2], bool)
    mask[:4] = False
    spatial = segment(image, 3, spatial_weight=1.0, mask=mask)
    assert np.all(spatial.labels[:4] == NO_LABEL) and spatial.labels[4:].min() >= 0
    grey = segment(image, 3, color_space="grey", mask=mask)
    assert np.all(grey.labels[:4] == NO_LABEL)
    with pytest.raises(ValueError, match="must match"):
        segment(image, 3, mask=mask[:5])
