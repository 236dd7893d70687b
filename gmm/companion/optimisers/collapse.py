"""Collapse: the log-likelihood of a component shrinking onto one value, the EM iteration at
which a component collapses without ``reg_covar``, and where the narrowest one sits with it.
"""

from __future__ import annotations

import warnings

import numpy as np

from gmm.companion.optimisers.comparison import em_trace, kmeans_start
from gmm.gradient import from_mixture, mean_log_likelihood, pack, posterior, to_mixture_parameters, unpack
from gmm.mixture import GaussianMixture


def point_collapse_curve(X, sample_weight, *, n_components, seed, sigmas, index=None, max_iter=500) -> dict:
    """Log-likelihood of a mixture with one component on a single value, as its spread shrinks.

    The other ``K - 1`` components are EM's fit (``reg_covar=0``, k-means start, ``seed``); the
    last sits on ``X[index]`` (default: the heaviest value) with covariance ``sigma^2 I`` and
    weight equal to that value's share ``c`` of the total weight. For small ``sigma`` the value's
    own term dominates: the mean log-likelihood grows by ``d c ln(10)`` per decade of ``sigma``.

    Returns dict with ``sigmas``, ``log_likelihood`` (one per sigma), ``index``, ``share``,
    ``predicted_slope`` and ``measured_slope`` (per decade, between the two smallest sigmas).
    """
    X, w = np.asarray(X, dtype=np.float64), np.asarray(sample_weight, dtype=np.float64)
    n_features = X.shape[1]
    index = int(np.argmax(w)) if index is None else int(index)
    share = float(w[index] / w.sum())
    start = kmeans_start(X, w, n_components=n_components - 1, seed=seed)
    rest = em_trace(start, X, w, n_components=n_components - 1, max_iter=max_iter, tol=1e-12).theta
    weights, means, factors = unpack(rest, n_components - 1, n_features)
    precisions = np.einsum("kij,klj->kil", factors, factors)
    sigmas = np.asarray(sigmas, dtype=np.float64)
    values = np.array([mean_log_likelihood(
        pack(np.append(weights * (1 - share), share), np.vstack([means, X[index]]),
             np.concatenate([precisions, np.eye(n_features)[np.newaxis] / sigma**2])),
        X, w, n_components=n_components) for sigma in sigmas])
    order = np.argsort(sigmas)
    decades = np.log10(sigmas[order[1]] / sigmas[order[0]])
    return {"sigmas": sigmas, "log_likelihood": values, "index": index, "share": share,
            "predicted_slope": n_features * share * np.log(10),
            "measured_slope": float((values[order[0]] - values[order[1]]) / decades)}


#: A variance below this (in [0, 1] colour units, squared) is a collapse: a millionth of the
#: variance of rounding to a grey level, 1 / (12 * 255^2) = 1.3e-6.
COLLAPSE_VARIANCE = 1e-12


def iterations_until_collapse(X, sample_weight, *, n_components, seed, max_iter):
    """EM with ``reg_covar=0`` from the k-means start, one iteration at a time: the first iteration
    after which a component's variance along some direction is below :data:`COLLAPSE_VARIANCE` or
    not positive at all (``GaussianMixture`` raises), or None if none does in ``max_iter``."""
    n_features = np.shape(X)[1]
    model = GaussianMixture(n_components, reg_covar=0.0, tol=0.0, max_iter=1, warm_start=True,
                            **to_mixture_parameters(kmeans_start(X, sample_weight, n_components=n_components,
                                                                 seed=seed), n_components, n_features))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for iteration in range(1, max_iter + 1):
            try:
                model.fit(X, sample_weight=sample_weight)
            except ValueError:  # "ill-defined empirical covariance": not positive definite
                return iteration
            if smallest_variance(from_mixture(model), n_components=n_components,
                                 n_features=n_features) < COLLAPSE_VARIANCE:
                return iteration
    return None


def reg_covar_sweep(X, sample_weight, *, n_components, seed, reg_covars, tol, max_iter) -> list[dict]:
    """EM from the k-means start for each ``reg_covar``, and where its narrowest component sits.

    Returns one dict per ``reg_covar`` with the final mean ``log_likelihood``, ``n_iter``, the
    ``smallest_variance`` of any component along any direction, that component's ``weight``
    (pixels), the unit ``direction`` of that variance (d,), and ``spread``: the weighted standard
    deviation of ``direction . x`` over the values the component wins (0: they lie on one plane).
    """
    X, w = np.asarray(X, dtype=np.float64), np.asarray(sample_weight, dtype=np.float64)
    theta0 = kmeans_start(X, w, n_components=n_components, seed=seed)
    rows = []
    for reg in reg_covars:
        trace = em_trace(theta0, X, w, n_components=n_components, max_iter=max_iter, reg_covar=reg, tol=tol)
        weights, _, factors = unpack(trace.theta, n_components, X.shape[1])
        eigenvalues, eigenvectors = np.linalg.eigh(np.einsum("kij,klj->kil", factors, factors))
        k = int(np.argmax(eigenvalues[:, -1]))  # the largest precision is the smallest variance
        direction = eigenvectors[k][:, -1] * np.sign(eigenvectors[k][np.argmax(np.abs(eigenvectors[k][:, -1])), -1])
        won = posterior(trace.theta, X, w, n_components=n_components)[1].argmax(axis=1) == k
        projection = X[won] @ direction
        mean = np.average(projection, weights=w[won])
        rows.append({"reg_covar": reg, "log_likelihood": float(trace.log_likelihood[-1]), "n_iter": trace.n_iter,
                     "smallest_variance": float(1.0 / eigenvalues[k, -1]), "weight": float(weights[k] * w.sum()),
                     "direction": direction,
                     "spread": float(np.sqrt(np.average((projection - mean) ** 2, weights=w[won])))})
    return rows


def smallest_variance(theta, *, n_components, n_features) -> float:
    """The smallest variance of any component along any direction (1 / largest precision eigenvalue)."""
    _, _, factors = unpack(theta, n_components, n_features)
    return float(1.0 / np.linalg.eigvalsh(np.einsum("kij,klj->kil", factors, factors))[:, -1].max())
