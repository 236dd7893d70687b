"""Pure functions of the Gaussian mixture's maths, grouped by role.

Conventions follow scikit-learn's ``sklearn/mixture/_gaussian_mixture.py`` so that a fit started
from the same parameters gives the same numbers:

* ``precisions_chol`` holds factors ``U`` of the precision matrices with ``P = U U^T``, so that
  ``||(x - mu)^T U||^2`` is the squared Mahalanobis distance. Shapes by ``covariance_type``:
  full ``(K, d, d)``, tied ``(d, d)``, diag ``(K, d)``, spherical ``(K,)``.
* Every M-step function takes responsibilities already multiplied by the sample weights, so a
  weighted fit and a fit on repeated rows are the same computation.

Layout: the data are passed *sample-last*, ``XT`` of shape ``(d, n)``, and per-sample results come
back as ``(K, n)``. Images have few features and few components, and numpy reduces a short axis
slowly; with samples last every operation runs along long contiguous rows and every product is
a BLAS call.
"""

from __future__ import annotations

import numpy as np

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
#: Samples per block in the log-density, bounding the (d, block) temporaries.
_BLOCK = 1 << 17
#: Log of the smallest responsibility kept (see :func:`normalize_log_joint`).
_LOG_RESP_FLOOR = -700.0


# --------------------------------------------------------------------------- M-step
def estimate_weighted_moments(XT, weighted_resp):
    """Soft counts and means of each component.

    Parameters
    ----------
    XT : ndarray of shape (n_features, n_samples)
    weighted_resp : ndarray of shape (n_components, n_samples)
        Responsibilities times sample weights.

    Returns
    -------
    nk : ndarray of shape (n_components,)
        Soft counts; ``10 * eps`` is added, as scikit-learn does, so an empty component causes
        no division by zero.
    means : ndarray of shape (n_components, n_features)
    """
    nk = weighted_resp.sum(axis=1) + 10 * np.finfo(weighted_resp.dtype).eps
    means = row_products(weighted_resp, XT) / nk[:, np.newaxis]
    return nk, means


def m_step_statistics(XT, weighted_resp, covariance_type, sample_weight=None):
    """Soft counts, means and unregularised covariances: the M-step before ``reg_covar``."""
    nk, means = estimate_weighted_moments(XT, weighted_resp)
    return nk, means, estimate_covariances(XT, weighted_resp, nk, means, covariance_type, sample_weight)


def estimate_covariances(XT, weighted_resp, nk, means, covariance_type, sample_weight=None):
    """Unregularised covariances of each component, in the shape of ``covariance_type``.

    ``reg_covar`` is not added here, so that a collapsed component (zero spread) can be told from
    a regularised one; :func:`regularize` adds it. Deviations from the mean are formed in float64
    before squaring (no ``E[x^2] - E[x]^2`` cancellation), whatever the dtype of ``XT``.

    The tied covariance is scikit-learn's ``(X^T W X - sum_k N_k mu_k mu_k^T) / sum_k N_k`` with
    ``W`` the sample weights: every row counts once, even where the responsibilities do not sum to
    one (the one-hot start of 'k-means++' and 'random_from_data', which then starts from the
    scatter of the data, as scikit-learn's does).
    """
    n_components, n_features = means.shape
    if covariance_type == "tied":
        weighted = XT if sample_weight is None else XT * sample_weight
        second_moment = row_products(weighted, XT, symmetric=True)
        return (second_moment - (nk * means.T) @ means) / nk.sum()
    out = np.empty((n_components, n_features, n_features) if covariance_type == "full" else (n_components, n_features))
    diff = np.empty(XT.shape)
    weighted_diff = np.empty(XT.shape)
    for k in range(n_components):
        np.subtract(XT, means[k][:, np.newaxis], out=diff)
        np.multiply(diff, weighted_resp[k], out=weighted_diff)
        if covariance_type == "full":
            out[k] = row_products(weighted_diff, diff, symmetric=True) / nk[k]
        else:
            out[k] = np.einsum("ij,ij->i", weighted_diff, diff) / nk[k]
    return out if covariance_type != "spherical" else out.mean(axis=1)


def row_products(A, B, *, symmetric=False):
    """``A @ B.T`` for wide arrays, by one dot product per output entry: shape (p, q).

    The products of the M-step have a tiny output (``K x d`` or ``d x d``) and a very long inner
    dimension (the samples); OpenBLAS's GEMM handles that shape two to four times slower than
    separate dot products. With ``symmetric=True`` (``A @ B.T`` known symmetric) only the upper
    triangle is computed.
    """
    out = np.empty((A.shape[0], B.shape[0]))
    if A.dtype != np.float64 or B.dtype != np.float64:  # float32 data: accumulate in float64
        A, B = A.astype(np.float64), B.astype(np.float64)
    for i, row in enumerate(A):
        for j in range(i if symmetric else 0, B.shape[0]):
            out[i, j] = row @ B[j]
            if symmetric:
                out[j, i] = out[i, j]
    return out


