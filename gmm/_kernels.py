"""One EM iteration over the data: the E-step, the ELBO terms and the M-step statistics.

The estimator calls three functions, :func:`prepare`, :func:`e_step` and :func:`label_and_score`.
With numba installed they run the fused kernels of :mod:`gmm._fused`: one pass over the
samples computes the log-densities, the log-sum-exp, the responsibilities, the ELBO terms and
the M-step statistics, and keeps no (K, n) array. Without numba (or with ``USE_NUMBA = False``)
they run the reference implementation in numpy (:mod:`gmm._gaussian`, one (K, n) array per
quantity). The two agree to rounding (tests/test_mixture.py); numba is imported, and the kernels
compiled or loaded from its cache, only on the first fit.

Statistics are accumulated in float64 whatever the dtype of the data; second moments are taken
about the previous means, so that no ``E[x^2] - E[x]^2`` cancellation occurs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gmm import _gaussian as G
from gmm._threads import share_blocks
from gmm.history import e_step_terms

#: Use the fused numba kernels when numba is importable (tests set False to run the reference).
USE_NUMBA = True
_FUSED = {}
#: Blocks (of 256 samples) per thread below which the kernels run on the calling thread alone:
#: a block costs a few microseconds per component, a hand-off to another thread about 0.1 ms.
_MIN_BLOCKS = 32


@dataclass(frozen=True)
class Data:
    """The training data in the layouts the iterations use.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features), float64 or float32, C-contiguous
    XT : ndarray of shape (n_features, n_samples), the same values sample-last
    weights : ndarray of shape (n_samples,) float64, or None (all ones)
    total : float
        Total weight (``n_samples`` without weights).
    """

    X: np.ndarray
    XT: np.ndarray
    weights: np.ndarray | None
    total: float


def prepare(X, sample_weight):
    """:class:`Data` for ``X`` (validated, float32 or float64) and checked sample weights."""
    total = float(X.shape[0] if sample_weight is None else sample_weight.sum())
    return Data(np.ascontiguousarray(X), np.ascontiguousarray(X.T), sample_weight, total)


def e_step(data, params):
    """E-step under ``params`` and the M-step statistics of its posterior.

    Parameters
    ----------
    data : Data
    params : tuple
        ``(weights, means, precisions_cholesky, covariance_type)``, float64.

    Returns
    -------
    terms : tuple of float
        Weighted sums of the log-likelihood, the expected complete log-likelihood and the
        entropy (see :func:`gmm.history.e_step_terms`).
    statistics : tuple
        ``(nk, means, covariances)`` of :func:`gmm._gaussian.m_step_statistics`.
    """
    fused = _fused()
    if fused is not None:
        return _fused_e_step(fused, data, params)
    weights, means, precisions_chol, covariance_type = params
    log_joint = G.log_joint(data.XT, weights, means, precisions_chol, covariance_type)
    log_prob_norm, resp, log_resp = G.normalize_log_joint(log_joint)
    if data.weights is not None:
        resp *= data.weights
    terms = e_step_terms(log_joint, log_prob_norm, resp, log_resp, data.weights)
    return terms, G.m_step_statistics(data.XT, resp, covariance_type, data.weights)


def label_and_score(data, params):
    """Most probable component per sample (first on ties) and the weighted log-likelihood sum."""
    fused = _fused()
    if fused is not None:
        labels = np.empty(data.X.shape[0], dtype=np.int64)
        weights, stride = _kernel_weights(data)
        kernel_parameters = _kernel_parameters(params)
        n_blocks = -(-data.X.shape[0] // fused.BLOCK)
        per_block = np.empty(n_blocks)
        share_blocks(lambda start, stop: fused.label_blocks(data.XT, weights, stride, *kernel_parameters,
                                                            G._LOG_RESP_FLOOR, start, stop, labels, per_block),
                     n_blocks, _MIN_BLOCKS)
        return labels, float(fused.sum_in_order(per_block))
    log_joint = G.log_joint(data.XT, *params)
    labels = argmax_rows(log_joint)
    log_prob_norm = G.normalize_log_joint(log_joint)[0]
    total = float(np.sum(log_prob_norm) if data.weights is None else data.weights @ log_prob_norm)
    return labels, total


def argmax_rows(per_component):
    """Index of the largest row per column of a (K, n) array, first one on ties, as int64.

    As ``np.argmax(per_component, axis=0)``, by K - 1 passes over long rows (numpy reduces a
    short leading axis slowly).
    """
    best = per_component[0].copy()
    labels = np.zeros(per_component.shape[1], dtype=np.int64)
    for k, row in enumerate(per_component[1:], start=1):
        better = row > best
        labels[better] = k
        np.maximum(best, row, out=best)
    return labels


def _fused():
    """The module of compiled kernels, or None without numba (or with ``USE_NUMBA = False``)."""
    if not USE_NUMBA:
        return None
    if "kernels" not in _FUSED:
        try:
            from gmm import _fused as fused
        except ImportError:  # numba is missing
            _FUSED["kernels"] = None
        else:
            _FUSED["kernels"] = fused
    return _FUSED["kernels"]


def _kernel_weights(data):
    """Sample weights for the kernels: ``w[i * stride]`` (stride 0 and one 1.0 when unweighted)."""
    return (np.ones(1), 0) if data.weights is None else (data.weights, 1)


def _kernel_parameters(params):
    """Log-weight offsets (K,), precision factors as full (K, d, d) and whitened means (K, d)."""
    weights, means, precisions_chol, covariance_type = params
    n_components, n_features = means.shape
    fused = _fused() if covariance_type == "full" else None
    if fused is not None:  # one compiled call
        factors = np.ascontiguousarray(precisions_chol, dtype=np.float64)
        offsets, whitened = np.empty(n_components), np.empty((n_components, n_features))
        fused.full_kernel_parameters(weights, means, factors, offsets, whitened)
        return offsets, factors, whitened
    if covariance_type == "full":
        factors = precisions_chol
    elif covariance_type == "tied":
        factors = np.broadcast_to(precisions_chol, (n_components, n_features, n_features))
    else:
        factors = G.full_matrices(precisions_chol, "diag" if covariance_type == "diag" else "spherical",
                                  n_components, n_features)
    factors = np.ascontiguousarray(factors, dtype=np.float64)
    log_det = G.log_det_cholesky(precisions_chol, covariance_type, n_features)
    with np.errstate(divide="ignore"):  # a weight of exactly 0 gives -inf, as it should
        offsets = np.log(weights) + log_det - 0.5 * n_features * np.log(2 * np.pi)
    whitened = np.einsum("kmj,km->kj", factors, means)
    return np.ascontiguousarray(np.broadcast_to(offsets, (n_components,))), factors, whitened


def _fused_e_step(fused, data, params):
    """The E-step by blocks on this process's threads, their partial sums added in block order."""
    weights, means, _, covariance_type = params
    n_components, n_features = means.shape
    n_blocks = -(-data.X.shape[0] // fused.BLOCK)
    partial = np.empty((n_blocks, n_components, 3 + n_features + n_features * n_features))
    per_block = np.empty(n_blocks)
    sample_weights, stride = _kernel_weights(data)
    kernel_parameters = _kernel_parameters(params)
    share_blocks(lambda start, stop: fused.em_blocks(data.XT, sample_weights, stride, *kernel_parameters, means,
                                                     G._LOG_RESP_FLOOR, start, stop, partial, per_block), n_blocks,
                 _MIN_BLOCKS)
    nk = np.zeros(n_components)
    first = np.zeros((n_components, n_features))
    second = np.zeros((n_components, n_features, n_features))
    terms = fused.reduce_em(partial, per_block, nk, first, second)
    if covariance_type == "full":  # the common case, without numpy's call overheads; the same bits
        statistics = fused.full_statistics(nk, first, second, means)
    else:
        statistics = statistics_from_moments(nk, first, second, means, covariance_type)
    return tuple(float(t) for t in terms), statistics


def m_step_parameters(nk, scatter, reg_covar, covariance_type, n_features, weight_total=None):
    """The M-step's parameters from its statistics, and the expected complete log-likelihood.

    Parameters
    ----------
    nk : ndarray of shape (K,), soft counts (with ``10 * eps``)
    scatter : unregularised covariances, shaped by ``covariance_type``
    reg_covar : float
    covariance_type : str
    n_features : int
    weight_total : float or None
        Divides ``nk`` into the weights (None: ``nk.sum()``).

    Returns
    -------
    covariances, weights, precisions_cholesky, precisions : ndarray
    expected : float

    Full covariances take one compiled call (:func:`gmm._fused_moments.full_parameters`, about
    3 us for three colour components where the numpy functions take 60); they agree to rounding.
    Raises ValueError (scikit-learn's words) where a covariance is not positive definite.
    """
    fused = _fused() if covariance_type == "full" else None
    if fused is not None:
        K, d = scatter.shape[:2]
        covariances, precisions_chol, precisions = np.empty((K, d, d)), np.empty((K, d, d)), np.empty((K, d, d))
        weights = np.empty(K)
        expected, ok = fused.full_parameters(nk, np.ascontiguousarray(scatter, dtype=np.float64), float(reg_covar),
                                             -1.0 if weight_total is None else float(weight_total), covariances,
                                             weights, precisions_chol, precisions)
        if not ok:
            raise ValueError(G.ILL_DEFINED_COVARIANCE)
        return covariances, weights, precisions_chol, precisions, float(expected)
    covariances = G.regularize(scatter, reg_covar, covariance_type)
    weights = nk / (nk.sum() if weight_total is None else weight_total)
    precisions_chol = G.precisions_cholesky(covariances, covariance_type)
    precisions = G.precisions_from_cholesky(precisions_chol, covariance_type)
    log_det = np.broadcast_to(G.log_det_cholesky(precisions_chol, covariance_type, n_features), nk.shape)
    return (covariances, weights, precisions_chol, precisions,
            G.expected_log_joint(nk, weights, scatter, precisions, log_det, covariance_type, n_features))


def precisions_from_covariances(covariances, covariance_type):
    """``(precisions_cholesky, precisions)`` as a fit computes them from these covariances (for
    full ones, by :func:`m_step_parameters`, so that a saved and reloaded model is the fitted one
    bit for bit). Raises ValueError where a covariance is not positive definite."""
    if covariance_type == "full" and _fused() is not None:
        K = covariances.shape[0]
        return m_step_parameters(np.ones(K) + 10 * np.finfo(np.float64).eps, covariances, 0.0, "full",
                                 covariances.shape[-1], 1.0)[2:4]
    precisions_chol = G.precisions_cholesky(covariances, covariance_type)
    return precisions_chol, G.precisions_from_cholesky(precisions_chol, covariance_type)


def statistics_from_moments(counts, first, second, shifts, covariance_type):
    """``(nk, means, covariances)`` of :func:`gmm._gaussian.m_step_statistics` from weighted
    moments about ``shifts``: counts (K,), first (K, d) and the lower triangle of second (K, d, d)."""
    second = np.tril(second) + np.swapaxes(np.tril(second, -1), 1, 2)
    nk = counts + 10 * np.finfo(np.float64).eps
    means = (first + counts[:, np.newaxis] * shifts) / nk[:, np.newaxis]
    e = means - shifts
    scatter = (second - np.einsum("ki,kj->kij", first, e) - np.einsum("ki,kj->kij", e, first)
               + counts[:, np.newaxis, np.newaxis] * np.einsum("ki,kj->kij", e, e))
    if covariance_type == "tied":
        return nk, means, scatter.sum(axis=0) / nk.sum()
    covariances = scatter / nk[:, np.newaxis, np.newaxis]
    if covariance_type == "full":
        return nk, means, covariances
    variances = np.diagonal(covariances, axis1=1, axis2=2).copy()
    return nk, means, variances if covariance_type == "diag" else variances.mean(axis=1)
