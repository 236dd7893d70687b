"""Exactness of ``gmm.GaussianMixture``: sample weights, agreement with scikit-learn, determinism."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn.mixture
from sklearn.exceptions import ConvergenceWarning

import gmm

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
INIT_METHODS = ("kmeans", "k-means++", "random", "random_from_data")
PARAMETERS = ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_")


def explicit_init(X, n_components, covariance_type, seed=1):
    """Initial parameters that deliberately differ from the answer: random data points as means,
    unequal weights, and the pooled precision (scaled per component) as precisions."""
    rng = np.random.RandomState(seed)
    means = X[rng.choice(X.shape[0], n_components, replace=False)]
    weights = np.arange(1.0, n_components + 1)
    weights /= weights.sum()
    precision = np.linalg.inv(np.atleast_2d(np.cov(X.T)))
    scale = np.linspace(0.5, 2.0, n_components)
    precisions = {
        "full": scale[:, None, None] * precision,
        "tied": precision,
        "diag": scale[:, None] * np.diag(precision),
        "spherical": scale * np.diag(precision).mean(),
    }[covariance_type]
    return dict(weights_init=weights, means_init=means, precisions_init=precisions)


def quiet_fit(model, X, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, **fit_params)


@pytest.fixture
def counted_rows():
    """Unique rows with integer counts 1..6 and the same data as repeated, shuffled rows."""
    rng = np.random.RandomState(3)
    centres = np.array([[0.0, 0.0, 0.0], [4.0, 1.0, -1.0], [-1.0, 5.0, 2.0]])
    unique = centres[rng.randint(0, 3, size=120)] + rng.normal(size=(120, 3))
    counts = rng.randint(1, 7, size=120)
    repeated = np.repeat(unique, counts, axis=0)
    return unique, counts, repeated[rng.permutation(repeated.shape[0])]


# ----------------------------------------------------------------------- (a) sample weights
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("max_iter", [5, 200])
def test_integer_weights_equal_repeated_rows(counted_rows, covariance_type, max_iter):
    unique, counts, repeated = counted_rows
    params = dict(covariance_type=covariance_type, tol=1e-8, max_iter=max_iter,
                  **explicit_init(unique, 3, covariance_type))
    weighted = quiet_fit(gmm.GaussianMixture(3, **params), unique, sample_weight=counts)
    plain = quiet_fit(gmm.GaussianMixture(3, **params), repeated)

    for name in PARAMETERS:
        np.testing.assert_allclose(getattr(weighted, name), getattr(plain, name), rtol=1e-10, atol=1e-12, err_msg=name)
    assert weighted.n_iter_ == plain.n_iter_
    assert weighted.converged_ == plain.converged_ == (max_iter == 200)
    np.testing.assert_allclose(weighted.lower_bound_, plain.lower_bound_, rtol=1e-10)
    np.testing.assert_allclose(weighted.lower_bounds_, plain.lower_bounds_, rtol=1e-10)
    for name, values in weighted.history_.as_dict().items():
        np.testing.assert_allclose(values, getattr(plain.history_, name), rtol=1e-10, atol=1e-12, err_msg=name)
    # Weighted scores are per unit weight, like the scores of the repeated rows.
    np.testing.assert_allclose(weighted.score(unique, sample_weight=counts), plain.score(repeated), rtol=1e-10)
    np.testing.assert_allclose(weighted.bic(unique, sample_weight=counts), plain.bic(repeated), rtol=1e-10)
    np.testing.assert_allclose(weighted.aic(unique, sample_weight=counts), plain.aic(repeated), rtol=1e-10)


def test_zero_weight_equals_removing_the_row(counted_rows):
    unique, counts, _ = counted_rows
    counts = counts.copy()
    counts[::4] = 0
    params = dict(tol=1e-8, **explicit_init(unique[counts > 0], 3, "full"))
    with_zeros = quiet_fit(gmm.GaussianMixture(3, **params), unique, sample_weight=counts)
    removed = quiet_fit(gmm.GaussianMixture(3, **params), unique[counts > 0], sample_weight=counts[counts > 0])
    for name in PARAMETERS:
        np.testing.assert_allclose(getattr(with_zeros, name), getattr(removed, name), rtol=1e-10, atol=1e-12)
    assert with_zeros.n_iter_ == removed.n_iter_


def test_scaling_all_weights_changes_nothing(counted_rows):
    unique, counts, _ = counted_rows
    params = dict(tol=1e-8, **explicit_init(unique, 3, "diag"), covariance_type="diag")
    a = gmm.GaussianMixture(3, **params).fit(unique, sample_weight=counts)
    b = gmm.GaussianMixture(3, **params).fit(unique, sample_weight=counts * 0.37)
    for name in PARAMETERS:
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.history_.elbo, b.history_.elbo, rtol=1e-10)


# ------------------------------------------------------------------ (b) agreement with sklearn
@pytest.fixture
def blobs3d():
    rng = np.random.RandomState(7)
    centres = np.array([[0.0, 0.0, 0.0], [3.0, 0.5, 0.0], [0.0, 3.0, 1.5], [2.0, 2.0, 3.0]])
    labels = rng.randint(0, 4, size=400)
    return centres[labels] + rng.normal(scale=0.8, size=(400, 3))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("max_iter", [3, 300])
def test_fit_matches_sklearn_from_the_same_start(blobs3d, covariance_type, max_iter):
    X = blobs3d
    params = dict(covariance_type=covariance_type, tol=1e-6, max_iter=max_iter, **explicit_init(X, 4, covariance_type))
    ours = quiet_fit(gmm.GaussianMixture(4, **params), X)
    ref = quiet_fit(sklearn.mixture.GaussianMixture(4, **params), X)

    assert ours.converged_ == ref.converged_ == (max_iter == 300)
    assert ours.n_iter_ == ref.n_iter_
    for name in PARAMETERS:
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name), rtol=1e-6, atol=1e-8, err_msg=name)
    np.testing.assert_allclose(ours.lower_bound_, ref.lower_bound_, rtol=1e-6)
    np.testing.assert_allclose(ours.lower_bounds_, ref.lower_bounds_, rtol=1e-6)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_scores_match_sklearn_on_the_same_parameters(blobs3d, covariance_type):
    X = blobs3d
    ours = gmm.GaussianMixture(4, covariance_type=covariance_type, random_state=0).fit(X)
    ref = sklearn.mixture.GaussianMixture(4, covariance_type=covariance_type)
    for name in PARAMETERS:
        setattr(ref, name, getattr(ours, name).copy())
    ref.n_features_in_ = X.shape[1]
    Y = X[::3] + 0.25  # scoring points other than the training ones too
    for data in (X, Y):
        np.testing.assert_allclose(ours.score_samples(data), ref.score_samples(data), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ours.predict_proba(data), ref.predict_proba(data), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(ours.score(data), ref.score(data), rtol=1e-12)
        np.testing.assert_allclose(ours.bic(data), ref.bic(data), rtol=1e-12)
        np.testing.assert_allclose(ours.aic(data), ref.aic(data), rtol=1e-12)


@pytest.mark.parametrize("init_params", INIT_METHODS)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_same_seed_matches_sklearn_for_each_init_method(blobs3d, init_params, covariance_type):
    """Without explicit parameters the initialisations draw the same random numbers as
    scikit-learn's and start from the same parameters, so the whole fit agrees."""
    X = blobs3d
    params = dict(covariance_type=covariance_type, init_params=init_params, n_init=2, random_state=3)
    ours = quiet_fit(gmm.GaussianMixture(4, **params), X)
    ref = quiet_fit(sklearn.mixture.GaussianMixture(4, **params), X)
    assert ours.n_iter_ == ref.n_iter_
    for name in PARAMETERS:
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name), rtol=1e-6, atol=1e-8, err_msg=name)
    np.testing.assert_allclose(ours.lower_bound_, ref.lower_bound_, rtol=1e-6)
    np.testing.assert_allclose(ours.lower_bounds_, ref.lower_bounds_, rtol=1e-6)


