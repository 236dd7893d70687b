"""gmm.companion.robust: notebook 07's Gaussian-against-Student-t helpers, on small synthetic images."""

from __future__ import annotations

import numpy as np
import pytest

from gmm.companion import robust
from gmm.labels import canonical_order
from gmm.mixture import GaussianMixture
from gmm.regions import enclosed_regions
from gmm.student_t import StudentTMixture

CENTRES = np.array([[40, 45, 50], [110, 95, 80], [150, 190, 120]], dtype=np.float64)  # dark, mid, bright
HEAVY = 2  # the bright block's noise is heavy-tailed


@pytest.fixture(scope="module")
def image():
    """Three vertical blocks of 30 x 20 pixels: Gaussian noise on the dark and mid blocks, t noise
    (nu = 1.5) on the bright one, and a few planted far-out pixels in the dark block."""
    rng = np.random.RandomState(0)
    truth = np.repeat(np.arange(3), 20)[np.newaxis].repeat(30, axis=0)
    noise = rng.normal(0.0, 5.0, truth.shape + (3,))
    heavy = truth == HEAVY
    noise[heavy] /= np.sqrt(rng.gamma(0.75, 1 / 0.75, size=int(heavy.sum())))[:, np.newaxis]
    picture = np.clip(np.rint(CENTRES[truth] + noise), 0, 255).astype(np.uint8)
    picture[5, 3] = (250, 10, 250)  # an outlier of every component
    return picture, truth


def test_fit_colours_numbers_components_canonically_and_labels_every_pixel(image):
    picture, truth = image
    # Means started in reverse luminance order, so the fit's own numbering is not the canonical one.
    start = CENTRES[::-1] / 255
    fit = robust.fit_colours(picture, StudentTMixture(3, means_init=start, random_state=0, tol=1e-6, max_iter=500))
    np.testing.assert_array_equal(fit.order, [2, 1, 0])
    np.testing.assert_array_equal(canonical_order(fit.model.means_), [0, 1, 2])
    assert fit.labels.shape == truth.shape
    assert np.mean(fit.labels == truth) > 0.99
    np.testing.assert_allclose(fit.pixel_share, np.bincount(fit.labels.ravel(), minlength=3) / truth.size)
    expected = StudentTMixture(3, means_init=start, random_state=0, tol=1e-6, max_iter=500)
    expected.fit(picture.reshape(-1, 3) / 255.0)  # every pixel, no weights: the same EM
    assert fit.log_likelihood == pytest.approx(expected.score(picture.reshape(-1, 3) / 255.0), abs=1e-9)


def test_dof_history_follows_the_canonical_numbering(image):
    picture, _ = image
    fit = robust.fit_colours(picture, StudentTMixture(3, means_init=CENTRES[::-1] / 255, random_state=0, tol=1e-6,
                                                      max_iter=500))
    history = fit.dof_history()
    assert history.shape == (fit.model.n_iter_, 3)
    np.testing.assert_allclose(history[0], 100.0)  # dof_init
    # The heavy-tailed block is the brightest, component 2 after relabelling; the recorded nu of
    # the last iteration is within one step of the fitted one.
    assert np.argmin(fit.model.degrees_of_freedom_) == HEAVY and np.argmin(history[-1]) == HEAVY
    np.testing.assert_allclose(history[-1], fit.model.degrees_of_freedom_, rtol=0.05)


def test_expected_scale_map_marks_the_outlier(image):
    picture, _ = image
    fit = robust.fit_colours(picture, StudentTMixture(3, random_state=0, tol=1e-6, max_iter=500))
    scales = fit.expected_scale_map()
    assert scales.shape == picture.shape[:2]
    assert scales[5, 3] < 0.2 * np.median(scales)  # the planted pixel gets little weight
    x = picture[5:6, 3] / 255.0
    by_hand = np.sum(fit.model.predict_proba(x) * fit.model.expected_scales(x))
    assert scales[5, 3] == pytest.approx(by_hand)


def test_fit_both_gives_two_models_on_one_start(image):
    picture, _ = image
    fits = robust.fit_both(picture, 3, seed=0, tol=1e-6, max_iter=500, dof_init=50.0)
    assert isinstance(fits["gaussian"].model, GaussianMixture)
    assert isinstance(fits["student_t"].model, StudentTMixture)
    assert fits["student_t"].dof_history()[0] == pytest.approx([50.0] * 3)
    # Heavy tails in the data: the t mixture explains them better.
    assert fits["student_t"].log_likelihood > fits["gaussian"].log_likelihood
    assert robust.relabelled_share(fits["gaussian"].labels, fits["student_t"].labels, 3) < 0.05


