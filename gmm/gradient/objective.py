"""The objective: the mean weighted log-likelihood at ``theta``, its E-step and its gradient."""

from __future__ import annotations

import numpy as np

from gmm.gradient.parameters import unpack

_LOG_2PI = np.log(2.0 * np.pi)


def _log_joint(XT, weights, means, factors):
    """``log pi_k + log N(x_n | mu_k, P_k^-1)`` (K, n), and per component the deviations
    ``z = x - mu_k`` and whitened deviations ``y = L_k^T z``, each (d, n).

    Samples last and one component at a time, as in :mod:`gmm._gaussian`: every operation then
    runs along long contiguous rows, and the products are small BLAS calls.
    """
    n_features, n_samples = XT.shape
    log_det = np.log(np.diagonal(factors, axis1=1, axis2=2)).sum(axis=1)
    with np.errstate(divide="ignore"):  # a weight that underflowed to 0 gives -inf, as it should
        offsets = np.log(weights) + log_det - 0.5 * n_features * _LOG_2PI
    log_joint = np.empty((means.shape[0], n_samples))
    deviations, whitened = [], []
    for k in range(means.shape[0]):
        z = XT - means[k][:, np.newaxis]
        y = factors[k].T @ z
        log_joint[k] = offsets[k] - 0.5 * np.einsum("dn,dn->n", y, y)
        deviations.append(z)
        whitened.append(y)
    return log_joint, deviations, whitened


def _check_data(X, sample_weight):
    """Data samples-last (d, n) and weights normalised to sum to 1 (n,)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (n_samples, n_features), got {X.shape}")
    weights = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if weights.shape != (X.shape[0],) or np.any(weights < 0) or not weights.sum() > 0:
        raise ValueError("sample_weight must be non-negative, one per sample, with a positive sum")
    return np.ascontiguousarray(X.T), weights / weights.sum()


def _log_sum_exp(log_joint):
    """``log sum_k exp(log_joint[k])`` per sample: shape (n,)."""
    top = log_joint.max(axis=0)
    return top + np.log(np.exp(log_joint - top).sum(axis=0))


def mean_log_likelihood(theta, X, sample_weight=None, *, n_components: int) -> float:
    """``sum_n w_n log p(x_n | theta) / sum_n w_n``; X of shape (n, d), sample_weight (n,)."""
    XT, w = _check_data(X, sample_weight)
    log_joint, _, _ = _log_joint(XT, *unpack(theta, n_components, XT.shape[0]))
    return float(w @ _log_sum_exp(log_joint))


def posterior(theta, X, sample_weight=None, *, n_components: int):
    """The E-step at ``theta``: mean weighted log-likelihood and responsibilities.

    Returns
    -------
    value : float
    responsibilities : ndarray of shape (n_samples, n_components)
        ``p(z_n = k | x_n, theta)``; each row sums to 1.
    """
    XT, w = _check_data(X, sample_weight)
    log_joint, _, _ = _log_joint(XT, *unpack(theta, n_components, XT.shape[0]))
    log_norm = _log_sum_exp(log_joint)
    return float(w @ log_norm), np.exp(log_joint - log_norm).T


def log_likelihood_and_gradient(theta, X, sample_weight=None, *, n_components: int):
    """The mean weighted log-likelihood and its gradient with respect to ``theta``.

    With responsibilities ``r_nk``, ``N_k = sum_n w_n r_nk`` (weights normalised to sum to 1),
    ``z = x - mu_k``, ``y = L_k^T z`` and ``S_k = sum_n w_n r_nk z z^T``:

    * ``d/da_k = N_k - pi_k``;
    * ``d/dmu_k = L_k sum_n w_n r_nk y_n``;
    * ``d/dL_k = -S_k L_k + N_k diag(1 / L_ii)``, lower triangle; for a log-diagonal entry
      ``s_i`` the chain rule multiplies by ``L_ii``.

    Parameters
    ----------
    theta : ndarray of shape (n_parameters(K, d),)
    X : ndarray of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,), optional
    n_components : int

    Returns
    -------
    value : float
    gradient : ndarray of shape (n_parameters(K, d),)
    """
    XT, w = _check_data(X, sample_weight)
    return _value_and_gradient(theta, XT, w, n_components)


def _value_and_gradient(theta, XT, w, n_components):
    """:func:`log_likelihood_and_gradient` on checked data: XT (d, n), w (n,) summing to 1."""
    n_features = XT.shape[0]
    weights, means, factors = unpack(theta, n_components, n_features)
    log_joint, deviations, whitened = _log_joint(XT, weights, means, factors)
    log_norm = _log_sum_exp(log_joint)
    weighted_resp = np.exp(log_joint - log_norm) * w                      # w_n r_nk, (K, n)
    nk = weighted_resp.sum(axis=1)
    grad_means = np.empty_like(means)
    grad_factors = np.empty_like(factors)
    for k in range(n_components):
        weighted_y = whitened[k] * weighted_resp[k]
        grad_means[k] = factors[k] @ weighted_y.sum(axis=1)
        # S_k L_k = sum_n w_n r_nk z_n (L_k^T z_n)^T, without forming S_k.
        grad_factors[k] = -(deviations[k] @ weighted_y.T)
    diagonal = np.arange(n_features)
    grad_factors[:, diagonal, diagonal] += nk[:, np.newaxis] / factors[:, diagonal, diagonal]
    rows, cols = np.tril_indices(n_features)
    grad_triangles = grad_factors[:, rows, cols]
    on_diagonal = rows == cols
    grad_triangles[:, on_diagonal] *= factors[:, rows[on_diagonal], cols[on_diagonal]]
    gradient = np.concatenate([nk - weights, grad_means.ravel(), grad_triangles.ravel()])
    return float(w @ log_norm), gradient
