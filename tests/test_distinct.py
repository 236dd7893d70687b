"""The exact fast path for images: distinct pixel values and ``fit_image``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import gmm
import gmm.distinct

PARAMETERS = ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_")


def synthetic_rgb(height=48, width=64, seed=0):
    """Three colour regions with noise, quantised to uint8: many repeated colours, some clipped."""
    rng = np.random.RandomState(seed)
    region = np.zeros((height, width), dtype=int)
    region[:, width // 3 :] = 1
    region[height // 2 :, 2 * width // 3 :] = 2
    colours = np.array([[200.0, 40.0, 30.0], [30.0, 160.0, 60.0], [20.0, 40.0, 250.0]])
    image = colours[region] + rng.normal(scale=12.0, size=(height, width, 3))
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def explicit_init(features, n_components, covariance_type):
    """Initial parameters from fixed quantiles of the features (not the answer)."""
    order = np.argsort(features.sum(axis=1), kind="stable")
    means = features[order[np.linspace(0, len(order) - 1, n_components).astype(int)]].astype(float)
    precision = np.linalg.inv(np.atleast_2d(np.cov(features.T)))
    precisions = {
        "full": np.stack([precision] * n_components),
        "tied": precision,
        "diag": np.tile(np.diag(precision), (n_components, 1)),
        "spherical": np.full(n_components, np.diag(precision).mean()),
    }[covariance_type]
    return dict(weights_init=np.full(n_components, 1.0 / n_components), means_init=means, precisions_init=precisions)


def reference_distinct(rows):
    """Distinct rows in lexicographic order, computed independently of ``gmm.distinct``."""
    if rows.dtype == np.uint8 and rows.shape[1] == 3:  # np.unique(axis=0) is slow on millions of rows
        codes = np.unique((rows[:, 0].astype(np.int64) * 256 + rows[:, 1]) * 256 + rows[:, 2])
        return np.column_stack([codes // 65536, codes // 256 % 256, codes % 256]).astype(np.uint8)
    return np.unique(rows, axis=0)


def assert_reconstructs(image, pixels):
    image = np.asarray(image)
    channels = 1 if image.ndim == 2 else image.shape[2]
    assert pixels.values.dtype == image.dtype
    assert pixels.values.shape[1] == channels
    assert pixels.counts.dtype == np.int64 and pixels.index.dtype == np.int32
    assert pixels.shape == image.shape[:2] and pixels.n_pixels == image.shape[0] * image.shape[1]
    np.testing.assert_array_equal(pixels.values[pixels.index], image.reshape(*image.shape[:2], channels))
    assert pixels.counts.sum() == pixels.n_pixels
    np.testing.assert_array_equal(pixels.counts, np.bincount(pixels.index.ravel(), minlength=len(pixels.counts)))
    assert np.all(pixels.counts > 0)
    # Each distinct row exactly once; uint8 values come sorted lexicographically (documented).
    expected = reference_distinct(image.reshape(-1, channels))
    values = pixels.values if image.dtype == np.uint8 else np.unique(pixels.values, axis=0)
    assert len(pixels.values) == len(expected)
    np.testing.assert_array_equal(values, expected)


# ------------------------------------------------------------------------ distinct_pixels
def test_rgb_small_image_reconstructs():
    image = synthetic_rgb()
    assert_reconstructs(image, gmm.distinct_pixels(image))


def test_rgb_large_image_reconstructs_and_agrees_with_the_small_path(monkeypatch):
    """Large RGB images may be counted by another code path than small ones (a 2**24 table rather
    than a sort, above ``_BINCOUNT_MIN_PIXELS`` pixels where the module has that threshold): the
    threshold is forced to 0 on a small image, and an image above 2**21 pixels is checked too."""
    image = synthetic_rgb(seed=1)
    image[0, 0] = (255, 255, 255)  # the extreme codes of the 2**24 table
    image[0, 1] = (0, 0, 0)
    by_default = gmm.distinct_pixels(image)
    monkeypatch.setattr(gmm.distinct, "_BINCOUNT_MIN_PIXELS", 0, raising=False)
    forced = gmm.distinct_pixels(image)
    assert_reconstructs(image, forced)
    for name in ("values", "counts", "index"):
        np.testing.assert_array_equal(getattr(forced, name), getattr(by_default, name), err_msg=name)
    monkeypatch.undo()
    large = np.tile(image, (32, 24, 1))  # 1536 x 1536 = 2.4 million pixels
    large[::7, ::5] //= 2
    assert large.shape[0] * large.shape[1] >= 1 << 21
    assert_reconstructs(large, gmm.distinct_pixels(large))


def test_rgb_repeated_calls_do_not_leak_state():
    """Scratch tables reused between calls must not carry colours from one image to the next."""
    first, second = synthetic_rgb(seed=4), synthetic_rgb(seed=5) // 2
    gmm.distinct_pixels(first)
    assert_reconstructs(second, gmm.distinct_pixels(second))
    assert_reconstructs(first, gmm.distinct_pixels(first))


def test_grey_uint8_reconstructs_the_image():
    image = synthetic_rgb().mean(axis=2).astype(np.uint8)
    assert_reconstructs(image, gmm.distinct_pixels(image))


@pytest.mark.parametrize(
    "make",
    [
        lambda rng: rng.randint(0, 40, size=(20, 30, 3)).astype(np.uint16) * 1000,  # uint16 RGB
        lambda rng: rng.randint(0, 5, size=(20, 30)).astype(np.uint16) * 9000,  # uint16 grey
        lambda rng: np.round(rng.normal(size=(20, 30, 3)), 1) + 0.0,  # float RGB with ties
        lambda rng: np.round(rng.normal(size=(20, 30)), 1).astype(np.float32) + 0,  # float grey
        lambda rng: rng.randint(0, 3, size=(20, 30, 4)).astype(np.uint8),  # RGBA: generic path
        lambda rng: rng.randint(-3, 3, size=(20, 30, 2)).astype(np.int64),  # signed, 2 channels
    ],
    ids=["uint16-rgb", "uint16-grey", "float64-rgb", "float32-grey", "uint8-rgba", "int64-2ch"],
)
def test_generic_path_reconstructs_the_image(make):
    image = make(np.random.RandomState(0))
    pixels = gmm.distinct_pixels(image)
    assert pixels.values.shape[0] < image.shape[0] * image.shape[1]  # ties were merged
    assert_reconstructs(image, pixels)


def test_signed_zeros_are_one_value():
    image = np.array([[0.0, -0.0], [1.0, 0.0]])
    pixels = gmm.distinct_pixels(image)
    np.testing.assert_array_equal(pixels.values[pixels.index][..., 0], image)
    assert pixels.values.shape[0] == 2
    np.testing.assert_array_equal(np.sort(pixels.counts), [1, 3])


def test_expand_broadcasts_per_value_arrays():
    image = synthetic_rgb()
    pixels = gmm.distinct_pixels(image)
    np.testing.assert_array_equal(pixels.expand(pixels.values), image)
    per_value = np.arange(pixels.values.shape[0] * 2).reshape(-1, 2)
    assert pixels.expand(per_value).shape == image.shape[:2] + (2,)
    with pytest.raises(ValueError, match="one row per distinct value"):
        pixels.expand(per_value[1:])


@pytest.mark.parametrize(
    "image", [np.zeros(5, np.uint8), np.zeros((2, 2, 2, 3), np.uint8), np.zeros((0, 4, 3), np.uint8)]
)
def test_distinct_pixels_rejects_non_images(image):
    with pytest.raises(ValueError, match="expected an image of shape"):
        gmm.distinct_pixels(image)


# ------------------------------------------------------------------------------ fit_image
def fit_both_ways(image, n_components, covariance_type, transform=None):
    """``fit_image`` and a plain fit on every pixel, from the same explicit start."""
    flat = image.reshape(image.shape[0] * image.shape[1], -1)
    features = flat.astype(np.float64) if transform is None else transform(flat)
    init = explicit_init(np.unique(features, axis=0), n_components, covariance_type)
    params = dict(covariance_type=covariance_type, tol=1e-8, max_iter=300, **init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # both stop at max_iter alike
        fit = gmm.fit_image(image, n_components, transform=transform, **params)
        full = gmm.GaussianMixture(n_components, **params).fit(features)
    assert fit.model.n_iter_ == full.n_iter_
    return fit, full, features


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_fit_image_rgb_equals_fitting_every_pixel(covariance_type):
    image = synthetic_rgb()
    fit, full, features = fit_both_ways(image, 3, covariance_type)
    for name in PARAMETERS:
        np.testing.assert_allclose(getattr(fit.model, name), getattr(full, name), rtol=1e-10, atol=1e-12, err_msg=name)
    assert fit.model.n_iter_ == full.n_iter_
    np.testing.assert_allclose(fit.model.lower_bound_, full.lower_bound_, rtol=1e-10)
    np.testing.assert_allclose(fit.model.history_.elbo, full.history_.elbo, rtol=1e-10)
    assert fit.labels.shape == image.shape[:2]
    np.testing.assert_array_equal(fit.labels, fit.model.predict(features).reshape(image.shape[:2]))
    np.testing.assert_array_equal(fit.labels, full.predict(features).reshape(image.shape[:2]))
    resp = fit.responsibilities()
    assert resp.shape == image.shape[:2] + (3,) and resp.dtype == np.float32
    np.testing.assert_allclose(resp, full.predict_proba(features).reshape(resp.shape), atol=1e-6)


def test_fit_image_grey_equals_fitting_every_pixel():
    image = synthetic_rgb(seed=2).mean(axis=2).astype(np.uint8)
    fit, full, features = fit_both_ways(image, 3, "full")
    assert fit.features.shape == (len(np.unique(image)), 1)
    for name in PARAMETERS:
        np.testing.assert_allclose(getattr(fit.model, name), getattr(full, name), rtol=1e-10, atol=1e-12, err_msg=name)
    assert fit.model.n_iter_ == full.n_iter_
    np.testing.assert_array_equal(fit.labels, full.predict(features).reshape(image.shape))


def test_fit_image_with_a_transform_equals_fitting_transformed_pixels():
    image = synthetic_rgb(seed=3)

    def chroma(values):  # a per-pixel feature map: normalised r, g and brightness
        v = values.astype(np.float64) + 1.0
        return np.column_stack([v[:, 0] / v.sum(1), v[:, 1] / v.sum(1), v.mean(1) / 255.0])

    fit, full, features = fit_both_ways(image, 3, "full", transform=chroma)
    for name in PARAMETERS:
        np.testing.assert_allclose(getattr(fit.model, name), getattr(full, name), rtol=1e-9, atol=1e-10, err_msg=name)
    np.testing.assert_array_equal(fit.labels, full.predict(features).reshape(image.shape[:2]))


def test_fit_image_reuses_precomputed_pixels():
    image = synthetic_rgb()
    pixels = gmm.distinct_pixels(image)
    a = gmm.fit_image(image, 3, random_state=0)
    b = gmm.fit_image(image, 3, pixels=pixels, random_state=0)
    assert b.pixels is pixels
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.model.means_, b.model.means_)


def test_fit_image_refuses_too_few_colours():
    image = np.zeros((10, 10, 3), np.uint8)
    image[:5] = 255
    with pytest.raises(ValueError, match="distinct value"):
        gmm.fit_image(image, 3)


@pytest.mark.parametrize("grey", [False, True])
def test_counting_without_numba_is_the_same(monkeypatch, grey):
    """The numba counters (bitmap for colour, histogram for grey) and the numpy code that
    replaces them without numba agree exactly, and so do their label maps."""
    image = synthetic_rgb(seed=6)
    image[0, 0], image[0, 1] = (255, 255, 255), (0, 0, 0)
    if grey:
        image = image[..., 1].copy()
    fast = gmm.distinct_pixels(image)
    labels = np.arange(fast.values.shape[0], dtype=np.int64) % 5
    fast_map = fast.expand(labels)
    monkeypatch.setattr(gmm.distinct, "_COUNTER", {"kernels": None})
    slow = gmm.distinct_pixels(image)
    assert_reconstructs(image, slow)
    for name in ("values", "counts", "index"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name), err_msg=name)
        assert getattr(fast, name).dtype == getattr(slow, name).dtype, name
    np.testing.assert_array_equal(fast_map, slow.expand(labels))
    assert fast_map.dtype == labels.dtype


@pytest.mark.parametrize("grey", [False, True], ids=["rgb", "grey"])
def test_counting_on_threads_is_the_same(monkeypatch, grey):
    """The counters share the pixels out over threads (per-thread bitmaps or histograms, merged):
    1, 2 or 3 threads give the same values, counts, index and label map, bit for bit, on an
    image that has colours in words of the bitmap that only one thread sees."""
    from gmm import _threads

    rng = np.random.RandomState(7)
    image = rng.randint(0, 256, size=(300, 700, 3), dtype=np.uint8)
    image[:150] //= 64  # the first thread's half: few colours; the second's: many
    image[-1, -1], image[0, 0] = (255, 255, 255), (0, 0, 0)
    if grey:
        image = image[..., 0].copy()
    results = []
    for threads in ("1", "2", "3"):
        monkeypatch.setenv(_threads.THREADS_ENV, threads)
        pixels = gmm.distinct_pixels(image)
        labels = np.arange(pixels.values.shape[0], dtype=np.int64) % 7
        results.append((pixels.values, pixels.counts, pixels.index, pixels.expand(labels)))
    assert_reconstructs(image, gmm.distinct_pixels(image))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)


def test_a_grey_image_builds_its_index_on_first_use():
    """A uint8 grey image keeps its levels (a copy) and builds the int32 index when asked: the
    same index as counting eagerly, unaffected by later changes to the image; and
    ``DistinctPixels(values, counts, index=...)`` still constructs one directly."""
    image = synthetic_rgb(seed=8)[..., 0].copy()
    pixels = gmm.distinct_pixels(image)
    before = image.copy()
    image[:] = 0  # the caller reuses its buffer
    assert pixels.shape == before.shape and pixels.n_pixels == before.size
    labels = np.arange(pixels.values.shape[0], dtype=np.uint8) % 3
    np.testing.assert_array_equal(pixels.expand(labels), labels[pixels.index])
    assert_reconstructs(before, pixels)
    direct = gmm.DistinctPixels(pixels.values, pixels.counts, index=pixels.index)
    np.testing.assert_array_equal(direct.index, pixels.index)
    with pytest.raises(ValueError, match="needs the index"):
        gmm.DistinctPixels(pixels.values, pixels.counts)


def test_rgb_counting_keeps_no_large_table():
    gmm.distinct_pixels(synthetic_rgb())
    resident = {name: value.nbytes for name, value in vars(gmm.distinct).items()
                if isinstance(value, np.ndarray) and value.nbytes > 1 << 20}
    assert resident == {}


def test_fit_image_float32_is_the_float64_fit_to_1e6():
    """The float32 path: features rounded to float32, EM in float64, results within 1e-6."""
    from gmm.image import to_features

    image = synthetic_rgb(96, 128, seed=7)

    def transform(values):
        return to_features(values, "rgb")

    a = gmm.fit_image(image, 3, transform=transform, dtype=np.float32, random_state=0)
    b = gmm.fit_image(image, 3, transform=transform, random_state=0)
    assert a.features.dtype == a.model.means_.dtype == np.float32 and b.model.means_.dtype == np.float64
    assert a.model.n_iter_ == b.model.n_iter_
    np.testing.assert_array_equal(a.labels, b.labels)
    for name in PARAMETERS:
        np.testing.assert_allclose(getattr(a.model, name), getattr(b.model, name), rtol=1e-6, atol=1e-9, err_msg=name)
    np.testing.assert_allclose(a.model.lower_bound_, b.model.lower_bound_, rtol=1e-6)
    np.testing.assert_allclose(a.responsibilities(), b.responsibilities(), atol=1e-6)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int32, np.int64, np.uint16])
def test_grey_labels_expand_as_indexing_does(dtype):
    """A grey image's labels come from its levels: as compares where the level table has few
    steps (byte labels), else as a gather; both equal ``per_value[index]``."""
    rng = np.random.RandomState(0)
    for trial in range(60):
        present = np.sort(rng.choice(256, rng.randint(1, 257), replace=False))
        image = rng.choice(present, size=(rng.randint(1, 40), rng.randint(1, 60))).astype(np.uint8)
        pixels = gmm.distinct.distinct_pixels(image)
        m = pixels.values.shape[0]
        few_steps = np.repeat(np.arange(4), -(-m // 4))[:m]  # 3 steps at most: compares for bytes
        many_steps = rng.randint(0, 100, m)  # up to m - 1 steps: the gather
        for per_value in (few_steps.astype(dtype), many_steps.astype(dtype)):
            out = pixels.expand(per_value)
            assert out.dtype == per_value.dtype and np.array_equal(out, per_value[pixels.index])


def test_an_index_outside_the_values_reads_the_last_one():
    pixels = gmm.DistinctPixels(np.array([[0], [9]], dtype=np.uint8), np.array([1, 3]),
                                index=np.array([[0, 1], [5, -1]], dtype=np.int32))
    assert pixels.expand(np.array([7, 8], dtype=np.uint8)).tolist() == [[7, 8], [8, 8]]