def regularize(covariances, reg_covar, covariance_type):
    """Add ``reg_covar`` to the variances (the diagonal), returning a new array."""
    covariances = np.array(covariances, dtype=float, copy=True)
    if covariance_type == "full":
        idx = np.arange(covariances.shape[1])
        covariances[:, idx, idx] += reg_covar
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


def full_matrices(covariances, covariance_type, n_components, n_features):
    """Any covariance parametrisation as a stack of full matrices: shape (K, d, d)."""
    covariances = np.asarray(covariances, dtype=np.float64)
    if covariance_type == "full":
        return covariances
    if covariance_type == "tied":
        return np.broadcast_to(covariances, (n_components, n_features, n_features))
    diagonal = covariances if covariance_type == "diag" else np.repeat(covariances[:, np.newaxis], n_features, axis=1)
    return np.einsum("ki,ij->kij", diagonal, np.eye(n_features))


def expected_log_joint(nk, weights, scatter, precisions, log_det, covariance_type, n_features):
    """``sum_n w_n sum_k q_nk log(pi_k N(x_n | mu_k, Sigma_k))`` right after the M-step from ``q``.

    The M-step's means are the ``q``-weighted means, so the quadratic terms reduce to
    ``N_k tr(P_k S_k)`` with ``S_k`` the unregularised covariance: no pass over the data.

    Parameters
    ----------
    nk : ndarray of shape (K,)
        Soft counts of the M-step (with scikit-learn's ``10 * eps``, taken off again here).
    weights, log_det : ndarray of shape (K,)
        New mixing weights and ``log |U_k|``.
    scatter, precisions : ndarray
        Unregularised covariances and new precision matrices, shaped by ``covariance_type``.
    """
    counts = nk - 10 * np.finfo(np.float64).eps
    if covariance_type == "full":
        quadratic = nk * np.einsum("kij,kij->k", precisions, scatter)
    elif covariance_type == "tied":
        quadratic = nk.sum() * np.sum(precisions * scatter)
    elif covariance_type == "diag":
        quadratic = nk * np.sum(precisions * scatter, axis=1)
    else:
        quadratic = nk * n_features * precisions * scatter
    with np.errstate(divide="ignore", invalid="ignore"):  # an empty component: 0 * log 0 = 0
        per_component = counts * (np.log(weights) + log_det - 0.5 * n_features * np.log(2 * np.pi))
    return float(np.sum(np.where(counts > 0, per_component, 0.0)) - 0.5 * np.sum(quadratic))


# ---------------------------------------------------------------- parametrisations
#: scikit-learn's words, so that code matching them works with either estimator.
ILL_DEFINED_COVARIANCE = (
    "Fitting the mixture model failed because some components have ill-defined empirical covariance "
    "(for instance caused by singleton or collapsed samples). Try to decrease the number of "
    "components, increase reg_covar, or scale the input data."
)


def precisions_cholesky(covariances, covariance_type):
    """Precision factors from covariances: ``U = L^{-T}`` for the Cholesky factor ``L``.

    Raises
    ------
    ValueError
        If a covariance is not positive definite (a collapsed component with ``reg_covar=0``), in
        scikit-learn's words.
    """
    message = ILL_DEFINED_COVARIANCE
    if covariance_type in ("full", "tied"):
        stack = covariances if covariance_type == "full" else covariances[np.newaxis]
        if stack.shape[-1] == 1:  # one feature (grey): LAPACK's factor is the square root; the same bits
            if np.any(stack <= 0):  # where numpy's Cholesky raises (a NaN passes through, as there)
                raise ValueError(message)
            result = 1.0 / np.sqrt(stack)
            return result if covariance_type == "full" else result[0]
        try:
            cov_chol = np.linalg.cholesky(stack)
        except np.linalg.LinAlgError:
            raise ValueError(message) from None
        result = np.swapaxes(_invert_lower(cov_chol), 1, 2)
        return result if covariance_type == "full" else result[0]
    if np.any(np.less_equal(covariances, 0.0)):
        raise ValueError(message)
    return 1.0 / np.sqrt(covariances)


def _invert_lower(L):
    """Inverse of a stack of lower-triangular matrices by forward substitution: (K, d, d).

    Batched over components in numpy: for the 3x3 matrices of colour data, a LAPACK call per
    component costs more in overhead than the whole substitution.
    """
    n = L.shape[-1]
    inverse = np.zeros_like(L)
    for i in range(n):
        row = -np.einsum("kj,kjc->kc", L[:, i, :i], inverse[:, :i, :])
        row[:, i] += 1.0
        inverse[:, i, :] = row / L[:, i, i][:, np.newaxis]
    return inverse


