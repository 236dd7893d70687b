"""Bad input gives one clear ValueError naming the problem; degenerate fits warn, never NaN."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError

import gmm

GM = gmm.GaussianMixture


@pytest.fixture
def X():
    return np.random.RandomState(0).normal(size=(50, 3))


def with_value(X, row, col, value):
    X = X.copy()
    X[row, col] = value
    return X


# ------------------------------------------------------------------------------- data
@pytest.mark.parametrize(
    "make, match",
    [
        (lambda X: with_value(X, 3, 1, np.nan), "Input X contains NaN"),
        (lambda X: with_value(X, 3, 1, np.inf), "Input X contains infinity"),
        (lambda X: with_value(X, 0, 0, -np.inf), "Input X contains infinity"),
        (lambda X: X[:, 0], "Expected 2D array, got 1D array"),
        (lambda X: X.reshape(5, 10, 3), "Found array with dim 3"),
        (lambda X: np.array([["a", "b"], ["c", "d"], ["e", "f"]]), "could not convert string to float"),
        (lambda X: np.array([[1, "b"], [2, "d"], [3, "f"]], dtype=object), "could not convert string to float"),
        (lambda X: X + 1j, "Complex data not supported"),
        (lambda X: X[:0], "Found array with 0 sample"),
        (lambda X: X[:1], "Found array with 1 sample"),
    ],
    ids=["nan", "inf", "-inf", "1d", "3d", "strings", "object-strings", "complex", "empty", "one-sample"],
)
def test_bad_data(X, make, match):
    with pytest.raises(ValueError, match=match):
        GM(2).fit(make(X))


def test_fewer_samples_than_components(X):
    with pytest.raises(ValueError, match="Expected n_samples >= n_components"):
        GM(5).fit(X[:3])


def test_fewer_distinct_points_than_components():
    X = np.array([[0.0, 1.0], [0.0, 1.0], [2.0, 2.0], [2.0, 2.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match=r"only 2 distinct point\(s\).*n_components=3"):
        GM(3).fit(X)


def test_fewer_distinct_points_than_components_among_many_rows():
    """Many rows but few distinct ones (past the prefix the distinctness check looks at first)."""
    X = np.tile([[0.0, 1.0], [2.0, 2.0]], (5000, 1))
    with pytest.raises(ValueError, match=r"only 2 distinct point\(s\)"):
        GM(3).fit(X)
    with pytest.warns(gmm.ComponentCollapseWarning, match=r"Component\(s\) 0, 1 collapsed"):
        assert GM(2, random_state=0).fit(X).converged_  # two spikes: legal, held by reg_covar


def test_zero_weights_do_not_count_as_support(X):
    weights = np.zeros(50)
    weights[:2] = 1.0
    with pytest.raises(ValueError, match=r"n_samples = 2 \(with positive weight\)"):
        GM(3).fit(X, sample_weight=weights)
    X = np.vstack([np.zeros((10, 3)), X])  # 10 copies of one point, then 50 zero-weighted points
    weights = np.r_[np.ones(10), np.zeros(50)]
    weights[10] = 1.0
    with pytest.raises(ValueError, match=r"only 2 distinct point\(s\) with positive weight"):
        GM(3).fit(X, sample_weight=weights)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore::gmm.ComponentCollapseWarning")
def test_signed_zeros_are_one_distinct_point():
    with pytest.raises(ValueError, match=r"only 1 distinct point\(s\)"):
        GM(2).fit(np.array([[0.0], [-0.0], [0.0]]))


# ---------------------------------------------------------------------------- weights
@pytest.mark.parametrize(
    "weights, match",
    [
        (-np.ones(50), "negative values"),
        (np.r_[np.ones(49), -1e-9], "negative values"),
        (np.zeros(50), "zero everywhere"),
        (np.r_[np.ones(49), np.nan], "NaN or infinity"),
        (np.r_[np.ones(49), np.inf], "NaN or infinity"),
        (np.ones(49), r"shape \(50,\) to match X, got \(49,\)"),
        (np.ones((50, 1)), r"shape \(50,\) to match X, got \(50, 1\)"),
        (np.array(["a"] * 50), "must be numeric"),
    ],
    ids=["negative", "one-negative", "all-zero", "nan", "inf", "short", "2d", "strings"],
)
def test_bad_sample_weight(X, weights, match):
    with pytest.raises(ValueError, match=match):
        GM(2).fit(X, sample_weight=weights)
    model = GM(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match=match):
        model.score(X, sample_weight=weights)


# ------------------------------------------------------------------------- parameters
@pytest.mark.parametrize(
    "params, match",
    [
        (dict(n_components=0), "n_components must be an integer >= 1, got 0"),
        (dict(n_components=2.0), "n_components must be an integer >= 1, got 2.0"),
        (dict(n_components=True), "n_components must be an integer >= 1, got True"),
        (dict(covariance_type="ful"), "covariance_type must be one of .* got 'ful'"),
        (dict(init_params="kmean"), "init_params must be one of .* got 'kmean'"),
        (dict(tol=-1.0), "tol must be a finite number >= 0"),
        (dict(reg_covar=np.nan), "reg_covar must be a finite number >= 0"),
        (dict(n_init=0), "n_init must be an integer >= 1"),
        (dict(max_iter=-1), "max_iter must be an integer >= 0"),
        (dict(precisions_init=np.ones((2, 3))), r"precisions_init for .*'full' must have shape \(2, 3, 3\)"),
        (dict(covariance_type="tied", precisions_init=np.ones((2, 3, 3))), r"'tied' must have shape \(3, 3\)"),
        (dict(covariance_type="diag", precisions_init=np.ones(2)), r"'diag' must have shape \(2, 3\)"),
        (dict(covariance_type="spherical", precisions_init=np.ones((2, 3))), r"'spherical' must have shape \(2,\)"),
        (dict(precisions_init=np.stack([np.eye(3), -np.eye(3)])), "symmetric positive definite"),
        (dict(precisions_init=np.stack([np.eye(3), np.triu(np.ones((3, 3)))])), "symmetric positive definite"),
        (dict(covariance_type="diag", precisions_init=-np.ones((2, 3))), "precisions_init must be positive"),
        (dict(weights_init=[0.3, 0.3]), "weights_init must have shape .* sum to 1"),
        (dict(weights_init=[1.5, -0.5]), "weights_init must have shape .* be >= 0"),
        (dict(weights_init=[1.0]), r"weights_init must have shape \(2,\)"),
        (dict(means_init=np.zeros((2, 2))), r"means_init must have shape \(2, 3\), got \(2, 2\)"),
        (dict(means_init=np.full((2, 3), np.nan)), "means_init contains NaN or infinity"),
    ],
    ids=lambda v: None if isinstance(v, str) else "-".join(f"{k}" for k in v),
)
def test_bad_parameters(X, params, match):
    params = dict(params)
    n_components = params.pop("n_components", 2)
    with pytest.raises(ValueError, match=match):
        GM(n_components, **params).fit(X)


def test_unfitted_and_mismatched_prediction(X):
    with pytest.raises(NotFittedError):
        GM(2).predict(X)
    model = GM(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="X has 2 features, but GaussianMixture is expecting 3"):
        model.predict(X[:, :2])
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.predict_proba(with_value(X, 0, 0, np.nan))
    with pytest.raises(ValueError, match="n_samples must be an integer >= 1"):
        model.sample(0)


def test_fit_image_bad_input():
    with pytest.raises(ValueError, match="Input X contains NaN"):
        gmm.fit_image(np.where(np.eye(4) > 0, np.nan, np.arange(16.0).reshape(4, 4)), 2)
    with pytest.raises(ValueError, match="expected an image of shape"):
        gmm.fit_image(np.zeros(16, np.uint8), 2)
    with pytest.raises(ValueError, match="1 distinct value"):
        gmm.fit_image(np.full((4, 4, 3), 7, np.uint8), 2)


# ------------------------------------------------------------------- degenerate fits
def spike_and_spread(covariance_type):
    """A heavy spike of identical points beside spread data: one component sits on the spike."""
    rng = np.random.RandomState(1)
    spike = np.full((300, 3), 4.0)
    X = np.vstack([spike, rng.normal(size=(300, 3))])
    return X, GM(2, covariance_type=covariance_type, random_state=0)


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_collapsed_component_is_held_by_reg_covar_and_named(covariance_type):
    X, model = spike_and_spread(covariance_type)
    with pytest.warns(gmm.ComponentCollapseWarning) as record:
        model.fit(X)
    k = int(np.argmin(np.abs(model.means_ - 4.0).sum(axis=1)))
    np.testing.assert_array_equal(model.collapsed_components_, [k])
    collapse = [w for w in record if issubclass(w.category, gmm.ComponentCollapseWarning)]
    assert len(collapse) == 1
    assert f"Component(s) {k} collapsed" in str(collapse[0].message)
    assert "reg_covar" in str(collapse[0].message)
    # The spike's component: on the spike, half the weight, variance exactly the regulariser.
    np.testing.assert_allclose(model.means_[k], 4.0, atol=1e-9)
    np.testing.assert_allclose(model.weights_[k], 0.5, atol=1e-6)
    variances = model.covariances_[k]
    if covariance_type == "full":
        variances = np.linalg.eigvalsh(variances)
    np.testing.assert_allclose(variances, model.reg_covar, rtol=1e-3)
    for name in ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"):
        assert np.all(np.isfinite(getattr(model, name))), name
    assert np.isfinite(model.lower_bound_) and np.all(np.isfinite(model.predict_proba(X)))
    assert np.all(np.isfinite(model.score_samples(X)))
    for values in model.history_.as_dict().values():
        assert np.all(np.isfinite(values))


def test_tied_covariance_cannot_collapse_one_component():
    X, model = spike_and_spread("tied")
    with warnings.catch_warnings():
        warnings.simplefilter("error", gmm.ComponentCollapseWarning)
        model.fit(X)
    assert np.all(np.isfinite(model.covariances_))


def test_without_reg_covar_a_collapse_is_a_clear_error():
    X, model = spike_and_spread("full")
    model.set_params(reg_covar=0.0)
    with pytest.raises(ValueError, match="not positive definite.*Increase reg_covar"):
        model.fit(X)


def test_healthy_fit_does_not_warn(blobs):
    X, _ = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = GM(3, random_state=0).fit(X)
    assert model.converged_ and model.collapsed_components_.size == 0


def test_non_convergence_warns(blobs):
    X, _ = blobs
    with pytest.warns(ConvergenceWarning, match="did not converge in max_iter=2"):
        model = GM(3, max_iter=2, tol=0.0, init_params="random", random_state=0).fit(X)
    assert not model.converged_ and model.n_iter_ == 2 and model.history_.n_iter == 2
