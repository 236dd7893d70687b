"""Renderings of label maps (gmm.render)."""

from __future__ import annotations

import numpy as np
import pytest

from gmm.legend import legend, legend_entries
from gmm.render import (
    OKABE_ITO,
    PALETTE,
    boundary_overlay,
    fill_overlay,
    label_mean_colors,
    make_palette,
    mean_color_image,
    overlay_with_legend,
    palette_image,
    soft_image,
    with_alpha,
)

LABELS = np.array([[0, 0, 1], [2, 2, 1]])


def test_palette_is_okabe_ito_vermillion_green_blue_first_and_distinct():
    assert PALETTE.dtype == np.uint8 and PALETTE.shape == (8, 3)
    # Okabe & Ito's colour-blind-safe set, where the paper's originals had pure red, green, blue.
    np.testing.assert_array_equal(PALETTE[:3], [[213, 94, 0], [0, 158, 115], [0, 114, 178]])
    assert {tuple(c) for c in PALETTE} == set(OKABE_ITO.values())


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
    np.testing.assert_array_equal(out[0, 0], OKABE_ITO["vermillion"])
    np.testing.assert_array_equal(out[0, 2], OKABE_ITO["bluish green"])
    np.testing.assert_array_equal(out[1, 0], OKABE_ITO["blue"])
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
    pure = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255]], dtype=np.uint8)
    out = soft_image(resp, pure)
    np.testing.assert_array_equal(out[0], [[255, 0, 0], [128, 128, 0], [51, 76, 128]])
    np.testing.assert_array_equal(soft_image(resp)[0, 0], PALETTE[0])  # the palette by default
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


# ---------------------------------------------------------------- masks, fills and legends
def test_with_alpha_makes_masked_out_pixels_transparent():
    rgb = np.full((2, 3, 3), 9, dtype=np.uint8)
    mask = np.array([[True, False, True], [True, True, False]])
    out = with_alpha(rgb, mask)
    assert out.shape == (2, 3, 4) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[..., 3], np.where(mask, 255, 0))
    np.testing.assert_array_equal(out[..., :3], rgb)
    with pytest.raises(ValueError, match="mask"):
        with_alpha(rgb, mask[:1])


def test_fill_overlay_by_hand():
    labels = np.zeros((4, 6), dtype=np.int16)
    labels[:, 3:] = 1
    labels[0, 0] = -1  # none: left as it is
    image = np.full((4, 6, 3), 100, dtype=np.uint8)
    colours = np.array([[200, 0, 0], [0, 0, 250]], dtype=np.uint8)
    out = fill_overlay(image, labels, colours, opacity=0.5)
    np.testing.assert_array_equal(out[0, 0], (100, 100, 100))
    np.testing.assert_array_equal(out[2, 0], (150, 50, 50))  # half image, half red
    np.testing.assert_array_equal(out[1, 5], (50, 50, 175))
    np.testing.assert_array_equal(out[1, 0], (200, 0, 0))  # an edge: next to the "none" pixel
    # The edge pixels on each side of the boundary are drawn opaque in their own colour.
    np.testing.assert_array_equal(out[:, 2], np.tile([200, 0, 0], (4, 1)))
    np.testing.assert_array_equal(out[:, 3], np.tile([0, 0, 250], (4, 1)))
    np.testing.assert_array_equal(image, 100)  # input untouched
    with pytest.raises(ValueError, match="opacity"):
        fill_overlay(image, labels, colours, opacity=2)
    with pytest.raises(ValueError, match=">= -1"):
        fill_overlay(image, labels - 5, colours)


def test_legend_entries_give_shares_and_a_none_entry():
    labels = np.array([[0, 0, 1, -1]])
    entries = legend_entries(labels, make_palette(3), names=["sky", "grass", "cow"])
    assert [text for _, text in entries] == ["sky: 50.0%", "grass: 25.0%", "cow: 0.0%", "none: 25.0%"]
    assert entries[-1][0] is None
    assert [text for _, text in legend_entries(labels[:, :3], make_palette(2))] == ["0: 66.7%", "1: 33.3%"]
    with pytest.raises(ValueError, match="3 names"):
        legend_entries(labels, make_palette(3), names=["a"])


def test_legend_draws_a_swatch_per_entry():
    strip = legend([((255, 0, 0), "0: 50.0%"), ((0, 255, 0), "1: 50.0%")], width=400)
    assert strip.dtype == np.uint8 and strip.shape[1] == 400
    assert np.all(strip == (255, 0, 0), axis=2).any() and np.all(strip == (0, 255, 0), axis=2).any()
    assert (strip.min(axis=2) < 100).sum() > 20  # the text is drawn in black
    narrow = legend([((255, 0, 0), "0: 50.0%"), ((0, 255, 0), "1: 50.0%")], width=1)
    assert narrow.shape[1] > 1 and narrow.shape[0] > strip.shape[0]  # wider than a 1-pixel image, one column


def test_overlay_with_legend_puts_the_legend_under_the_image():
    labels = np.repeat(np.array([[0, 0, 1, 1, 2, 2]]), 5, axis=0)
    image = np.full((5, 6, 3), 80, dtype=np.uint8)
    out = overlay_with_legend(image, labels, 3, names=["a", "b", "c"])
    assert out.ndim == 3 and out.shape[2] == 3 and out.shape[0] > 5 and out.shape[1] >= 6
    np.testing.assert_array_equal(out[:5, :6], fill_overlay(image, labels, make_palette(3)))
    np.testing.assert_array_equal(overlay_with_legend(image, labels, 3, names=["a", "b", "c"]), out)  # deterministic
    masked = labels.copy()
    masked[0, 0] = -1
    rgba = overlay_with_legend(image, masked, 3)
    assert rgba.shape[2] == 4 and rgba[0, 0, 3] == 0 and rgba[1, 1, 3] == 255 and np.all(rgba[5:, :, 3] == 255)