def covariances_from_precisions_cholesky(precisions_chol, covariance_type):
    """Inverse of :func:`precisions_cholesky`: covariances from precision factors."""
    if covariance_type == "full":
        return np.linalg.inv(np.einsum("kij,klj->kil", precisions_chol, precisions_chol))
    if covariance_type == "tied":
        return np.linalg.inv(precisions_chol @ precisions_chol.T)
    return 1.0 / precisions_chol**2


def precisions_from_cholesky(precisions_chol, covariance_type):
    """Precision matrices ``U U^T`` (or inverse variances) from their factors."""
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
    if covariance_type in ("full", "tied"):
        return np.linalg.cholesky(precisions)
    return np.sqrt(precisions)


# --------------------------------------------------------------------------- E-step
def log_det_cholesky(precisions_chol, covariance_type, n_features):
    """``log |U_k|`` of each precision factor: shape (K,), or a scalar for tied."""
    if covariance_type == "full":
        return np.log(np.diagonal(precisions_chol, axis1=1, axis2=2)).sum(axis=1)
    if covariance_type == "tied":
        return np.log(np.diag(precisions_chol)).sum()
    if covariance_type == "diag":
        return np.log(precisions_chol).sum(axis=1)
    return n_features * np.log(precisions_chol)


def mahalanobis_sq(XT, means, precisions_chol, covariance_type):
    """Squared Mahalanobis distance of every sample to every component: shape (K, n).

    For component ``k`` the whitened deviations are ``U_k^T x - U_k^T mu_k``: one small GEMM over
    a block of samples, then a sum of ``d`` squared rows.
    """
    n_features, n_samples = XT.shape
    n_components = means.shape[0]
    out = np.empty((n_components, n_samples))
    for start in range(0, n_samples, _BLOCK):
        block = XT[:, start : start + _BLOCK]
        for k in range(n_components):
            y = _whiten(block, means[k], precisions_chol, k, covariance_type)
            y *= y
            _sum_rows(y, out[k, start : start + _BLOCK])
    return out


def _whiten(block, mean, precisions_chol, k, covariance_type):
    if covariance_type in ("full", "tied"):
        factor = precisions_chol[k] if covariance_type == "full" else precisions_chol
        y = factor.T @ block
        y -= (factor.T @ mean)[:, np.newaxis]
        return y
    y = block - mean[:, np.newaxis]
    y *= precisions_chol[k][:, np.newaxis] if covariance_type == "diag" else precisions_chol[k]
    return y


def _sum_rows(rows, out):
    """``out = rows.sum(axis=0)`` by row additions (numpy reduces a short leading axis slowly)."""
    np.copyto(out, rows[0])
    for row in rows[1:]:
        out += row
    return out


def log_joint(XT, weights, means, precisions_chol, covariance_type):
    """``log pi_k + log N(x_n | mu_k, Sigma_k)`` for every component and sample: shape (K, n)."""
    n_features = XT.shape[0]
    log_det = np.broadcast_to(log_det_cholesky(precisions_chol, covariance_type, n_features), weights.shape)
    out = mahalanobis_sq(XT, means, precisions_chol, covariance_type)
    out *= -0.5
    with np.errstate(divide="ignore"):  # a weight of exactly 0 gives -inf, as it should
        offsets = np.log(weights) + log_det - 0.5 * n_features * np.log(2 * np.pi)
    out += offsets[:, np.newaxis]
    return out


def normalize_log_joint(log_joint_prob):
    """Log-likelihood per sample, responsibilities and their logs, from the log joint (K, n).

    Responsibilities below ``exp(_LOG_RESP_FLOOR)`` (about 1e-304) are set to exactly zero. This
    keeps subnormal floats, which x86 processors handle up to a hundred times slower, out of every
    later product, and changes no sum by more than 1e-300 of its size.

    Returns
    -------
    log_prob_norm : ndarray of shape (n_samples,)
        ``log p(y_n | theta)`` (log-sum-exp over components).
    resp : ndarray of shape (n_components, n_samples)
        ``p(z_n = k | y_n, theta)``.
    log_resp : ndarray of shape (n_components, n_samples)
    """
    top = log_joint_prob[0].copy()
    for row in log_joint_prob[1:]:
        np.maximum(top, row, out=top)
    log_resp = log_joint_prob - top
    resp = np.exp(log_resp)
    np.copyto(resp, 0.0, where=log_resp < _LOG_RESP_FLOOR)
    total = _sum_rows(resp, np.empty_like(top))
    resp *= 1.0 / total
    log_total = np.log(total)
    log_resp -= log_total
    return log_total + top, resp, log_resp
