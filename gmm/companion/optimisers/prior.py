"""The conjugate prior against collapse: MAP EM under the Normal-inverse-Wishart prior, compared
with maximum likelihood, ``reg_covar`` and scikit-learn's ``BayesianGaussianMixture``.
"""

from __future__ import annotations

import warnings

import numpy as np

from gmm.companion.optimisers.collapse import COLLAPSE_VARIANCE, smallest_variance
from gmm.companion.optimisers.comparison import em_trace, kmeans_start
from gmm.gradient import from_mixture, mean_log_likelihood, pack, posterior, unpack


def default_prior(X, sample_weight) -> dict:
    """The Normal-inverse-Wishart prior ``BayesianGaussianMixture`` uses by default: mean prior the
    (weighted) data mean, ``kappa = 1``, ``nu = d`` degrees of freedom, scale matrix the data covariance."""
    X, w = np.asarray(X, dtype=np.float64), np.asarray(sample_weight, dtype=np.float64)
    mean = w @ X / w.sum()
    return {"mean": mean, "kappa": 1.0, "nu": float(X.shape[1]),
            "scale": (X - mean).T @ ((X - mean) * w[:, np.newaxis]) / (w.sum() - 1)}


def log_prior(theta, prior, *, n_components, n_features) -> float:
    """``sum_k log NIW(mu_k, Sigma_k)`` up to a constant, in precisions ``P_k = L_k L_k^T``."""
    _, means, factors = unpack(theta, n_components, n_features)
    precisions = np.einsum("kij,klj->kil", factors, factors)
    offsets = means - prior["mean"]
    log_det = 2 * np.log(np.diagonal(factors, axis1=1, axis2=2)).sum(axis=1)
    return float(np.sum(0.5 * (prior["nu"] + n_features + 2) * log_det
                        - 0.5 * np.einsum("ij,kji->k", prior["scale"], precisions)
                        - 0.5 * prior["kappa"] * np.einsum("ki,kij,kj->k", offsets, precisions, offsets)))


def map_em(theta0, X, sample_weight, prior, *, n_components, tol=1e-8, max_iter=500) -> dict:
    """EM for the posterior mode (MAP) under a Normal-inverse-Wishart prior on each component.

    ``sample_weight`` counts observations (pixels): the prior's ``nu + d + 2`` and ``kappa``
    pseudo-observations compete with them. The M-step is the conjugate update
    ``mu_k = (N_k xbar_k + kappa m) / (N_k + kappa)``,
    ``Sigma_k = (Psi + N_k S_k + kappa N_k / (kappa + N_k) (xbar_k - m)(xbar_k - m)^T) / (nu + N_k + d + 2)``,
    with flat weights ``pi_k = N_k / N``; ``Sigma_k`` stays above ``Psi / (nu + N_k + d + 2)``,
    so no component collapses. Stops when the log posterior per unit weight changes by less than ``tol``.

    Returns dict with ``theta``, ``n_iter`` (M-steps done), ``log_likelihood`` (mean, final) and
    ``log_posterior`` (per unit weight, at the start and after each M-step; it never falls).
    """
    X, w = np.asarray(X, dtype=np.float64), np.asarray(sample_weight, dtype=np.float64)
    total, n_features = w.sum(), X.shape[1]
    theta, history = np.asarray(theta0, dtype=np.float64), []
    for iteration in range(max_iter + 1):
        value, resp = posterior(theta, X, w, n_components=n_components)
        history.append(value + log_prior(theta, prior, n_components=n_components, n_features=n_features) / total)
        if iteration == max_iter or (iteration > 0 and abs(history[-1] - history[-2]) < tol):
            break
        weighted = resp * w[:, np.newaxis]
        nk = weighted.sum(axis=0)
        xbar = weighted.T @ X / nk[:, np.newaxis]
        means = (nk[:, np.newaxis] * xbar + prior["kappa"] * prior["mean"]) / (nk + prior["kappa"])[:, np.newaxis]
        covariances = np.empty((n_components, n_features, n_features))
        for k in range(n_components):
            dev, off = X - xbar[k], xbar[k] - prior["mean"]
            shrink = prior["kappa"] * nk[k] / (prior["kappa"] + nk[k])
            covariances[k] = ((prior["scale"] + dev.T @ (dev * weighted[:, k:k + 1]) + shrink * np.outer(off, off))
                              / (prior["nu"] + nk[k] + n_features + 2))
        theta = pack(nk / total, means, np.linalg.inv(covariances))
    return {"theta": theta, "n_iter": iteration, "log_posterior": np.array(history),
            "log_likelihood": mean_log_likelihood(theta, X, w, n_components=n_components)}


