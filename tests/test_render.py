"""Renderings of label maps (gmm.render)."""

from __future__ import annotations

import numpy as np
import pytest

from gmm.render import (
    PALETTE,
    boundary_overlay,
    label_mean_colors,
    make_palette,
    mean_color_image,
    palette_image,
    soft_image,
)

LABELS = np.array([[0, 0, 1], [2, 2, 1]])


def test_palette_starts_red_green_blue_and_is_distinct():
    assert PALETTE.dtype == np.uint8 and PALETTE.shape[1] == 3 and len(PALETTE) >= 12
    np.testing.assert_array_equal(PALETTE[:3], [[255, 0, 0], [0, 255, 0], [0, 0, 255]])
    assert len({tuple(c) for c in PALETTE}) == len(PALETTE)


@pytest.mark.parametrize("n", [1, 3, 16, 17, 64, 256])
def test_make_palette_gives_distinct_colours(n):
    colours = make_palette(n)
    assert colours.shape == (n, 3) and colours.dtype == np.uint8
    assert len({tuple(c) for c in colours}) == n
    np.testing.assert_array_equal(colours[: min(n, len(PALETTE))], PALETTE[:n])
    np.testing.assert_array_equal(make_palette(n), colours)  # deterministic


def test_palette_image_by_hand():
    out = palette_image(LABELS)
    assert out.shape == (2, 3, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[0, 0], (255, 0, 0))
    np.testing.assert_array_equal(out[0, 2], (0, 255, 0))
    np.testing.assert_array_equal(out[1, 0], (0, 0, 255))
    custom = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]], dtype=np.uint8)
    np.testing.assert_array_equal(palette_image(LABELS, custom)[1, 2], (4, 5, 6))


def test_palette_image_refuses_bad_input():
    with pytest.raises(ValueError, match="colours"):
        palette_image(LABELS, PALETTE[:2])
    with pytest.raises(ValueError, match="non-negative"):
        palette_image(-LABELS)
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        palette_image(LABELS.ravel())
    with pytest.raises(ValueError, match="non-negative integers"):
        palette_image(LABELS.astype(float))


def test_mean_colours_by_hand():
    image = np.zeros((2, 3, 3), dtype=np.uint8)
    image[0, 0], image[0, 1] = (10, 20, 30), (20, 40, 61)
    image[:, 2] = (100, 100, 100)
    image[1, :2] = (7, 8, 9)
    means = label_mean_colors(LABELS, image, n_labels=4)
    np.testing.assert_allclose(means[:3], [[15, 30, 45.5], [100, 100, 100], [7, 8, 9]])
    assert np.all(np.isnan(means[3]))  # label 3 holds no pixel
    out = mean_color_image(LABELS, image)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out[0, 1], (15, 30, 46))  # 45.5 rounds to even: 46
    np.testing.assert_array_equal(out[1, 2], (100, 100, 100))


def test_mean_colours_of_a_grey_image_are_grey_rgb():
    grey = np.array([[0, 10, 50], [20, 20, 60]], dtype=np.uint8)
    out = mean_color_image(LABELS, grey)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out[0, 0], (5, 5, 5))
    np.testing.assert_array_equal(out[0, 2], (55, 55, 55))


def test_soft_image_mixes_colours_by_responsibility():
    resp = np.zeros((1, 3, 3))
    resp[0, 0] = (1, 0, 0)
    resp[0, 1] = (0.5, 0.5, 0)
    resp[0, 2] = (0.2, 0.3, 0.5)
    out = soft_image(resp)
    np.testing.assert_array_equal(out[0], [[255, 0, 0], [128, 128, 0], [51, 76, 128]])
    assert out.dtype == np.uint8
    grey = np.array([[0, 0, 0], [100, 100, 100], [200, 200, 200]], dtype=np.uint8)
    np.testing.assert_array_equal(soft_image(resp, grey)[0, 2], (130, 130, 130))


def test_soft_image_refuses_bad_input():
    with pytest.raises(ValueError, match="colors"):
        soft_image(np.full((2, 2, 3), 1 / 3), PALETTE[:2])
    with pytest.raises(ValueError, match="finite"):
        soft_image(np.full((2, 2, 2), np.nan))
    with pytest.raises(ValueError, match=r"\(H, W, K\)"):
        soft_image(np.ones((2, 2)))


def test_boundary_overlay_marks_pixels_next_to_another_label():
    labels = np.zeros((4, 6), dtype=np.uint8)
    labels[:, 3:] = 1
    image = np.full((4, 6, 3), 50, dtype=np.uint8)
    out = boundary_overlay(image, labels, color=(1, 2, 3))
    marked = np.all(out == (1, 2, 3), axis=2)
    expected = np.zeros((4, 6), bool)
    expected[:, 2:4] = True  # the two columns that touch the other label
    np.testing.assert_array_equal(marked, expected)
    np.testing.assert_array_equal(out[~marked], 50)
    np.testing.assert_array_equal(image, 50)  # input untouched
    assert boundary_overlay(image[:, :, 0], labels).shape == (4, 6, 3)


def test_boundary_overlay_refuses_mismatched_image():
    with pytest.raises(ValueError, match="shape"):
        boundary_overlay(np.zeros((3, 3, 3), np.uint8), LABELS)
    with pytest.raises(ValueError, match="uint8"):
        boundary_overlay(np.zeros((2, 3, 3)), LABELS)
