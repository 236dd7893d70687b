"""The computations the notebooks report, wherever they live: the history checks
(gmm.history), label flips (gmm.labels), enclosed regions (gmm.regions), the estimator's
per-component densities and distances, and the companion's experiment helpers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal

import gmm
from gmm.companion import experiments
from gmm.history import history_summary
from gmm.labels import label_flips
from gmm.regions import enclosed_regions


@pytest.fixture(scope="module")
def fitted(request):
    rng = np.random.RandomState(0)
    # Two clusters of colours (RGB features in [0, 1]): a dark one and a bright one.
    X = np.concatenate([rng.normal(0.2, 0.05, (150, 3)), rng.normal(0.7, 0.03, (100, 3))])
    return X, gmm.GaussianMixture(2, random_state=0, tol=1e-8, max_iter=200).fit(X)


def test_history_summary_on_a_real_fit(fitted):
    _, model = fitted
    summary = history_summary(model.history_)
    assert summary["n_iter"] == model.n_iter_
    assert summary["final_log_likelihood"] == model.history_.log_likelihood[-1]
    assert summary["max_abs_kl_e_step"] < 1e-10
    assert summary["min_kl_m_step"] > -1e-10 and summary["min_m_step_gain"] > -1e-10
    assert summary["monotone"] is True


def test_history_summary_detects_a_decrease():
    ll = np.array([-3.0, -2.0, -2.5])
    zeros = np.zeros(3)
    history = gmm.EMHistory(
        log_likelihood=ll, expected_complete=ll - 1, entropy=np.ones(3), elbo=ll, kl=zeros,
        log_likelihood_m=ll + 0.1, expected_complete_m=ll - 0.95, elbo_m=ll + 0.05, kl_m=zeros + 0.05,
    )
    summary = history_summary(history)
    assert summary["monotone"] is False
    assert summary["min_log_likelihood_step"] == pytest.approx(-0.5)
    assert summary["min_m_step_gain"] == pytest.approx(0.05)


def test_label_flips(fitted):
    X, model = fitted
    labels = model.predict(X).reshape(10, 25)
    swapped = 1 - labels
    assert label_flips(labels, [labels, swapped], 2).tolist() == [False, True]


def test_canonical_result_undoes_label_switching():
    from dataclasses import replace

    from gmm.labels import relabel_model

    rng = np.random.default_rng(1)
    image = np.zeros((20, 30, 3), dtype=np.uint8)
    image[:, 15:] = 200
    image = np.clip(image + rng.integers(0, 30, size=image.shape), 0, 255).astype(np.uint8)
    fitted = gmm.segment(image, 2, random_state=0, canonical=False)
    # The same optimum with EM's other numbering, as another seed may reach it.
    flipped = replace(fitted, labels=(1 - fitted.labels).astype(np.uint8), model=relabel_model(fitted.model, [1, 0]))
    expected = gmm.segment(image, 2, random_state=0).labels
    for result in (fitted, flipped):
        canonical = result.canonical()
        np.testing.assert_array_equal(canonical.labels, expected)
        assert canonical.labels.dtype == result.labels.dtype and canonical.model is not result.model
        assert canonical.model.means_[0].sum() < canonical.model.means_[1].sum()  # darkest first
    assert not np.array_equal(fitted.labels, flipped.labels)  # the originals are left as they were


def test_optimum_groups_best_first():
    assert experiments.optimum_groups([1.00001, 0.5, 1.00002, 0.50004], decimals=3) == {1.0: 2, 0.5: 2}


def test_enclosed_regions_finds_holes_largest_first():
    labels = np.zeros((12, 12), dtype=np.uint8)
    labels[1:8, 1:8] = 1  # the animal
    labels[3:5, 3:6] = 0  # a 6-pixel hole of background: the nose
    labels[6, 6] = 0  # a 1-pixel hole
    labels[10, 10] = 1  # not a hole: background outside the animal stays out
    regions = enclosed_regions(labels, outer=1, inner=0)
    assert [r.size for r in regions] == [6, 1]
    nose = regions[0]
    assert (nose.rows, nose.cols) == (slice(3, 5), slice(3, 6))
    assert nose.centre == (4, 4)
    assert nose.crop(2, labels.shape) == (slice(1, 7), slice(1, 8))
    assert nose.crop(50, labels.shape) == (slice(0, 12), slice(0, 12))
    assert enclosed_regions(labels, outer=1, inner=0, min_size=2) == regions[:1]
    assert enclosed_regions(np.zeros((4, 4), int), outer=1, inner=0) == []
    with pytest.raises(ValueError, match="shape"):
        enclosed_regions(np.zeros(4, int), 1, 0)


def test_component_densities_and_mahalanobis(fitted):
    X, model = fitted
    x = X[:5]
    expected = np.column_stack([
        np.log(model.weights_[k]) + multivariate_normal(model.means_[k], model.covariances_[k]).logpdf(x)
        for k in range(2)
    ])
    np.testing.assert_allclose(model.component_log_densities(x), expected, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(np.exp(model.component_log_densities(x)).sum(1), np.exp(model.score_samples(x)))
    d = model.mahalanobis(x)
    for k in range(2):
        diff = x - model.means_[k]
        squared = np.einsum("ij,jk,ik->i", diff, np.linalg.inv(model.covariances_[k]), diff)
        np.testing.assert_allclose(d[:, k] ** 2, squared)


def test_score_against_truth_on_two_colour_blocks():
    rng = np.random.default_rng(0)
    truth = np.zeros((20, 30), dtype=np.uint8)
    truth[:, 15:] = 1
    colours = np.array([[20, 70, 20], [230, 210, 240]])
    image = np.clip(colours[truth] + rng.normal(0, 6, (20, 30, 3)), 0, 255).astype(np.uint8)
    rows = experiments.score_against_truth(image, truth, [2], ("rgb", "grey"), random_state=0)
    assert [(r["color_space"], r["n_components"]) for r in rows] == [("rgb", 2), ("grey", 2)]
    for row in rows:
        assert row["ari"] == pytest.approx(1.0) and row["accuracy"] == pytest.approx(1.0)


def test_distinct_vs_pixels_agree_on_a_small_image():
    rng = np.random.default_rng(3)
    image = np.zeros((30, 40, 3), dtype=np.uint8)
    image[:, :20] = (200, 40, 30)
    image[:, 20:] = (20, 90, 210)
    image[10:20, 10:30] = (240, 240, 240)
    image = np.clip(image + rng.integers(-12, 13, size=image.shape), 0, 255).astype(np.uint8)
    out = experiments.distinct_vs_pixels(image, 3, seed=0, tol=1e-6)
    assert out["n_pixels"] == 1200 and 0 < out["n_distinct"] < 1200
    assert out["max_abs_d_means"] < 1e-9 and out["max_abs_d_covariances"] < 1e-7
    assert out["max_abs_d_weights"] < 1e-12 and abs(out["d_lower_bound"]) < 1e-10
    assert out["n_iter_distinct"] == out["n_iter_pixels"]
    assert out["labels_agree"] == 1.0
