"""Canonical component order and label matching (gmm.labels)."""

from __future__ import annotations

import numpy as np
import pytest

from gmm import GaussianMixture
from gmm.image import to_features
from gmm.labels import (
    align_labels,
    canonical_order,
    inverse_permutation,
    label_permutation,
    relabel_model,
)


# ---------------------------------------------------------------------- canonical_order
def test_order_is_by_luminance_ascending():
    means = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.0, 1.0, 0.0]])
    # Lumas: 1, 0, 0.5, 0.587.
    np.testing.assert_array_equal(canonical_order(means), [1, 2, 3, 0])
    np.testing.assert_array_equal(canonical_order(means * 255), [1, 2, 3, 0])


def test_equal_luminance_is_broken_by_rgb_then_extra_columns_then_weight():
    # 0.299 * 0.114 == 0.114 * 0.299: same luma, and the smaller red comes first.
    np.testing.assert_array_equal(canonical_order([[0.114, 0, 0], [0, 0, 0.299]]), [1, 0])
    same = [[0.2, 0.2, 0.2, 0.9], [0.2, 0.2, 0.2, 0.1]]
    np.testing.assert_array_equal(canonical_order(same), [1, 0])
    equal = [[0.5, 0.5, 0.5]] * 3
    np.testing.assert_array_equal(canonical_order(equal, weights=[0.5, 0.2, 0.3]), [1, 2, 0])
    np.testing.assert_array_equal(canonical_order(equal), [0, 1, 2])  # complete tie: stable


def test_order_in_other_colour_spaces_follows_the_same_colours():
    colours = np.array([[200, 180, 40], [10, 30, 20], [90, 100, 160], [250, 250, 250]], dtype=np.uint8)
    expected = canonical_order(colours.astype(float))
    np.testing.assert_array_equal(expected, [1, 2, 0, 3])
    for space in ("lab", "hsv", "grey"):
        np.testing.assert_array_equal(canonical_order(to_features(colours, space), space), expected)


def test_order_from_a_fitted_model_uses_its_means():
    x = np.concatenate([np.full(30, 0.8), np.full(30, 0.1), np.full(30, 0.5)]) + np.tile([-0.01, 0, 0.01], 30)
    model = GaussianMixture(3, random_state=0).fit(x[:, None])
    order = canonical_order(model, "grey")
    assert np.all(np.diff(model.means_[order, 0]) > 0)


def test_bad_means_are_refused():
    with pytest.raises(ValueError, match="finite"):
        canonical_order([[np.nan, 0, 0], [0, 0, 0]])
    with pytest.raises(ValueError, match="shape"):
        canonical_order([[0.0, 1.0], [1.0, 0.0]], "rgb")
    with pytest.raises(ValueError, match="weights"):
        canonical_order([[0.0, 0, 0], [1, 1, 1]], weights=[1.0])


# ------------------------------------------------------------------------ relabel_model
@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_relabelled_model_is_the_same_mixture_renumbered(blobs, covariance_type):
    X, _ = blobs
    model = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    before = {name: np.copy(getattr(model, name)) for name in ("weights_", "means_", "covariances_")}
    order = np.array([2, 0, 1])
    new = relabel_model(model, order)
    assert new is not model
    np.testing.assert_array_equal(new.weights_, model.weights_[order])
    np.testing.assert_array_equal(new.means_, model.means_[order])
    if covariance_type == "tied":
        np.testing.assert_array_equal(new.covariances_, model.covariances_)
    else:
        np.testing.assert_array_equal(new.precisions_cholesky_, model.precisions_cholesky_[order])
    np.testing.assert_allclose(new.predict_proba(X), model.predict_proba(X)[:, order])
    np.testing.assert_array_equal(inverse_permutation(order)[model.predict(X)], new.predict(X))
    assert new.score(X) == model.score(X)
    np.testing.assert_array_equal(new.history_.elbo, model.history_.elbo)
    for name, value in before.items():  # the original is untouched
        np.testing.assert_array_equal(getattr(model, name), value)


def test_relabel_model_refuses_bad_orders_and_unfitted_models(blobs):
    model = GaussianMixture(3, random_state=0).fit(blobs[0])
    for order in ([0, 1], [0, 0, 1], [0, 1, 3], [0.0, 1.0, 2.0]):
        with pytest.raises(ValueError, match="permutation"):
            relabel_model(model, order)
    with pytest.raises(ValueError, match="fitted"):
        relabel_model(GaussianMixture(3), [0, 1, 2])


