"""Loading images and mapping pixel values to features (gmm.image)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from gmm.image import (
    as_image,
    check_color_space,
    features_to_rgb,
    load_image,
    luma,
    pixel_features,
    spatial_features,
    to_features,
    to_grey,
)


@pytest.fixture
def rgb():
    return np.random.default_rng(0).integers(0, 256, size=(5, 7, 3), dtype=np.uint8)


# ------------------------------------------------------------------------------- arrays
def test_uint8_rgb_and_grey_are_kept_as_they_are(rgb):
    assert load_image(rgb) is rgb
    grey = rgb[:, :, 0]
    assert load_image(grey) is grey
    np.testing.assert_array_equal(load_image(rgb[:, :, :1]), rgb[:, :, 0])


def test_float_image_is_scaled_and_rounded():
    image = np.array([[0.0, 1.0], [0.5, 0.2]])
    np.testing.assert_array_equal(load_image(image), [[0, 255], [128, 51]])
    assert load_image(image).dtype == np.uint8


def test_uint16_maps_full_range_onto_uint8():
    image = np.array([[0, 65535], [257, 32896]], dtype=np.uint16)
    np.testing.assert_array_equal(load_image(image), [[0, 255], [1, 128]])


def test_other_integer_types_within_0_255_are_accepted():
    np.testing.assert_array_equal(load_image(np.array([[0, 7], [255, 3]])), [[0, 7], [255, 3]])
    with pytest.raises(ValueError, match=r"\[0, 256\]"):
        load_image(np.array([[0, 256]]))
    with pytest.raises(ValueError, match=r"\[-1, 3\]"):
        load_image(np.array([[-1, 3]]))


def test_rgba_is_composited_over_white():
    image = np.array([[[255, 0, 0, 255], [255, 0, 0, 0], [0, 0, 0, 51]]], dtype=np.uint8)
    # Opaque red stays red, transparent becomes white, 20 % black is 0.2*0 + 0.8*255 = 204.
    np.testing.assert_array_equal(load_image(image), [[[255, 0, 0], [255, 255, 255], [204, 204, 204]]])


def test_grey_with_alpha_becomes_grey():
    image = np.array([[[100, 255], [100, 0]]], dtype=np.uint8)
    out = load_image(image)
    assert out.shape == (1, 2)
    np.testing.assert_array_equal(out, [[100, 255]])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_floats_are_refused(bad):
    image = np.zeros((3, 3))
    image[1, 1] = bad
    with pytest.raises(ValueError, match="NaN or infinity"):
        load_image(image)


def test_floats_outside_unit_interval_are_refused():
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        load_image(np.array([[0.0, 255.0]]))


@pytest.mark.parametrize("shape", [(5,), (2, 3, 5), (2, 2, 3, 1), (0, 4), (4, 0, 3)])
def test_wrong_shapes_are_refused(shape):
    with pytest.raises(ValueError, match="shape|empty"):
        load_image(np.zeros(shape, dtype=np.uint8))


def test_wrong_dtypes_are_refused():
    with pytest.raises(ValueError, match="dtype"):
        as_image(np.zeros((2, 2), dtype=bool))
    with pytest.raises(ValueError, match="dtype"):
        as_image(np.array([["a", "b"]]))


# -------------------------------------------------------------------------------- files
def test_png_round_trip(tmp_path, rgb):
    path = tmp_path / "a.png"
    Image.fromarray(rgb).save(path)
    np.testing.assert_array_equal(load_image(path), rgb)
    np.testing.assert_array_equal(load_image(str(path)), rgb)


def test_rgba_png_and_16_bit_png(tmp_path):
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    rgba[0, 0] = (10, 20, 30, 0)
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "rgba.png")
    out = load_image(tmp_path / "rgba.png")
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out[0, 0], (255, 255, 255))
    np.testing.assert_array_equal(out[1, 1], (0, 0, 0))
    import imageio.v3 as iio

    iio.imwrite(tmp_path / "g16.png", np.array([[0, 65535]], dtype=np.uint16))
    np.testing.assert_array_equal(load_image(tmp_path / "g16.png"), [[0, 255]])


def test_animated_gif_gives_first_frame(tmp_path, rgb):
    frames = [Image.fromarray(rgb), Image.fromarray(255 - rgb)]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
    assert load_image(tmp_path / "a.gif").shape == (5, 7, 3)


def test_missing_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.png"):
        load_image(tmp_path / "nothere.png")


def test_directory_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not a file"):
        load_image(tmp_path)


@pytest.mark.parametrize("content", [b"hello, not an image", b""])
def test_non_image_file_gives_one_value_error(tmp_path, content):
    path = tmp_path / "fake.png"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="fake.png"):
        load_image(path)


def test_truncated_jpeg_gives_one_value_error(tmp_path):
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (200, 200, 3), dtype=np.uint8)).save(tmp_path / "full.jpg")
    (tmp_path / "cut.jpg").write_bytes((tmp_path / "full.jpg").read_bytes()[:3000])
    with pytest.raises(ValueError, match="cut.jpg"):
        load_image(tmp_path / "cut.jpg")


# ------------------------------------------------------------------------ colour spaces
def test_colour_space_names():
    assert check_color_space("GRAY") == "grey"
    assert check_color_space("lab") == "lab"
    with pytest.raises(ValueError, match="color_space"):
        check_color_space("yuv")


def test_grey_is_rounded_bt601_luma():
    values = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [10, 20, 30]], dtype=np.uint8)
    # 0.299*255 = 76.245; 0.587*255 = 149.685; 0.114*255 = 29.07; 2.99+11.74+3.42 = 18.15
    np.testing.assert_array_equal(luma(values), [76, 150, 29, 255, 18])
    np.testing.assert_allclose(to_features(values, "grey")[:, 0], np.array([76, 150, 29, 255, 18]) / 255)


def test_rgb_features_are_scaled_to_unit_interval():
    values = np.array([[0, 128, 255]], dtype=np.uint8)
    np.testing.assert_allclose(to_features(values, "rgb"), [[0, 128 / 255, 1]])


def test_lab_features_of_white_black_red():
    values = np.array([[255, 255, 255], [0, 0, 0], [255, 0, 0]], dtype=np.uint8)
    lab = to_features(values, "lab") * 100
    np.testing.assert_allclose(lab[0], [100, 0, 0], atol=0.01)
    np.testing.assert_allclose(lab[1], [0, 0, 0], atol=0.01)
    np.testing.assert_allclose(lab[2], [53.24, 80.09, 67.20], atol=0.01)  # the standard sRGB red


def test_hsv_features_are_continuous_across_red():
    # Hues just below and just above 0 (red) are far apart as raw h, close as (s cos, s sin).
    values = np.array([[255, 0, 6], [255, 6, 0], [0, 255, 255], [128, 128, 128]], dtype=np.uint8)
    f = to_features(values, "hsv")
    assert np.linalg.norm(f[0] - f[1]) < 0.05
    np.testing.assert_allclose(f[2], [-1, 0, 1], atol=1e-12)  # cyan: h = 1/2, s = 1, v = 1
    np.testing.assert_allclose(f[3], [0, 0, 128 / 255], atol=1e-12)  # grey: no hue at all


@pytest.mark.parametrize("space", ["rgb", "grey", "lab", "hsv"])
def test_features_to_rgb_inverts_to_features(space):
    values = np.random.default_rng(2).integers(0, 256, (50, 3), dtype=np.uint8)
    back = features_to_rgb(to_features(values, space), space)
    expected = np.repeat(luma(values)[:, None], 3, axis=1) if space == "grey" else values
    np.testing.assert_allclose(back, expected, atol=1e-6)


def test_to_features_refuses_bad_values():
    with pytest.raises(ValueError, match="uint8"):
        to_features(np.zeros((3, 3)), "rgb")
    with pytest.raises(ValueError, match="shape"):
        to_features(np.zeros((3, 2), dtype=np.uint8), "rgb")
    with pytest.raises(ValueError, match="needs RGB"):
        to_features(np.zeros((3, 1), dtype=np.uint8), "lab")


# --------------------------------------------------------------------------- pixel features
def test_spatial_features_corners():
    f = spatial_features((3, 5), 2.0)
    assert f.shape == (15, 2)
    np.testing.assert_allclose(f[0], [0, 0])
    np.testing.assert_allclose(f[4], [0, 2])  # top right
    np.testing.assert_allclose(f[-1], [2, 2])
    np.testing.assert_allclose(f[5], [1, 0])  # row 1 of 0..2 is y = 1/2
    assert np.all(np.isfinite(spatial_features((1, 1), 1.0)))


@pytest.mark.parametrize("space", ["rgb", "grey", "lab", "hsv"])
def test_pixel_features_match_per_pixel_conversion(rgb, space):
    f = pixel_features(rgb, space)
    np.testing.assert_allclose(f, to_features(rgb.reshape(-1, 3), space))
    g = pixel_features(rgb, space, spatial_weight=3.0)
    np.testing.assert_array_equal(g[:, :-2], f)
    np.testing.assert_allclose(g[:, -2:], spatial_features(rgb.shape[:2], 3.0))


def test_read_pixels_keeps_alpha_and_dtype(tmp_path):
    from gmm.image import read_pixels

    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[..., 3] = (0, 255)
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "a.png")
    raw = read_pixels(tmp_path / "a.png")
    assert raw.shape == (2, 2, 4) and raw.dtype == np.uint8
    np.testing.assert_array_equal(raw, rgba)
    deep = np.array([[0, 65535]], dtype=np.uint16)
    assert read_pixels(deep) is deep
    with pytest.raises(FileNotFoundError):
        read_pixels(tmp_path / "nothere.png")