@pytest.mark.parametrize("init_params", ["k-means++", "random_from_data"])
def test_tied_one_hot_start_is_the_scatter_of_the_data(blobs3d, init_params):
    """These two methods start from K chosen points (one-hot responsibilities). As in
    scikit-learn, every row still counts once in the tied covariance, which so starts from the
    scatter of the data (not reg_covar * I), and the starting weights are N_k / n."""
    X = blobs3d
    params = dict(covariance_type="tied", init_params=init_params, max_iter=0, random_state=3)
    ours = gmm.GaussianMixture(4, **params).fit(X)
    ref = sklearn.mixture.GaussianMixture(4, **params).fit(X)
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name), rtol=1e-10, err_msg=name)
    assert np.all(np.diag(ours.covariances_) > 100)


def test_max_iter_zero_keeps_the_initial_parameters(blobs3d):
    X = blobs3d
    init = explicit_init(X, 4, "full")
    ours = gmm.GaussianMixture(4, max_iter=0, **init).fit(X)
    np.testing.assert_array_equal(ours.weights_, init["weights_init"])
    np.testing.assert_array_equal(ours.means_, init["means_init"])
    np.testing.assert_allclose(ours.precisions_, init["precisions_init"], rtol=1e-12)
    assert ours.n_iter_ == 0 and ours.history_.n_iter == 0