def pixel_subsample(sample_weight, size, seed) -> np.ndarray:
    """Rows of ``X`` for ``size`` pixels drawn without replacement (a row of weight c holds c pixels):
    how a model without ``sample_weight`` (``BayesianGaussianMixture``) sees the image."""
    owners = np.repeat(np.arange(len(sample_weight)), np.asarray(sample_weight, dtype=np.int64))
    return np.sort(np.random.default_rng(seed).choice(owners, size=min(size, owners.size), replace=False))


def prior_comparison(X, sample_weight, *, n_components, seed, reg_covar, tol, max_iter, n_subsample) -> dict:
    """Four fits of one mixture, each scored by the mean log-likelihood of all of ``X``:

    * ``ml``: EM with ``reg_covar=0`` (the maximum-likelihood iteration);
    * ``reg_covar``: EM with the given ``reg_covar``;
    * ``map``: :func:`map_em` with :func:`default_prior`, weights counted in pixels;
    * ``bgm``: scikit-learn's ``BayesianGaussianMixture`` (variational, the same default prior, a
      Dirichlet prior on the weights) on ``n_subsample`` pixels drawn by :func:`pixel_subsample`
      with ``seed``: it takes no sample weights, and a subsample keeps it fast.

    The first three start from the k-means start with ``seed``. Returns name -> dict with
    ``collapsed`` (a variance below :data:`COLLAPSE_VARIANCE`, or a covariance that stopped being
    positive definite, when the other values are None), ``log_likelihood``, ``smallest_variance``
    and ``n_iter``; ``map`` also has ``floor``, the least variance the prior allows any of its
    components, ``min_k lambda_min(Psi) / (nu + N_k + d + 2)``.
    """
    from sklearn.mixture import BayesianGaussianMixture

    X, w = np.asarray(X, dtype=np.float64), np.asarray(sample_weight, dtype=np.float64)
    n_features = X.shape[1]
    theta0 = kmeans_start(X, w, n_components=n_components, seed=seed)
    fits = {}
    for name, reg in (("ml", 0.0), ("reg_covar", reg_covar)):
        try:
            trace = em_trace(theta0, X, w, n_components=n_components, max_iter=max_iter, reg_covar=reg, tol=tol)
            fits[name] = (trace.theta, trace.n_iter)
        except ValueError:  # a covariance stopped being positive definite
            fits[name] = None
    prior = default_prior(X, w)
    result = map_em(theta0, X, w, prior, n_components=n_components, tol=tol, max_iter=max_iter)
    fits["map"] = (result["theta"], result["n_iter"])
    counts = unpack(result["theta"], n_components, n_features)[0] * w.sum()
    floor = float(np.min(np.linalg.eigvalsh(prior["scale"])[0] / (prior["nu"] + counts + n_features + 2)))
    rows = pixel_subsample(w, n_subsample, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bgm = BayesianGaussianMixture(n_components=n_components, weight_concentration_prior_type="dirichlet_distribution",
                                      reg_covar=0.0, tol=tol, max_iter=max_iter, random_state=seed).fit(X[rows])
    fits["bgm"] = (from_mixture(bgm), int(bgm.n_iter_))
    rows = {}
    for name, fit in fits.items():
        if fit is None:
            rows[name] = {"collapsed": True, "log_likelihood": None, "smallest_variance": 0.0, "n_iter": None}
            continue
        variance = smallest_variance(fit[0], n_components=n_components, n_features=n_features)
        rows[name] = {"collapsed": variance < COLLAPSE_VARIANCE, "smallest_variance": variance, "n_iter": fit[1],
                      "log_likelihood": mean_log_likelihood(fit[0], X, w, n_components=n_components)}
    rows["map"]["floor"] = floor
    return rows