# ------------------------------------------------------------------- matching label maps
def test_contingency_table_by_hand():
    from gmm.metrics import contingency_table  # the one table, truth on the rows, indexed by value

    reference = np.array([[0, 0, 1], [1, 1, 2]])
    labels = np.array([[1, 1, 0], [0, 1, 1]])
    np.testing.assert_array_equal(contingency_table(reference, labels), [[0, 2], [2, 1], [0, 1]])
    np.testing.assert_array_equal(contingency_table(reference, labels, n_labels=3), [[0, 2, 0], [2, 1, 0], [0, 1, 0]])
    np.testing.assert_array_equal(contingency_table(reference - 5, labels), [[0, 2], [2, 1], [0, 1]])  # by rank
    with pytest.raises(ValueError, match="not below the given number of labels 1"):
        contingency_table(reference, labels, n_labels=1)


def test_a_pure_permutation_is_undone():
    reference = np.array([[0, 0, 1, 1], [2, 2, 2, 2]])
    permuted = np.array([2, 0, 1])[reference]
    mapping = label_permutation(reference, permuted)
    np.testing.assert_array_equal(mapping, [1, 2, 0])
    aligned = align_labels(reference, permuted.astype(np.uint8))
    np.testing.assert_array_equal(aligned, reference)
    assert aligned.dtype == np.uint8


def test_matching_maximises_overlap_with_noise():
    rng = np.random.default_rng(0)
    reference = rng.integers(0, 4, size=(30, 30))
    labels = np.array([3, 1, 0, 2])[reference]
    noisy = np.where(rng.random(reference.shape) < 0.2, rng.integers(0, 4, reference.shape), labels)
    aligned = align_labels(reference, noisy)
    assert (aligned == reference).mean() > 0.8
    np.testing.assert_array_equal(label_permutation(reference, noisy), [2, 1, 3, 0])


def test_more_labels_than_reference_get_fresh_labels():
    reference = np.array([0, 0, 0, 1, 1, 1])
    labels = np.array([2, 2, 0, 1, 1, 3])
    mapping = label_permutation(reference, labels)
    # 2 -> 0 and 1 -> 1 overlap best; 0 and 3 become new labels 2 and 3, in their order.
    np.testing.assert_array_equal(mapping, [2, 1, 0, 3])
    assert sorted(mapping) == [0, 1, 2, 3]


def test_fewer_labels_than_reference():
    reference = np.array([0, 0, 1, 1, 2, 2])
    labels = np.array([1, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(label_permutation(reference, labels), [2, 0])


def test_n_labels_gives_absent_labels_a_place():
    reference = np.array([0, 1, 1])
    labels = np.array([1, 0, 0])
    mapping = label_permutation(reference, labels, n_labels=4)
    assert mapping.shape == (4,)
    np.testing.assert_array_equal(mapping[:2], [1, 0])
    assert sorted(mapping) == [0, 1, 2, 3]


def test_bad_label_maps_are_refused():
    with pytest.raises(ValueError, match="same shape"):
        align_labels(np.zeros((2, 2), int), np.zeros((2, 3), int))
    with pytest.raises(ValueError, match="non-negative integer"):
        align_labels(np.zeros((2, 2), int), -np.ones((2, 2), int))
    with pytest.raises(ValueError, match="non-negative integer"):
        align_labels(np.zeros((2, 2)), np.zeros((2, 2), int))
    with pytest.raises(ValueError, match="number of labels"):
        label_permutation(np.zeros(3, int), np.array([0, 1, 5]), n_labels=2)


def test_relabel_model_permutes_the_degrees_of_freedom_of_a_t_mixture():
    from gmm.student_t import StudentTMixture

    rng = np.random.default_rng(0)
    X = np.concatenate([rng.standard_t(3, (200, 2)), rng.standard_t(30, (200, 2)) + 8])
    model = StudentTMixture(2, random_state=0).fit(X)
    new = relabel_model(model, [1, 0])
    np.testing.assert_array_equal(new.degrees_of_freedom_, model.degrees_of_freedom_[::-1])
    np.testing.assert_array_equal(new.means_, model.means_[::-1])