def _fox_like():
    """0 background, 1 animal, 2 grass: an animal with two holes, grass with two dark patches."""
    labels = np.zeros((40, 40), dtype=np.intp)
    labels[2:14, 2:14] = 1
    labels[4:7, 4:8] = 0  # the nose: 12 pixels
    labels[8, 9:11] = 0  # an eye: 2 pixels
    labels[20:40, :] = 2
    labels[25:30, 5:10] = 0  # a 25-pixel dark patch
    labels[35, 35] = 0  # a 1-pixel patch, below min_patch
    return labels


def test_failures_measure_nose_and_dark_grass():
    labels = _fox_like()
    found = robust.failures(labels, background=0, animal=1, grass=2, min_patch=20)
    assert found.nose_pixels == 12 and found.nose.sum() == 12 and found.nose[4:7, 4:8].all()
    assert len(found.inside) == 2 and len(found.patches) == 1
    assert found.dark_grass.sum() == 25
    assert found.grass_area == int(np.sum(labels == 2)) + 25
    assert found.dark_grass_percent == pytest.approx(100 * 25 / found.grass_area)
    assert found.summary() == {"nose_pixels": 12, "n_regions_inside_animal": 2, "pixels_inside_animal": 14,
                               "n_dark_grass_patches": 1, "dark_grass_pixels": 25,
                               "dark_grass_percent": pytest.approx(100 * 25 / found.grass_area)}
    empty = robust.failures(np.zeros((5, 5), dtype=np.intp), 0, 1, 2)
    assert empty.nose_pixels == 0 and not empty.nose.any() and empty.dark_grass_percent == 0.0


def test_enclosed_mask_takes_exactly_the_region_not_its_box():
    labels = np.ones((11, 11), dtype=np.intp)
    labels[1:8, 1:8] = 0  # a ring of background (24 pixels)...
    labels[2:7, 2:7] = 1  # ...around an island of animal...
    labels[4, 4] = 0  # ...with a hole of its own, inside the ring's bounding box
    labels[9, 9] = 0  # a third hole, elsewhere
    regions = enclosed_regions(labels, outer=1, inner=0)
    assert [r.size for r in regions] == [24, 1, 1]
    ring = robust.enclosed_mask(labels, 1, 0, regions[:1])
    assert ring.sum() == 24 and not ring[4, 4] and not ring[9, 9]
    assert robust.enclosed_mask(labels, 1, 0, regions).sum() == 26
    with pytest.raises(ValueError, match="not a piece"):
        robust.enclosed_mask(labels, 1, 0, enclosed_regions(_fox_like(), outer=1, inner=0)[:1])


def test_label_shares_and_relabelled_share():
    labels = np.array([[0, 0, 1, 2], [2, 2, 2, 1]])
    mask = labels > 0
    np.testing.assert_allclose(robust.label_shares(labels, mask, 3), [0, 2 / 6, 4 / 6])
    assert np.isnan(robust.label_shares(labels, np.zeros_like(mask), 3)).all()
    renumbered = np.array([2, 0, 1])[labels]
    assert robust.relabelled_share(labels, renumbered, 3) == 0.0  # a renumbering is no change
    moved = renumbered.copy()
    moved[0, 0] = 0  # one pixel really moves
    assert robust.relabelled_share(labels, moved, 3) == pytest.approx(1 / 8)


def _result(shift, relabelled, dof=None):
    out = {"max_mean_shift_rgb": shift, "untouched_pixels_relabelled": relabelled}
    return out if dof is None else {**out, "degrees_of_freedom": dof}


def test_robustness_rows_flatten_the_benchmark_entry():
    entry = {"robustness": {
        "gaussian": {"noise": {**_result(10.0, 0.25), "from_clean_fit": _result(9.0, 0.125)}},
        "student_t": {"noise": {**_result(2.0, 0.01, [5.0, 1.0, 80.0]),
                                "from_clean_fit": _result(1.5, 0.005, [6.0, 2.0, 90.0])}},
    }}
    rows = robust.robustness_rows(entry)
    assert [(r["model"], r["start"]) for r in rows] == [("gaussian", "k-means"), ("gaussian", "clean fit"),
                                                        ("student_t", "k-means"), ("student_t", "clean fit")]
    assert [r["relabelled_percent"] for r in rows] == [25.0, 12.5, 1.0, 0.5]
    assert [r["max_mean_shift_rgb"] for r in rows] == [10.0, 9.0, 2.0, 1.5]
    assert [r["min_dof"] for r in rows] == [None, None, 1.0, 2.0]
    assert {r["corruption"] for r in rows} == {"noise"}