def test_n_init_keeps_the_best_start(blobs3d):
    X = blobs3d
    best = gmm.GaussianMixture(4, init_params="random", n_init=4, random_state=2).fit(X)
    rng = np.random.RandomState(2)
    singles = []
    for _ in range(4):  # the same four starts, one at a time, drawn from the same stream
        singles.append(gmm.GaussianMixture(4, init_params="random", random_state=rng).fit(X).lower_bound_)
    assert best.lower_bound_ == max(singles)


def test_warm_start_continues_from_the_previous_fit(blobs3d):
    X = blobs3d
    params = dict(tol=0.0, **explicit_init(X, 4, "full"))
    straight = quiet_fit(gmm.GaussianMixture(4, max_iter=10, **params), X)
    warm = gmm.GaussianMixture(4, max_iter=4, warm_start=True, **params)
    quiet_fit(warm, X)
    warm.set_params(max_iter=6)
    quiet_fit(warm, X)
    for name in PARAMETERS:
        np.testing.assert_allclose(getattr(warm, name), getattr(straight, name), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------- (e) determinism
@pytest.mark.parametrize("init_params", INIT_METHODS)
@pytest.mark.parametrize("covariance_type", ["full", "spherical"])
@pytest.mark.filterwarnings("ignore::gmm.ComponentCollapseWarning")  # random_from_data, seed 11
def test_same_seed_same_fit_bit_for_bit(blobs3d, init_params, covariance_type):
    X = blobs3d

    def fit():
        model = gmm.GaussianMixture(
            4, covariance_type=covariance_type, init_params=init_params, n_init=2, random_state=11
        )
        return model, model.fit_predict(X)

    (a, labels_a), (b, labels_b) = fit(), fit()
    np.testing.assert_array_equal(labels_a, labels_b)
    np.testing.assert_array_equal(a.predict(X), labels_a)
    for name in PARAMETERS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.lower_bound_ == b.lower_bound_ and a.n_iter_ == b.n_iter_
    for name, values in a.history_.as_dict().items():
        np.testing.assert_array_equal(values, getattr(b.history_, name), err_msg=name)


@pytest.mark.parametrize("init_params", ["random", "random_from_data"])
def test_the_seed_is_used(blobs3d, init_params):
    X = blobs3d
    starts = {
        seed: quiet_fit(gmm.GaussianMixture(4, init_params=init_params, max_iter=1, random_state=seed), X)
        .history_.log_likelihood[0]
        for seed in range(3)
    }
    assert len(set(starts.values())) == 3


def test_sample_uses_the_seed(blobs3d):
    model = gmm.GaussianMixture(4, random_state=5).fit(blobs3d)
    a, la = model.sample(50)
    b, lb = model.sample(50)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    assert a.shape == (50, 3) and np.bincount(la, minlength=4).sum() == 50


# ------------------------------------------------------------- fused kernels vs reference
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_kernels_agree_with_the_numpy_reference(counted_rows, monkeypatch, covariance_type, weighted, dtype):
    """The numba pass (E-step, ELBO terms and M-step statistics at once) and the numpy reference
    give the same fit up to rounding, iteration for iteration."""
    pytest.importorskip("numba")
    from gmm import _kernels

    unique, counts, _ = counted_rows
    X = unique.astype(dtype)
    params = dict(covariance_type=covariance_type, tol=1e-10, max_iter=40, random_state=0)
    fit_kwargs = dict(sample_weight=counts) if weighted else {}
    fused = quiet_fit(gmm.GaussianMixture(3, **params), X, **fit_kwargs)
    monkeypatch.setattr(_kernels, "USE_NUMBA", False)
    reference = quiet_fit(gmm.GaussianMixture(3, **params), X, **fit_kwargs)
    assert fused.n_iter_ == reference.n_iter_
    for name in PARAMETERS:
        np.testing.assert_allclose(getattr(fused, name), getattr(reference, name), rtol=1e-9 if dtype == np.float64 else 1e-6,
                                   atol=1e-12, err_msg=name)
    np.testing.assert_allclose(fused.lower_bounds_, reference.lower_bounds_, rtol=1e-12)
    for name, values in fused.history_.as_dict().items():
        np.testing.assert_allclose(values, getattr(reference.history_, name), rtol=1e-11, atol=1e-11, err_msg=name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = fused.fit_predict(X, **fit_kwargs)
    np.testing.assert_array_equal(labels, reference.predict(X))


@pytest.mark.parametrize("n_features", [1, 2, 3, 5])
def test_full_statistics_in_numba_are_numpys_bit_for_bit(n_features):
    """The M-step statistics from the pass's moments (full covariances) are computed in numba to
    save numpy's call overheads: every element, signed zeros included, must be numpy's."""
    pytest.importorskip("numba")
    from gmm import _fused, _kernels

    rng = np.random.RandomState(n_features)
    lower = np.tril_indices(n_features)
    for _ in range(300):
        K = rng.randint(1, 7)
        counts = rng.gamma(1.0, 100, K) * (rng.rand(K) > 0.15)  # some empty components
        first = rng.normal(size=(K, n_features)) * rng.uniform(0.1, 1000)
        second = np.zeros((K, n_features, n_features))
        for k in range(K):
            A = rng.normal(size=(n_features, n_features))
            S = A @ A.T * rng.uniform(0.1, 1e4)
            S[rng.rand(n_features, n_features) < 0.1] = -0.0
            second[k][lower] = S[lower]
        shifts = rng.normal(size=(K, n_features)) * 100
        ours = _fused.full_statistics(counts, first, second, shifts)
        numpys = _kernels.statistics_from_moments(counts, first, second, shifts, "full")
        for a, b in zip(ours, numpys):
            assert a.dtype == b.dtype and a.shape == b.shape
            assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("n_features", [1, 2, 3, 5])
def test_full_parameters_in_numba_agree_with_numpys(n_features):
    """The M-step's parameters of full covariances in one compiled call (Cholesky by the textbook
    recurrence, not LAPACK) agree with the numpy functions to rounding, as do the E-step's
    offsets and whitened means; a covariance that is not positive definite (NaN included) is
    refused with scikit-learn's words, as numpy's Cholesky refuses it (a NaN passes through, as
    there)."""
    pytest.importorskip("numba")
    from gmm import _gaussian as G, _kernels

    rng = np.random.RandomState(10 + n_features)
    for _ in range(200):
        K = rng.randint(1, 7)
        nk = rng.gamma(1.0, 100, K) * (rng.rand(K) > 0.15) + 10 * np.finfo(float).eps  # some empty
        scatter = np.empty((K, n_features, n_features))
        for k in range(K):
            Q = np.linalg.qr(rng.normal(size=(n_features, n_features)))[0]  # condition number <= 1e4
            spread = 10.0 ** rng.uniform(-3, 3) * 10.0 ** rng.uniform(0, 4, n_features)
            scatter[k] = (Q * spread) @ Q.T * (rng.rand() > 0.1)  # some collapsed: reg_covar alone
        means = rng.normal(size=(K, n_features)) * 100
        reg_covar, total = 10.0 ** rng.uniform(-6, -1), (None if rng.rand() < 0.5 else nk.sum() * 1.5)
        covariances, weights, chol, precisions, expected = _kernels.m_step_parameters(
            nk, scatter, reg_covar, "full", n_features, total)
        ref_cov = G.regularize(scatter, reg_covar, "full")
        ref_weights = nk / (nk.sum() if total is None else total)
        ref_chol = G.precisions_cholesky(ref_cov, "full")
        ref_precisions = G.precisions_from_cholesky(ref_chol, "full")
        ref_expected = G.expected_log_joint(nk, ref_weights, scatter, ref_precisions,
                                            G.log_det_cholesky(ref_chol, "full", n_features), "full", n_features)
        np.testing.assert_array_equal(covariances, ref_cov)
        np.testing.assert_allclose(weights, ref_weights, rtol=1e-15)
        for ours, numpys in ((chol, ref_chol), (precisions, ref_precisions)):
            scale = np.abs(numpys).max(axis=(1, 2), keepdims=True)
            np.testing.assert_allclose(ours / scale, numpys / scale, rtol=0, atol=1e-11)
        assert expected == pytest.approx(ref_expected, rel=1e-10, abs=1e-8)
        offsets, factors, whitened = _kernels._kernel_parameters((weights, means, chol, "full"))
        monkey = _kernels.USE_NUMBA
        try:
            _kernels.USE_NUMBA = False
            ref_offsets, ref_factors, ref_whitened = _kernels._kernel_parameters((weights, means, chol, "full"))
        finally:
            _kernels.USE_NUMBA = monkey
        np.testing.assert_allclose(offsets, ref_offsets, rtol=1e-13)
        np.testing.assert_array_equal(factors, ref_factors)
        np.testing.assert_allclose(whitened, ref_whitened, rtol=1e-9, atol=1e-9 * np.abs(ref_whitened).max())
    scatter = np.tile(np.eye(n_features), (2, 1, 1))
    scatter[1, -1, -1] = -1.0
    for refuse in (lambda: _kernels.m_step_parameters(np.array([5.0, 5.0]), scatter, 0.0, "full", n_features),
                   lambda: G.precisions_cholesky(G.regularize(scatter, 0.0, "full"), "full")):
        with pytest.raises(ValueError, match="ill-defined empirical covariance"):
            refuse()
    scatter[1, -1, -1] = np.nan
    chol = _kernels.m_step_parameters(np.array([5.0, 5.0]), scatter, 0.0, "full", n_features)[2]
    ref_chol = G.precisions_cholesky(G.regularize(scatter, 0.0, "full"), "full")
    assert np.isnan(chol[1, -1, -1]) and np.isnan(ref_chol[1, -1, -1])


def test_expected_complete_after_m_step_is_the_direct_sum(blobs3d):
    """The history's after-M-step term comes from the M-step statistics in closed form; it is the
    sum over the data of the held posterior times the new log joint."""
    from gmm import _gaussian as G

    X = blobs3d
    for covariance_type in COVARIANCE_TYPES:
        params = dict(covariance_type=covariance_type, **explicit_init(X, 4, covariance_type))
        one = quiet_fit(gmm.GaussianMixture(4, max_iter=1, **params), X)
        start = gmm.GaussianMixture(4, max_iter=0, **params).fit(X)
        held = G.normalize_log_joint(G.log_joint(np.ascontiguousarray(X.T), *start._params()))[1]
        new = G.log_joint(np.ascontiguousarray(X.T), *one._params())
        np.testing.assert_allclose(one.history_.expected_complete_m[0], np.sum(held * new) / X.shape[0], rtol=1e-12)


def test_one_feature_precision_factors_are_the_cholesky_route_bit_for_bit():
    """With one feature the precision factor is ``1 / sqrt(variance)``, taken without LAPACK's
    per-call overheads: the same bits as the Cholesky factor inverted, and the same error."""
    from gmm import _gaussian as G

    rng = np.random.RandomState(0)
    for _ in range(2000):
        variances = np.exp(rng.uniform(-30, 30, size=(rng.randint(1, 8), 1, 1)))
        expected = np.swapaxes(G._invert_lower(np.linalg.cholesky(variances)), 1, 2)
        assert G.precisions_cholesky(variances, "full").tobytes() == expected.tobytes()
        assert G.precisions_cholesky(variances[0], "tied").tobytes() == expected[0].tobytes()
    with pytest.raises(ValueError, match="ill-defined empirical covariance"):
        G.precisions_cholesky(np.array([[[1.0]], [[0.0]]]), "full")
