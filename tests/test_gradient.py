"""The log-likelihood in unconstrained parameters, its gradient, the optimisers, and collapse
(gmm.gradient and notebook 08's experiments, gmm.companion.optimisers)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from gmm import GaussianMixture
from gmm import gradient as G
from gmm.companion import optimisers as O


def blobs(seed=0, n=240, d=3):
    """Three well-separated Gaussian blobs in [0, 1]^d with integer weights."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0.2, 0.8, size=(3, d))
    X = np.concatenate([c + 0.03 * rng.standard_normal((n // 3, d)) for c in centres])
    return X, rng.integers(1, 5, size=X.shape[0]).astype(float)


def random_theta(seed, n_components, n_features):
    return np.random.default_rng(seed).normal(scale=0.5, size=G.n_parameters(n_components, n_features)) + \
        np.concatenate([np.zeros(n_components * (1 + n_features)),
                        np.tile(np.where(np.tril_indices(n_features)[0] == np.tril_indices(n_features)[1], 1.5, 0.0),
                                n_components)])


def ml_fit(X, w, n_components, seed=0, max_iter=400):
    theta0 = O.kmeans_start(X, w, n_components=n_components, seed=seed)
    return O.em_trace(theta0, X, w, n_components=n_components, max_iter=max_iter)


# ------------------------------------------------------------------------- maps and objective
@pytest.mark.parametrize("n_features, n_components", [(1, 2), (2, 3), (3, 3)])
def test_gradient_matches_central_differences(n_features, n_components):
    X, w = blobs(1, d=n_features)
    theta = random_theta(2, n_components, n_features)
    theta[n_components:n_components * (1 + n_features)] = np.random.default_rng(3).uniform(
        0.2, 0.8, n_components * n_features)
    _, gradient = G.log_likelihood_and_gradient(theta, X, w, n_components=n_components)
    step = 1e-6
    numeric = np.array([(G.mean_log_likelihood(theta + step * e, X, w, n_components=n_components)
                         - G.mean_log_likelihood(theta - step * e, X, w, n_components=n_components)) / (2 * step)
                        for e in np.eye(theta.size)])
    assert np.linalg.norm(numeric - gradient) <= 1e-6 * np.linalg.norm(gradient)
    # The logits' common shift is flat, so the gradient has no component along it.
    assert abs(gradient[:n_components].sum()) < 1e-12


def test_pack_and_unpack_are_inverse():
    theta = random_theta(0, 3, 3)
    theta[:3] -= theta[:3].mean()  # pack returns the centred logits
    weights, means, factors = G.unpack(theta, 3, 3)
    assert np.allclose(weights.sum(), 1.0) and np.all(np.triu(factors, 1) == 0) and np.all(np.diagonal(
        factors, axis1=1, axis2=2) > 0)
    assert np.allclose(G.pack(weights, means, np.einsum("kij,klj->kil", factors, factors)), theta, atol=1e-12)
    with pytest.raises(ValueError, match="theta must have shape"):
        G.unpack(theta[:-1], 3, 3)


def test_the_objective_is_gaussian_mixture_score_and_maps_round_trip():
    X, w = blobs(4)
    model = GaussianMixture(3, max_iter=5, random_state=0).fit(X, sample_weight=w)
    theta = G.from_mixture(model)
    assert G.mean_log_likelihood(theta, X, w, n_components=3) == pytest.approx(
        model.score(X, sample_weight=w), abs=1e-10)
    restarted = GaussianMixture(3, max_iter=0, **G.to_mixture_parameters(theta, 3, 3)).fit(X, sample_weight=w)
    for name in ("weights_", "means_", "precisions_"):
        assert np.allclose(getattr(restarted, name), getattr(model, name), atol=1e-10)
    value, resp = G.posterior(theta, X, w, n_components=3)
    assert value == pytest.approx(model.score(X, sample_weight=w), abs=1e-10)
    assert np.allclose(resp, model.predict_proba(X), atol=1e-10)
    with pytest.raises(ValueError, match="full"):
        G.from_mixture(GaussianMixture(2, covariance_type="diag", max_iter=2).fit(X))


def test_rescaling_the_data_shifts_the_log_likelihood_by_the_jacobian():
    X, w = blobs(5)
    theta = G.from_mixture(GaussianMixture(3, max_iter=3, random_state=0).fit(X, sample_weight=w))
    scaled = O.rescale(theta, 255.0, n_components=3, n_features=3)
    assert G.mean_log_likelihood(scaled, X * 255.0, w, n_components=3) == pytest.approx(
        G.mean_log_likelihood(theta, X, w, n_components=3) - 3 * np.log(255.0), abs=1e-10)


# ------------------------------------------------------------------------- optimisers
def test_em_trace_is_the_estimators_history():
    X, w = blobs(6)
    trace = ml_fit(X, w, 3, max_iter=20)
    theta0 = O.kmeans_start(X, w, n_components=3, seed=0)
    model = GaussianMixture(3, tol=0, max_iter=20, reg_covar=0, **G.to_mixture_parameters(theta0, 3, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, sample_weight=w)
    assert np.allclose(trace.log_likelihood[:-1], model.history_.log_likelihood)
    assert trace.log_likelihood[0] == pytest.approx(G.mean_log_likelihood(theta0, X, w, n_components=3))
    assert trace.n_iter == 20 and list(trace.evaluations[:3]) == [1, 2, 3]


def test_lbfgs_from_ems_optimum_stays_there():
    X, w = blobs(7)
    em = ml_fit(X, w, 3)
    trace = G.fit_lbfgs(em.theta, X, w, n_components=3, max_iter=50)
    assert abs(trace.log_likelihood[-1] - em.log_likelihood[-1]) < 1e-9
    _, em_means, _ = G.unpack(em.theta, 3, 3)
    _, means, _ = G.unpack(trace.theta, 3, 3)
    assert np.allclose(means, em_means, atol=1e-5)
    assert trace.converged and trace.n_nonfinite == 0


def test_lbfgs_reaches_ems_optimum_from_the_start_on_a_small_problem():
    X, w = blobs(8)
    em = ml_fit(X, w, 3)
    trace = G.fit_lbfgs(O.kmeans_start(X, w, n_components=3, seed=0), X, w, n_components=3, max_iter=500, memory=50)
    summary = O.summarise(trace, em.log_likelihood[-1], 1e-6)
    assert summary["reached"] and summary["evaluations"] >= summary["iterations"] >= 1
    assert np.all(np.diff(trace.evaluations) >= 1) and np.all(np.diff(trace.seconds) >= 0)


def test_adam_raises_the_log_likelihood_and_stops_at_a_target():
    X, w = blobs(9)
    weights, means, factors = G.unpack(O.kmeans_start(X, w, n_components=3, seed=0), 3, 3)
    theta0 = G.pack(weights, means, np.einsum("kij,klj->kil", factors, factors) / 10.0)  # spreads too wide
    trace = G.fit_adam(theta0, X, w, n_components=3, learning_rate=0.01, max_iter=200)
    assert trace.n_iter == 200 and not trace.converged
    assert trace.log_likelihood[-1] > trace.log_likelihood[0] + 0.01
    target = trace.log_likelihood[50]
    stopped = G.fit_adam(theta0, X, w, n_components=3, learning_rate=0.01, max_iter=200, target=target)
    assert stopped.converged and stopped.n_iter <= 50 and stopped.log_likelihood[-1] >= target


def test_first_reaching_and_summarise():
    trace = G.OptimiserTrace(np.array([0.0, 1.0, 2.0]), np.array([1.0, 2.0, 3.0]), np.array([1, 3, 4]),
                             np.zeros(1), False, "budget")
    assert O.first_reaching(trace, 2.0) == 1 and O.first_reaching(trace, 3.5) is None
    summary = O.summarise(trace, 3.0 + 1e-7, 1e-6)
    assert summary["iterations"] == 2 and summary["evaluations"] == 4 and summary["final_gap"] == pytest.approx(1e-7)


def test_linear_rate_of_a_geometric_sequence():
    gaps = 0.6 ** np.arange(60)
    trace = G.OptimiserTrace(np.zeros(60), 1.0 - gaps, np.arange(1, 61), np.zeros(1), False, "")
    assert O.linear_rate(trace, 1.0) == pytest.approx(0.6)
    with pytest.raises(ValueError, match="successive"):
        O.linear_rate(trace, 1.0, low=2.0, high=3.0)


def test_hessian_condition_of_one_gaussian_is_known():
    # One component in 1-D: f = s - exp(2 s) v / 2 + const at the optimum exp(-2 s) = v, so the
    # curvature is -1/v along the mean and -2 along s; the logit is flat and projected out.
    x = np.random.default_rng(0).normal(0.5, 0.1, size=(500, 1))
    variance = x.var()
    theta = G.pack(np.ones(1), x.mean(axis=0, keepdims=True), np.array([[[1 / variance]]]))
    assert O.hessian_condition(theta, x, None, n_components=1) == pytest.approx(1 / (2 * variance), rel=1e-5)


# ------------------------------------------------------------------------- collapse
def one_value_and_a_cloud(seed=0):
    """1-D: 30 spread-out values and one value held 6 times (a saturated pixel colour)."""
    cloud = np.random.default_rng(seed).normal(0.5, 0.1, size=30)
    X = np.append(cloud, 0.95)[:, np.newaxis]
    return X, np.append(np.ones(30), 6.0)


def test_the_likelihood_grows_without_bound_as_a_component_shrinks_onto_one_value():
    X, w = one_value_and_a_cloud()
    sigmas = np.logspace(-1, -8, 8)
    curve = O.point_collapse_curve(X, w, n_components=2, seed=0, sigmas=sigmas)
    assert curve["index"] == 30 and curve["share"] == pytest.approx(6 / 36)
    assert np.all(np.diff(curve["log_likelihood"]) > 0)  # sigmas decrease, the likelihood rises
    assert curve["measured_slope"] == pytest.approx(curve["predicted_slope"], rel=1e-6)
    # No bound: a hundred more decades add a hundred slopes (the precision is still a float64).
    far = O.point_collapse_curve(X, w, n_components=2, seed=0, sigmas=[1e-8, 1e-108])
    assert far["log_likelihood"][1] - far["log_likelihood"][0] == pytest.approx(100 * curve["predicted_slope"])


def test_em_with_reg_covar_zero_collapses_and_reg_covar_sets_the_floor():
    X, w = one_value_and_a_cloud()
    # k-means puts a component on the repeated value; its first M-step has zero spread (up to
    # rounding: the computed variance is ~1e-31, or the Cholesky factorisation fails).
    assert O.iterations_until_collapse(X, w, n_components=2, seed=0, max_iter=20) == 1
    rows = O.reg_covar_sweep(X, w, n_components=2, seed=0, reg_covars=[1e-4, 1e-6, 1e-8], tol=1e-10, max_iter=200)
    for row in rows:
        assert row["smallest_variance"] == pytest.approx(row["reg_covar"], rel=1e-6)
        assert row["weight"] == pytest.approx(6.0, rel=1e-6) and row["spread"] < 1e-12
    gains = np.diff([row["log_likelihood"] for row in rows])  # per two decades of reg_covar
    assert np.allclose(gains, 2 * 0.5 * (6 / 36) * np.log(10), rtol=1e-3)
    assert O.iterations_until_collapse(*blobs(10), n_components=3, seed=0, max_iter=20) is None


def test_map_em_with_a_vanishing_prior_is_em_and_a_prior_stops_the_collapse():
    X, w = blobs(11)
    theta0 = O.kmeans_start(X, w, n_components=3, seed=0)
    flat = {"mean": np.zeros(3), "kappa": 0.0, "nu": -5.0, "scale": np.zeros((3, 3))}  # nu + d + 2 = 0
    one_step = O.map_em(theta0, X, w, flat, n_components=3, tol=0.0, max_iter=1)["theta"]
    em = O.em_trace(theta0, X, w, n_components=3, max_iter=1)
    assert np.allclose(one_step, em.theta, atol=1e-9)

    X, w = one_value_and_a_cloud()
    prior = O.default_prior(X, w)
    result = O.map_em(O.kmeans_start(X, w, n_components=2, seed=0), X, w, prior, n_components=2, tol=1e-12)
    assert np.all(np.diff(result["log_posterior"]) > -1e-12)  # EM on the posterior never falls
    floor = prior["scale"][0, 0] / (prior["nu"] + w.sum() + 1 + 2)
    assert O.smallest_variance(result["theta"], n_components=2, n_features=1) >= floor
    assert np.isfinite(result["log_likelihood"])


def test_default_prior_and_pixel_subsample():
    X, w = blobs(12)
    prior = O.default_prior(X, w)
    assert np.allclose(prior["mean"], np.average(X, axis=0, weights=w))
    assert np.allclose(prior["scale"], np.cov(X.T, fweights=w.astype(int)))
    rows = O.pixel_subsample(w, int(w.sum()), seed=0)
    assert np.array_equal(np.bincount(rows, minlength=w.size), w.astype(int))
    assert np.array_equal(O.pixel_subsample(w, 50, 3), O.pixel_subsample(w, 50, 3))


def test_prior_comparison_on_a_collapsing_problem():
    X, w = one_value_and_a_cloud()
    rows = O.prior_comparison(X, w, n_components=2, seed=0, reg_covar=1e-6, tol=1e-8, max_iter=200, n_subsample=36)
    assert rows["ml"]["collapsed"] and not any(rows[name]["collapsed"] for name in ("reg_covar", "map", "bgm"))
    assert rows["reg_covar"]["smallest_variance"] == pytest.approx(1e-6, rel=1e-6)
    assert rows["map"]["smallest_variance"] >= rows["map"]["floor"] > 1e-4 and rows["bgm"]["smallest_variance"] > 1e-4


# ------------------------------------------------------------------------- plots
def test_plot_gap_to_optimum_and_plot_collapse():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gmm.plotting import ROUNDING_FLOOR, plot_collapse, plot_gap_to_optimum

    trace = G.OptimiserTrace(np.array([0.0, 0.5, 1.0]), np.array([1.0, 2.0, 3.0]), np.array([1, 2, 4]),
                             np.zeros(1), True, "done")
    fig, (left, right) = plt.subplots(1, 2)
    plot_gap_to_optimum(left, {"a": trace}, 3.0, target=1e-6)
    line, target = left.get_lines()
    assert list(line.get_xdata()) == [1, 2, 4] and line.get_ydata()[-1] == ROUNDING_FLOOR
    assert target.get_ydata()[0] == 1e-6
    with pytest.raises(ValueError, match="evaluations"):
        plot_gap_to_optimum(left, {"a": trace}, 3.0, x="iterations")
    plot_collapse(right, [1e-2, 1e-3, 1e-4], [1.0, 1.5, 2.0], slope=0.5, reference=3.0)
    curve, asymptote, reference = right.get_lines()
    assert right.xaxis_inverted() and np.allclose(asymptote.get_ydata(), [1.0, 1.5, 2.0])
    assert reference.get_ydata()[0] == 3.0
    plt.close(fig)
