"""``gmm.GaussianMixture`` as a drop-in for ``sklearn.mixture.GaussianMixture``.

Each behaviour is run side by side with scikit-learn on the same data and parameters: dtypes,
more components than distinct points, the tied start, parameter validation, ``max_iter=0``,
warning texts, ``tol=0``, ties in ``predict``, a zero initial weight, verbose output.
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings

import numpy as np
import pytest
import sklearn.mixture
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError

import gmm

PARAMETERS = ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_")
COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


def both(X, fit_kwargs=None, **params):
    """The two estimators fitted on the same data with the same parameters, warnings recorded."""
    fitted = []
    for estimator in (gmm.GaussianMixture, sklearn.mixture.GaussianMixture):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            model = estimator(**params).fit(X, **(fit_kwargs or {}))
        fitted.append((model, [(w.category, str(w.message)) for w in record]))
    return fitted


@pytest.fixture(scope="module")
def blobs():
    X, _ = make_blobs(400, centers=3, cluster_std=1.5, random_state=0)
    return X


# ------------------------------------------------------------------- 1. float32 is kept
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_input_gives_float32_attributes_and_outputs(blobs, covariance_type):
    X32 = blobs.astype(np.float32)
    (ours, _), (ref, _) = both(X32, n_components=3, covariance_type=covariance_type, random_state=0)
    for name in PARAMETERS:
        assert getattr(ours, name).dtype == getattr(ref, name).dtype == np.float32, name
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name), rtol=2e-4, atol=1e-5, err_msg=name)
    assert ours.n_iter_ == ref.n_iter_
    for method in ("score_samples", "predict_proba", "component_log_densities", "mahalanobis"):
        if hasattr(ref, method):
            assert getattr(ours, method)(X32).dtype == getattr(ref, method)(X32).dtype == np.float32, method
        else:
            assert getattr(ours, method)(X32).dtype == np.float32, method
    np.testing.assert_allclose(ours.score_samples(X32), ref.score_samples(X32), rtol=1e-4)
    np.testing.assert_array_equal(ours.predict(X32), ref.predict(X32))
    # Float64 scoring of a float32 fit promotes as numpy does in scikit-learn.
    assert ours.score_samples(blobs).dtype == ref.score_samples(blobs).dtype == np.float64


def test_float32_fit_is_the_float64_fit_to_float32_precision(blobs):
    """EM runs in float64 on the float32 values, so only the stored results are rounded."""
    X32 = blobs.astype(np.float32)
    a = gmm.GaussianMixture(3, random_state=0).fit(X32)
    b = gmm.GaussianMixture(3, random_state=0).fit(X32.astype(np.float64))
    assert a.n_iter_ == b.n_iter_
    for name in PARAMETERS:
        np.testing.assert_allclose(getattr(a, name), getattr(b, name).astype(np.float32), rtol=1e-6, err_msg=name)
    np.testing.assert_allclose(a.lower_bounds_, b.lower_bounds_, rtol=1e-12)
    for name, values in a.history_.as_dict().items():
        np.testing.assert_allclose(values, getattr(b.history_, name), rtol=1e-12, atol=1e-12, err_msg=name)


# ----------------------------------------------- 2. more components than distinct points
@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random_from_data"])
def test_more_components_than_distinct_points_fits_like_sklearn(init_params):
    X = np.array([[0.0, 1.0], [0.0, 1.0], [2.0, 2.0], [2.0, 2.0], [0.0, 1.0], [2.0, 2.0]])
    (ours, our_warnings), (ref, their_warnings) = both(X, n_components=3, init_params=init_params, random_state=0)
    for name in ("weights_", "means_", "covariances_"):
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name), rtol=1e-7, atol=1e-9, err_msg=name)
    if init_params == "kmeans":  # k-means leaves one cluster empty (the other two starts share a point)
        assert np.sort(ours.weights_)[0] < 1e-9
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    # scikit-learn's warnings are all there (k-means' "Number of distinct clusters" among them);
    # gmm adds one naming the empty component.
    assert set(their_warnings) <= set(our_warnings)
    extra = [category for category, _ in our_warnings if (category, _) not in their_warnings]
    assert extra == [gmm.ComponentCollapseWarning]


def test_too_few_samples_is_refused_in_sklearn_words():
    X = np.arange(6.0).reshape(3, 2)
    for estimator in (gmm.GaussianMixture, sklearn.mixture.GaussianMixture):
        with pytest.raises(ValueError, match=r"^Expected n_samples >= n_components but got n_components = 4, n_samples = 3$"):
            estimator(4).fit(X)


# ---------------------------------------------------------------- 3. the tied start
@pytest.mark.parametrize("init_params", ["k-means++", "random_from_data"])
def test_tied_one_hot_start_matches_sklearn(blobs, init_params):
    (ours, _), (ref, _) = both(blobs, n_components=3, covariance_type="tied", init_params=init_params, random_state=0)
    assert ours.n_iter_ == ref.n_iter_ == 3
    np.testing.assert_allclose(ours.lower_bound_, ref.lower_bound_, rtol=1e-12)
    np.testing.assert_allclose(ours.lower_bound_, -4.2895, atol=5e-5)
    np.testing.assert_allclose(ours.lower_bounds_, ref.lower_bounds_, rtol=1e-12)
    for name in PARAMETERS:
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name), rtol=1e-9, atol=1e-12, err_msg=name)


# ------------------------------------------------------------- 4. parameter validation
@pytest.mark.parametrize(
    "params",
    [dict(warm_start="yes"), dict(verbose="loud"), dict(verbose=2, verbose_interval=0), dict(n_init=0),
     dict(tol=np.inf * 0), dict(covariance_type="full "), dict(max_iter=1.5)],
    ids=lambda p: ",".join(f"{k}={v!r}" for k, v in p.items()),
)
def test_invalid_hyper_parameters_raise_sklearns_invalid_parameter_error(blobs, params):
    for estimator in (gmm.GaussianMixture, sklearn.mixture.GaussianMixture):
        with pytest.raises(InvalidParameterError) as caught:
            estimator(**params).fit(blobs)
        assert isinstance(caught.value, ValueError) and isinstance(caught.value, TypeError)
        name = next(iter(params)) if len(params) == 1 else "verbose_interval"
        assert str(caught.value).startswith(f"The '{name}' parameter of GaussianMixture must be")


def test_parameter_constraints_are_sklearns():
    ours = gmm.GaussianMixture._parameter_constraints
    theirs = sklearn.mixture.GaussianMixture._parameter_constraints
    assert set(ours) == set(theirs) == set(gmm.GaussianMixture().get_params())

    def key(constraint):  # StrOptions prints its set in hash order: compare the options instead
        return sorted(constraint.options) if hasattr(constraint, "options") else str(constraint)

    for name in ours:
        assert [key(c) for c in ours[name]] == [key(c) for c in theirs[name]], name
    assert gmm.GaussianMixture().get_params() == sklearn.mixture.GaussianMixture().get_params()


# ------------------------------------------------------ 5. max_iter=0 and warning texts
@pytest.mark.parametrize("init_params", ["kmeans", "random", "k-means++", "random_from_data"])
def test_max_iter_zero_keeps_the_last_start(blobs, init_params):
    (ours, our_warnings), (ref, their_warnings) = both(
        blobs, n_components=3, max_iter=0, n_init=5, init_params=init_params, random_state=0)
    first = gmm.GaussianMixture(3, max_iter=0, init_params=init_params, random_state=0).fit(blobs)
    for name in PARAMETERS:
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name), rtol=1e-10, atol=1e-12, err_msg=name)
    assert not np.allclose(ours.means_, first.means_)  # not the first of the five starts
    assert ours.lower_bound_ == ref.lower_bound_ == -np.inf
    assert ours.n_iter_ == ref.n_iter_ == 0 and not ours.converged_ and not ref.converged_
    assert ours.lower_bounds_ == list(ref.lower_bounds_) == [] and ours.history_.n_iter == 0
    assert our_warnings == their_warnings == []


def test_convergence_warning_has_sklearns_text(blobs):
    (ours, our_warnings), (ref, their_warnings) = both(blobs, n_components=3, max_iter=2, tol=0.0, random_state=0)
    assert our_warnings == their_warnings
    assert our_warnings[0][0] is ConvergenceWarning and "Best performing initialization did not converge" in our_warnings[0][1]


# --------------------------------------------------------------- 6. edge cases pinned
def test_tol_zero_runs_to_max_iter_even_when_the_change_is_exactly_zero():
    X = np.random.RandomState(0).normal(size=(200, 2))
    (ours, _), (ref, _) = both(X, n_components=1, tol=0.0, max_iter=6)
    assert 0.0 in np.diff(ours.lower_bounds_)  # EM reached its fixed point: changes of exactly 0.0
    assert ours.n_iter_ == ref.n_iter_ == 6 and not ours.converged_ and not ref.converged_
    np.testing.assert_allclose(ours.lower_bounds_, ref.lower_bounds_, rtol=1e-13)
    (ours, _), (ref, _) = both(X, n_components=1, tol=1e-12, max_iter=6)
    assert ours.n_iter_ == ref.n_iter_ < 6 and ours.converged_ and ref.converged_


def test_predict_picks_the_first_component_on_exact_ties(blobs):
    params = dict(n_components=3, max_iter=1, weights_init=[0.25, 0.25, 0.5],
                  means_init=[[0.0, 0.0], [0.0, 0.0], [50.0, 50.0]], precisions_init=np.stack([np.eye(2)] * 3))
    (ours, _), (ref, _) = both(blobs, **params)
    labels = ours.predict(blobs)
    assert 0 in labels and 1 not in labels  # components 0 and 1 stay one Gaussian, one weight
    np.testing.assert_array_equal(labels, ref.predict(blobs))
    np.testing.assert_array_equal(labels, ours.predict_proba(blobs).argmax(axis=1))
    np.testing.assert_array_equal(gmm.GaussianMixture(**params).fit_predict(blobs), labels)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_zero_initial_weight_gives_a_finite_history(blobs, covariance_type):
    precisions = {"full": np.stack([np.eye(2)] * 3), "tied": np.eye(2), "diag": np.ones((3, 2)),
                  "spherical": np.ones(3)}[covariance_type]
    params = dict(n_components=3, covariance_type=covariance_type, weights_init=[0.5, 0.5, 0.0],
                  means_init=blobs[[0, 1, 2]], precisions_init=precisions, tol=1e-8, max_iter=50)
    (ours, _), (ref, _) = both(blobs, **params)
    for name, values in ours.history_.as_dict().items():
        assert np.all(np.isfinite(values)), name
    # q log q with q = 0 counts 0: the entropy after the first E-step is that of the other two.
    assert ours.history_.entropy[0] >= 0
    for name in ("weights_", "means_", "covariances_"):
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name), rtol=1e-6, atol=1e-8, err_msg=name)
    np.testing.assert_allclose(ours.lower_bounds_, ref.lower_bounds_, rtol=1e-9)


@pytest.mark.parametrize("verbose", [1, 2])
def test_verbose_output_matches_sklearn(blobs, verbose):
    outputs = []
    for estimator in (gmm.GaussianMixture, sklearn.mixture.GaussianMixture):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            estimator(3, n_init=2, verbose=verbose, verbose_interval=1, random_state=0).fit(blobs)
        outputs.append(re.sub(r"time lapse [0-9.]+s", "time lapse Ts", buffer.getvalue()))
    assert outputs[0] == outputs[1]
    assert outputs[0].count("Iteration") > 2


# ------------------------------------------------------------- weights, as repeated rows
def test_integer_sample_weights_equal_sklearn_on_repeated_rows(blobs):
    counts = np.random.RandomState(1).randint(1, 4, size=blobs.shape[0])
    params = dict(n_components=3, tol=1e-8, means_init=blobs[[0, 1, 2]], weights_init=[0.2, 0.3, 0.5],
                  precisions_init=np.stack([np.eye(2)] * 3))
    ours = gmm.GaussianMixture(**params).fit(blobs, sample_weight=counts)
    ref = sklearn.mixture.GaussianMixture(**params).fit(np.repeat(blobs, counts, axis=0))
    assert ours.n_iter_ == ref.n_iter_
    for name in PARAMETERS:
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name), rtol=1e-9, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(ours.lower_bounds_, ref.lower_bounds_, rtol=1e-10)
