"""The synthetic broadcast football scene and its ground truth."""

from __future__ import annotations

import numpy as np
import pytest

from gmm.data import FOOTBALL_CLASSES, football_clip, football_frame

SMALL = (180, 320)
CLASS = {name: k for k, name in enumerate(FOOTBALL_CLASSES)}


@pytest.fixture(scope="module")
def frame():
    """Seed 0 at the default broadcast size (rendered once for the module)."""
    return football_frame(0)


def test_shapes_and_dtypes(frame):
    image, truth = frame
    assert image.shape == (720, 1280, 3) and image.dtype == np.uint8
    assert truth.shape == (720, 1280) and truth.dtype == np.uint8
    assert truth.max() < len(FOOTBALL_CLASSES)


def test_classes_are_named_and_distinct():
    assert len(set(FOOTBALL_CLASSES)) == len(FOOTBALL_CLASSES)
    assert {"turf", "line_paint", "end_zone", "team_a", "team_b", "skin", "ball", "shadow"} == set(
        FOOTBALL_CLASSES
    )


@pytest.mark.parametrize("seed", [0, 1, 2, 7])
def test_every_class_is_present(seed, frame):
    truth = frame[1] if seed == 0 else football_frame(seed, size=(360, 640))[1]
    counts = np.bincount(truth.ravel(), minlength=len(FOOTBALL_CLASSES))
    missing = [name for name, count in zip(FOOTBALL_CLASSES, counts) if count == 0]
    assert missing == []
    # An All-22 view: mostly turf, players small.
    assert counts[CLASS["turf"]] > 0.5 * truth.size
    assert counts[CLASS["team_a"]] < 0.02 * truth.size


def test_same_seed_gives_identical_bytes():
    first = football_frame(3, size=SMALL)
    second = football_frame(3, size=SMALL)
    assert first[0].tobytes() == second[0].tobytes()
    assert first[1].tobytes() == second[1].tobytes()


def test_different_seeds_differ():
    a_image, a_truth = football_frame(4, size=SMALL)
    b_image, b_truth = football_frame(5, size=SMALL)
    assert not np.array_equal(a_image, b_image)
    assert not np.array_equal(a_truth, b_truth)


def test_pixels_look_like_their_class(frame):
    """The truth describes what the image shows: green turf, white paint, darker shadows."""
    image, truth = frame
    mean = {name: image[truth == k].reshape(-1, 3).astype(float).mean(axis=0)
            for k, name in enumerate(FOOTBALL_CLASSES)}
    red, green, blue = mean["turf"]
    assert green > red + 20 and green > blue + 20
    assert mean["line_paint"].min() > 170
    assert mean["shadow"].sum() < 0.8 * mean["turf"].sum()
    assert mean["team_b"].mean() > mean["team_a"].mean()  # visitors wear white jerseys
    # Noise and JPEG: no class is a single flat colour.
    assert image[truth == CLASS["turf"]].std() > 2


def test_clip_moves_and_is_consistent():
    frames, truths = football_clip(6, 4, size=SMALL)
    assert frames.shape == (4, *SMALL, 3) and frames.dtype == np.uint8
    assert truths.shape == (4, *SMALL) and truths.dtype == np.uint8
    for k in range(3):
        assert not np.array_equal(frames[k], frames[k + 1])
        assert not np.array_equal(truths[k], truths[k + 1])
    # Frame 0 is the still of the same seed and size.
    still, still_truth = football_frame(6, size=SMALL)
    np.testing.assert_array_equal(frames[0], still)
    np.testing.assert_array_equal(truths[0], still_truth)


def test_clip_is_deterministic():
    first = football_clip(8, 2, size=(64, 96))
    second = football_clip(8, 2, size=(64, 96))
    assert first[0].tobytes() == second[0].tobytes()
    assert first[1].tobytes() == second[1].tobytes()


@pytest.mark.parametrize("size", [(32, 320), (180, 10), (180,), (180.0, 320), "720p", (5000, 320)])
def test_bad_size_is_rejected(size):
    with pytest.raises(ValueError, match="size must be"):
        football_frame(0, size=size)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True, None])
def test_bad_seed_is_rejected(seed):
    with pytest.raises(ValueError, match="seed must be"):
        football_frame(seed, size=SMALL)


@pytest.mark.parametrize("n_frames", [0, -3, 2.0, 151])
def test_bad_frame_count_is_rejected(n_frames):
    with pytest.raises(ValueError, match="n_frames must be"):
        football_clip(0, n_frames, size=SMALL)


def test_camera_projection_inverts_the_ground_rays():
    """Projecting the ground point each pixel sees lands back on that pixel."""
    from gmm.data._camera import ground_coordinates, look_at, project

    camera = look_at((40.0, -38.0, 34.0), (25.0, 26.0, 0.0), (90, 160), 30.0)
    X, Y = ground_coordinates(camera)
    uv = project(camera, np.stack([X, Y, np.zeros_like(X)], axis=-1))
    rows, cols = np.mgrid[0:90, 0:160]
    np.testing.assert_allclose(uv[..., 0], cols, atol=1e-6)
    np.testing.assert_allclose(uv[..., 1], rows, atol=1e-6)
    assert (Y > -38.0).all()  # every pixel sees the ground in front of the camera
