"""The fit's cheap paths (gmm._random, gmm._validation.validate_samples, the cached parameter
names) behave exactly as the scikit-learn functions they stand in for."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.utils.validation import validate_data

import gmm
from gmm._random import random_state_for_fit
from gmm._validation import validate_samples


def _same_state(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a.get_state(), b.get_state()))


# ------------------------------------------------------------------ random_state_for_fit
@pytest.mark.parametrize("seed", [0, 1, 12345, 2**32 - 1, np.int64(7), True])
def test_an_int_seed_lends_the_state_of_a_new_random_state(seed):
    with random_state_for_fit(3) as used:  # leave a used spare behind
        used.standard_normal(5)  # fills the Gaussian cache too
    with random_state_for_fit(seed) as lent:
        assert _same_state(lent, np.random.RandomState(seed))
        assert np.array_equal(lent.random_sample(7), np.random.RandomState(seed).random_sample(7))


def test_a_fit_inside_a_fit_gets_its_own_generator():
    with random_state_for_fit(0) as outer:
        first = outer.random_sample()
        with random_state_for_fit(0) as inner:
            assert inner is not outer
            inner.random_sample(100)
        reference = np.random.RandomState(0)
        reference.random_sample()
        assert _same_state(outer, reference)  # the inner fit did not draw from the outer's
    assert first == np.random.RandomState(0).random_sample()


def test_threads_get_generators_of_their_own():
    seen = {}

    def lend(name):
        with random_state_for_fit(0) as lent:
            seen[name] = lent
            barrier.wait()

    barrier = threading.Barrier(2)
    workers = [threading.Thread(target=lend, args=(name,)) for name in "ab"]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert seen["a"] is not seen["b"]


def test_other_seeds_are_scikit_learns():
    instance = np.random.RandomState(5)
    with random_state_for_fit(instance) as lent:
        assert lent is instance
    with random_state_for_fit(None) as lent:
        assert lent is np.random.mtrand._rand
    with pytest.raises(ValueError) as ours, random_state_for_fit(-1):
        pass
    with pytest.raises(ValueError) as numpys:
        np.random.RandomState(-1)
    assert str(ours.value) == str(numpys.value)
    with random_state_for_fit(4) as lent:  # the spare survived the failed seeding
        assert _same_state(lent, np.random.RandomState(4))


def test_fits_with_an_int_seed_repeat_bit_for_bit():
    X = np.random.RandomState(0).standard_normal((300, 2))
    first = gmm.GaussianMixture(3, random_state=0, n_init=2).fit(X)
    gmm.GaussianMixture(3, random_state=1).fit(X)  # draws from the spare in between
    second = gmm.GaussianMixture(3, random_state=0, n_init=2).fit(X)
    assert np.array_equal(first.means_, second.means_) and first.lower_bound_ == second.lower_bound_


# ------------------------------------------------------------------ validate_samples
class _Estimator(BaseEstimator):
    pass


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_plain_arrays_take_the_fast_path_with_validate_datas_result(dtype):
    X = np.arange(12, dtype=dtype).reshape(6, 2)
    ours, theirs = _Estimator(), _Estimator()
    ours.feature_names_in_ = theirs.feature_names_in_ = np.array(["a", "b"], dtype=object)
    out = validate_samples(ours, X, reset=True, ensure_min_samples=2)
    expected = validate_data(theirs, X, dtype=[np.float64, np.float32], ensure_min_samples=2)
    assert out is X and expected is X
    assert vars(ours).keys() == vars(theirs).keys() and ours.n_features_in_ == theirs.n_features_in_ == 2
    view = X[:3]
    assert validate_samples(ours, view, reset=False) is view  # after the fit too, without a copy


@pytest.mark.parametrize("bad", [
    np.array([[1.0, np.nan], [2.0, 3.0]]),
    np.array([[1.0, np.inf], [2.0, 3.0]]),
    np.array([[1.0, 2.0]]),  # one sample, two needed
    np.zeros((3, 0)),
    np.array([1.0, 2.0, 3.0]),  # 1-D
])
def test_bad_arrays_get_scikit_learns_error(bad):
    with pytest.raises(ValueError) as ours:
        validate_samples(_Estimator(), bad, reset=True, ensure_min_samples=2)
    with pytest.raises(ValueError) as theirs:
        validate_data(_Estimator(), bad, dtype=[np.float64, np.float32], ensure_min_samples=2)
    assert str(ours.value) == str(theirs.value)


def test_other_inputs_are_converted_as_scikit_learn_converts_them():
    for X in ([[1, 2], [3, 4], [5, 6]], np.array([[1, 2], [3, 4]], dtype=np.int32), np.asfortranarray(np.ones((4, 2)))):
        out = validate_samples(_Estimator(), X, reset=True)
        expected = validate_data(_Estimator(), X, dtype=[np.float64, np.float32])
        assert out.dtype == expected.dtype and np.array_equal(out, expected)


def test_after_the_fit_a_wrong_width_and_missing_names_are_scikit_learns_concern():
    fitted = _Estimator()
    validate_samples(fitted, np.ones((4, 2)), reset=True)
    with pytest.raises(ValueError) as ours:
        validate_samples(fitted, np.ones((4, 3)), reset=False)
    reference = _Estimator()
    validate_data(reference, np.ones((4, 2)))
    with pytest.raises(ValueError) as theirs:
        validate_data(reference, np.ones((4, 3)), dtype=[np.float64, np.float32], reset=False)
    assert str(ours.value) == str(theirs.value)
    fitted.feature_names_in_ = np.array(["a", "b"], dtype=object)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        validate_samples(fitted, np.ones((4, 2)), reset=False)


# ------------------------------------------------------------------ parameter names
def test_parameter_names_are_scikit_learns_per_class():
    class Extended(gmm.GaussianMixture):
        def __init__(self, n_components=1, *, extra=0, **kwargs):
            super().__init__(n_components, **kwargs)
            self.extra = extra

    for cls in (gmm.GaussianMixture, gmm.StudentTMixture):
        assert cls._get_param_names() == BaseEstimator._get_param_names.__func__(cls)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert "extra" in Extended(2, extra=3).get_params() and "extra" not in gmm.GaussianMixture().get_params()


# ------------------------------------------------------------------ the start's layout
def _reference_start(X, w, K, method, seed):
    """The (n, K) responsibilities of each method, transposed and weighted afterwards."""
    from sklearn.cluster import kmeans_plusplus

    from gmm._init import kmeans_labels

    rng, n = np.random.RandomState(seed), X.shape[0]
    resp = np.zeros((n, K))
    if method == "kmeans":
        resp[np.arange(n), kmeans_labels(X, w, K, rng)] = 1
    elif method == "k-means++":
        resp[kmeans_plusplus(X, K, random_state=rng, sample_weight=w)[1], np.arange(K)] = 1
    elif method == "random":
        resp = rng.uniform(size=(n, K))
        resp /= resp.sum(axis=1)[:, np.newaxis]
    else:
        p = None if w is None else w / w.sum()
        resp[rng.choice(n, size=K, replace=False, p=p), np.arange(K)] = 1
    return np.ascontiguousarray(resp.T) if w is None else resp.T * w


@pytest.mark.parametrize("method", ["kmeans", "k-means++", "random", "random_from_data"])
@pytest.mark.parametrize("weighted", [False, True])
def test_the_start_is_written_component_first_bit_for_bit(method, weighted):
    from gmm._init import initial_responsibilities

    rng = np.random.RandomState(1)
    X = np.vstack([rng.normal(c, 1.0, size=(60, 2)) for c in (0.0, 5.0, 10.0)])
    w = rng.randint(1, 9, size=X.shape[0]).astype(np.float64) if weighted else None
    ours = initial_responsibilities(X, w, 3, method, np.random.RandomState(0))
    expected = _reference_start(X, w, 3, method, 0)
    assert ours.flags.c_contiguous and ours.shape == (3, X.shape[0])
    assert np.array_equal(ours, expected)
