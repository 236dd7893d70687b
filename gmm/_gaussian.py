"""Pure functions of the Gaussian mixture's maths, grouped by role.

Conventions follow scikit-learn's ``sklearn/mixture/_gaussian_mixture.py`` so that a fit started
from the same parameters gives the same numbers:

* ``precisions_chol`` is the Cholesky factor ``U`` of each precision matrix with ``P = U U^T``, so
  that ``||(x - mu) U||^2`` is the Mahalanobis distance. Shapes by ``covariance_type``:
  full ``(K, d, d)``, tied ``(d, d)``, diag ``(K, d)``, spherical ``(K,)``.
* Every M-step function takes responsibilities already multiplied by the sample weights, so a
  weighted fit and a fit on repeated rows are the same computation.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
#: Rows per block in the full-covariance log-density, to bound the (block, K, d) temporary.
_BLOCK_ROWS = 1 << 15


# --------------------------------------------------------------------------- M-step
def estimate_weighted_moments(X, weighted_resp):
    """Soft counts and means of each component.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    weighted_resp : ndarray of shape (n_samples, n_components)
        Responsibilities times sample weights.

    Returns
    -------
    nk : ndarray of shape (n_components,)
        Soft counts; ``10 * eps`` is added, as scikit-learn does, so an empty component has no
        zero division.
    means : ndarray of shape (n_components, n_features)
    """
    nk = weighted_resp.sum(axis=0) + 10 * np.finfo(weighted_resp.dtype).eps
    means = (weighted_resp.T @ X) / nk[:, np.newaxis]
    return nk, means


def estimate_covariances(X, weighted_resp, nk, means, reg_covar, covariance_type):
    """Unregularised covariances of each component, in the shape of ``covariance_type``.

    ``reg_covar`` is *not* added here, so callers can tell a collapsed component (zero spread)
    from a regularised one; :func:`regularize` adds it.
    """
    if covariance_type == "full":
        covariances = np.empty((means.shape[0], X.shape[1], X.shape[1]))
        for k, mean in enumerate(means):
            diff = X - mean
            covariances[k] = (weighted_resp[:, k] * diff.T) @ diff / nk[k]
        return covariances
    if covariance_type == "tied":
        second_moment = X.T @ (X * weighted_resp.sum(axis=1)[:, np.newaxis])
        return (second_moment - (nk * means.T) @ means) / nk.sum()
    diag = (weighted_resp.T @ (X * X)) / nk[:, np.newaxis] - means**2
    return diag if covariance_type == "diag" else diag.mean(axis=1)


def regularize(covariances, reg_covar, covariance_type):
    """Add ``reg_covar`` to the variances (the diagonal), returning a new array."""
    covariances = np.array(covariances, dtype=float, copy=True)
    if covariance_type == "full":
        covariances[:, np.arange(covariances.shape[1]), np.arange(covariances.shape[1])] += reg_covar
    elif covariance_type == "tied":
        covariances.flat[:: covariances.shape[0] + 1] += reg_covar
    else:
        covariances += reg_covar
    return covariances


def smallest_variances(covariances, covariance_type):
    """Smallest variance along any direction, per component: shape (n_components,) or (1,)."""
    if covariance_type == "full":
        return np.linalg.eigvalsh(covariances)[:, 0]
    if covariance_type == "tied":
        return np.linalg.eigvalsh(covariances)[:1]
    if covariance_type == "diag":
        return covariances.min(axis=1)
    return np.asarray(covariances)


# ---------------------------------------------------------------- parametrisations
def precisions_cholesky(covariances, covariance_type):
    """Cholesky factors of the precisions from the covariances.

    Raises
    ------
    ValueError
        If a covariance is not positive definite (a collapsed component with ``reg_covar=0``).
    """
    message = (
        "A component's covariance is not positive definite: it has collapsed onto too few "
        "distinct points. Increase reg_covar, lower n_components, or scale the input."
    )
    if covariance_type in ("full", "tied"):
        stack = covariances if covariance_type == "full" else covariances[np.newaxis]
        result = np.empty_like(stack)
        eye = np.eye(stack.shape[-1])
        for k, covariance in enumerate(stack):
            try:
                cov_chol = linalg.cholesky(covariance, lower=True)
            except linalg.LinAlgError:
                raise ValueError(message) from None
            result[k] = linalg.solve_triangular(cov_chol, eye, lower=True).T
        return result if covariance_type == "full" else result[0]
    if np.any(np.less_equal(covariances, 0.0)):
        raise ValueError(message)
    return 1.0 / np.sqrt(covariances)


def covariances_from_precisions_cholesky(precisions_chol, covariance_type):
    """Inverse of :func:`precisions_cholesky`: covariances from precision Cholesky factors."""
    if covariance_type == "full":
        return np.array([np.linalg.inv(u @ u.T) for u in precisions_chol])
    if covariance_type == "tied":
        return np.linalg.inv(precisions_chol @ precisions_chol.T)
    return 1.0 / precisions_chol**2


def precisions_from_cholesky(precisions_chol, covariance_type):
    """Precision matrices ``U U^T`` (or inverse variances) from their Cholesky factors."""
    if covariance_type == "full":
        return np.einsum("kij,klj->kil", precisions_chol, precisions_chol)
    if covariance_type == "tied":
        return precisions_chol @ precisions_chol.T
    return precisions_chol**2


def cholesky_from_precisions(precisions, covariance_type):
    """Factors ``U`` with ``P = U U^T`` from user-given precisions.

    Any such factor scores the same Mahalanobis distance; like scikit-learn we take the lower
    Cholesky factor of ``P`` here (the factor derived from a covariance is upper triangular).
    """
    if covariance_type == "full":
        return np.array([linalg.cholesky(p, lower=True) for p in precisions])
    if covariance_type == "tied":
        return linalg.cholesky(precisions, lower=True)
    return np.sqrt(precisions)


# --------------------------------------------------------------------------- E-step
def log_det_cholesky(precisions_chol, covariance_type, n_features):
    """Log-determinant of each precision Cholesky factor, ``log |U_k|``: shape (K,) or scalar."""
    if covariance_type == "full":
        return np.log(np.diagonal(precisions_chol, axis1=1, axis2=2)).sum(axis=1)
    if covariance_type == "tied":
        return np.log(np.diag(precisions_chol)).sum()
    if covariance_type == "diag":
        return np.log(precisions_chol).sum(axis=1)
    return n_features * np.log(precisions_chol)


def mahalanobis_sq(X, means, precisions_chol, covariance_type):
    """Squared Mahalanobis distance of every sample to every component: shape (n, K).

    The full case is one GEMM per block of rows: ``X @ [U_1 ... U_K]`` minus ``mu_k U_k``, so the
    cost is BLAS-bound and the temporary is at most ``(_BLOCK_ROWS, K, d)``.
    """
    n_samples, n_features = X.shape
    n_components = means.shape[0]
    if covariance_type == "full":
        stacked = precisions_chol.transpose(1, 0, 2).reshape(n_features, -1)
        shifts = np.einsum("kd,kde->ke", means, precisions_chol).reshape(-1)
        out = np.empty((n_samples, n_components))
        for start in range(0, n_samples, _BLOCK_ROWS):
            block = X[start : start + _BLOCK_ROWS] @ stacked
            block -= shifts
            block *= block
            out[start : start + _BLOCK_ROWS] = block.reshape(-1, n_components, n_features).sum(axis=2)
        return out
    if covariance_type == "tied":
        y = X @ precisions_chol
        centres = means @ precisions_chol
        return (
            np.einsum("ij,ij->i", y, y)[:, np.newaxis]
            - 2.0 * (y @ centres.T)
            + np.einsum("ij,ij->i", centres, centres)
        )
    precisions = precisions_chol**2
    if covariance_type == "diag":
        return (
            np.sum(means**2 * precisions, axis=1)
            - 2.0 * (X @ (means * precisions).T)
            + (X**2) @ precisions.T
        )
    return (
        np.sum(means**2, axis=1) * precisions
        - 2.0 * (X @ means.T) * precisions
        + np.outer(np.einsum("ij,ij->i", X, X), precisions)
    )


def estimate_log_gaussian_prob(X, means, precisions_chol, covariance_type):
    """``log N(x_n | mu_k, Sigma_k)`` for every sample and component: shape (n, K)."""
    n_features = X.shape[1]
    log_det = log_det_cholesky(precisions_chol, covariance_type, n_features)
    log_prob = mahalanobis_sq(X, means, precisions_chol, covariance_type)
    log_prob *= -0.5
    log_prob += log_det - 0.5 * n_features * np.log(2 * np.pi)
    return log_prob


def log_joint(X, weights, means, precisions_chol, covariance_type):
    """``log p(y_n, z_n = k | theta) = log pi_k + log N(y_n | mu_k, Sigma_k)``: shape (n, K)."""
    out = estimate_log_gaussian_prob(X, means, precisions_chol, covariance_type)
    with np.errstate(divide="ignore"):  # a weight of exactly 0 gives -inf, as it should
        out += np.log(weights)
    return out


def normalize_log_joint(log_joint_prob):
    """Log-likelihood per sample and log-responsibilities from the log joint.

    Returns
    -------
    log_prob_norm : ndarray of shape (n_samples,)
        ``log p(y_n | theta)`` (log-sum-exp over components).
    log_resp : ndarray of shape (n_samples, n_components)
        ``log p(z_n = k | y_n, theta)``.
    """
    top = log_joint_prob.max(axis=1, keepdims=True)
    shifted = log_joint_prob - top
    log_prob_norm = np.log(np.exp(shifted).sum(axis=1)) + top[:, 0]
    shifted -= (log_prob_norm - top[:, 0])[:, np.newaxis]
    return log_prob_norm, shifted
