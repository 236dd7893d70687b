"""K from the data: the effective-size ICL."""

from __future__ import annotations

import numpy as np
import pytest

from gmm.distinct import distinct_pixels
from gmm.model_selection import icl_score, mean_entropy, n_parameters, select_n_components


def blobs(n_clusters, seed=0, per_cluster=300):
    rng = np.random.default_rng(seed)
    centres = 8.0 * rng.standard_normal((n_clusters, 2))
    return np.repeat(centres, per_cluster, axis=0) + rng.standard_normal((n_clusters * per_cluster, 2))


@pytest.mark.parametrize("n_clusters", [1, 3, 5])
def test_separated_clusters_are_counted(n_clusters):
    X = blobs(n_clusters, seed=n_clusters)
    assert select_n_components(X, candidates=range(1, 8), random_state=0).n_components == n_clusters


def test_sample_weights_act_as_repeated_rows():
    X = np.round(blobs(3, seed=1), 1)
    values, inverse, counts = np.unique(X, axis=0, return_inverse=True, return_counts=True)
    weighted = select_n_components(values, counts, candidates=range(1, 6), random_state=0)
    assert weighted.n_components == 3
    np.testing.assert_allclose(weighted.score[:1], select_n_components(X, candidates=[1]).score, rtol=1e-9)


def test_the_chosen_k_never_falls_as_the_effective_size_grows():
    X = blobs(4, seed=2) * np.array([1.0, 0.3])  # overlapping: the choice depends on n_e
    table = select_n_components(X, candidates=range(1, 9), random_state=0)
    chosen = [table.candidates[np.argmax(icl_score(table.log_likelihood, table.entropy, table.n_parameters, n))]
              for n in np.geomspace(3, 1e6, 40)]
    assert np.all(np.diff(chosen) >= 0) and chosen[0] < chosen[-1]


def test_a_synthetic_football_frame_gets_its_large_classes():
    from gmm.data import football_frame

    image, truth = football_frame(0, size=(120, 200))
    pixels = distinct_pixels(image)
    share = np.bincount(truth.ravel()) / truth.size
    chosen = select_n_components(pixels.values.astype(float), pixels.counts, random_state=0).n_components
    # At least the classes that cover 5% of the frame each; never more than there are classes.
    assert np.sum(share >= 0.05) <= chosen <= share.size


def test_helpers():
    assert n_parameters(3, 2, "full") == 3 * 3 + 3 * 2 + 2
    assert n_parameters(3, 2, "spherical") == 3 + 6 + 2
    assert mean_entropy(np.array([[1.0, 0.0], [0.5, 0.5]])) == pytest.approx(np.log(2) / 2)
    assert mean_entropy(np.array([[1.0, 0.0], [0.5, 0.5]]), np.array([3.0, 1.0])) == pytest.approx(np.log(2) / 4)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(candidates=[]), "non-empty"),
        (dict(candidates=[0, 2]), "integers >= 1"),
        (dict(candidates=[2.5]), "integers >= 1"),
        (dict(candidates=[5, 6]), "cannot fit any candidate"),
        (dict(effective_size=1.0), "effective_size"),
    ],
)
def test_bad_input_is_one_clear_error(kwargs, match):
    X = np.repeat(np.arange(3.0), 10)[:, np.newaxis]  # three distinct values
    with pytest.raises(ValueError, match=match):
        select_n_components(X, **kwargs)
