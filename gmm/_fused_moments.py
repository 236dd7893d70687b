"""Numba kernels of the M-step: the fused EM pass's per-block sums into statistics, and those
into parameters.

:func:`reduce_em` adds the blocks' partial sums in block order; :func:`full_statistics` turns
the moments about the previous means into counts, means and full covariances with the
arithmetic of :func:`gmm._kernels.statistics_from_moments` (numpy) in the same order, element
by element, so the two agree bit for bit (tests/test_mixture.py) while this one costs no
numpy call overheads (about 25 us an iteration on colour data, where the pass itself takes
a few hundred). :func:`full_parameters` then computes the new parameters of full covariances
and the expected complete log-likelihood in one call.

Imported with :mod:`gmm._fused`, on the first fit.
"""

from __future__ import annotations

import numba
import numpy as np

_COUNT_EPSILON = 10 * np.finfo(np.float64).eps  # scikit-learn's guard against empty components


@numba.njit(cache=True, nogil=True, error_model="numpy")
def reduce_em(partial, log_likelihood, nk, first, second):
    """Add the blocks' partial sums in block order (so the result does not depend on how the
    blocks were shared out): fills ``nk`` (K,), ``first`` (K, d), the lower triangle of ``second``
    (K, d, d), all zero on entry; returns the weighted sums of the log-likelihood, the expected
    complete log-likelihood and the entropy, shape (3,)."""
    n_blocks, K, _ = partial.shape
    d = first.shape[1]
    sums = np.zeros(3)
    for b in range(n_blocks):
        sums[0] += log_likelihood[b]
        for k in range(K):
            out = partial[b, k]
            sums[1] += out[0]
            sums[2] -= out[1]
            nk[k] += out[2]
            for j in range(d):
                first[k, j] += out[3 + j]
                for m in range(j + 1):
                    second[k, j, m] += out[3 + d + j * d + m]
    return sums


@numba.njit(cache=True, nogil=True, error_model="numpy")
def full_statistics(counts, first, second, shifts):
    """``(nk, means, covariances)`` from weighted moments about ``shifts``, full covariances.

    Parameters
    ----------
    counts : ndarray of shape (K,)
    first : ndarray of shape (K, d), ``sum r (x - shift)``
    second : ndarray of shape (K, d, d), ``sum r (x - shift)(x - shift)^T`` in its lower triangle
    shifts : ndarray of shape (K, d)

    Returns
    -------
    nk : ndarray of shape (K,), ``counts + 10 eps``
    means : ndarray of shape (K, d)
    covariances : ndarray of shape (K, d, d), the scatter about the means over ``nk``
    """
    K, d = first.shape
    nk = np.empty(K)
    means = np.empty((K, d))
    covariances = np.empty((K, d, d))
    e = np.empty(d)
    for k in range(K):
        nk[k] = counts[k] + _COUNT_EPSILON
        for i in range(d):
            means[k, i] = (first[k, i] + counts[k] * shifts[k, i]) / nk[k]
            e[i] = means[k, i] - shifts[k, i]
        for i in range(d):
            for j in range(d):
                # the symmetric second moment as numpy forms it: tril + (strict tril)^T, zeros added
                s = second[k, i, j] + 0.0 if j <= i else 0.0 + second[k, j, i]
                scatter = ((s - first[k, i] * e[j]) - e[i] * first[k, j]) + counts[k] * (e[i] * e[j])
                covariances[k, i, j] = scatter / nk[k]
    return nk, means, covariances


# ------------------------------------------------------------------ full covariances' parameters
@numba.njit(cache=True, nogil=True, error_model="numpy")
def full_parameters(nk, scatter, reg_covar, weight_total, covariances, weights, precisions_chol, precisions):
    """The M-step's parameters from full-covariance statistics, with no numpy call overheads.

    What :func:`gmm._gaussian.regularize`, :func:`~gmm._gaussian.precisions_cholesky`,
    :func:`~gmm._gaussian.precisions_from_cholesky`, :func:`~gmm._gaussian.log_det_cholesky` and
    :func:`~gmm._gaussian.expected_log_joint` compute, to rounding (the Cholesky factor by the
    textbook recurrence rather than LAPACK's; tests/test_mixture.py compares them): about 3 us
    for three colour components, where the numpy calls take 60.

    Parameters
    ----------
    nk : (K,) soft counts (with ``10 * eps``); scatter : (K, d, d) unregularised covariances
    reg_covar : float; weight_total : float, or <= 0 for ``nk.sum()``
    covariances, precisions_chol, precisions : (K, d, d) and weights : (K,), filled

    Returns
    -------
    expected : float
        The expected complete log-likelihood right after this M-step (NaN where it failed).
    ok : bool
        False where a covariance is not positive definite, as LAPACK reports it (a NaN passes).
    """
    K, d = scatter.shape[0], scatter.shape[1]
    total = weight_total
    if total <= 0.0:
        total = 0.0
        for k in range(K):
            total += nk[k]
    lower, inverse = np.empty((d, d)), np.empty((d, d))
    log_2pi = np.log(2.0 * np.pi)
    per_component, quadratic = 0.0, 0.0
    for k in range(K):
        weights[k] = nk[k] / total
        for i in range(d):
            for j in range(d):
                covariances[k, i, j] = scatter[k, i, j] + (reg_covar if i == j else 0.0)
        for j in range(d):  # Cholesky: covariance = lower lower^T
            s = covariances[k, j, j]
            for m in range(j):
                s -= lower[j, m] * lower[j, m]
            if s <= 0.0:  # a NaN passes, as through LAPACK's test
                return np.nan, False
            lower[j, j] = np.sqrt(s)
            for i in range(j + 1, d):
                t = covariances[k, i, j]
                for m in range(j):
                    t -= lower[i, m] * lower[j, m]
                lower[i, j] = t / lower[j, j]
        log_det = 0.0
        for i in range(d):  # inverse of lower by forward substitution; the factor is its transpose
            for c in range(d):
                t = 1.0 if i == c else 0.0
                for j in range(c, i):
                    t -= lower[i, j] * inverse[j, c]
                inverse[i, c] = t / lower[i, i] if c <= i else 0.0
            log_det += np.log(inverse[i, i])
        trace = 0.0
        for i in range(d):
            for j in range(d):
                precisions_chol[k, i, j] = inverse[j, i]
        for i in range(d):  # precision = U U^T = inverse^T inverse
            for j in range(d):
                s = 0.0
                for m in range(max(i, j), d):
                    s += inverse[m, i] * inverse[m, j]
                precisions[k, i, j] = s
                trace += s * scatter[k, i, j]
        counts = nk[k] - _COUNT_EPSILON
        if counts > 0:  # an empty component: 0 * log 0 = 0
            per_component += counts * (np.log(weights[k]) + log_det - 0.5 * d * log_2pi)
        quadratic += nk[k] * trace
    return per_component - 0.5 * quadratic, True


@numba.njit(cache=True, nogil=True, error_model="numpy")
def full_kernel_parameters(weights, means, precisions_chol, offsets, whitened):
    """:func:`gmm._kernels._kernel_parameters` of full covariances (to rounding): ``offsets[k] =
    log pi_k + log |U_k| - d/2 log 2 pi`` and ``whitened[k] = U_k^T mu_k``."""
    K, d = means.shape
    for k in range(K):
        log_det = 0.0
        for i in range(d):
            log_det += np.log(precisions_chol[k, i, i])
        offsets[k] = np.log(weights[k]) + log_det - 0.5 * d * np.log(2.0 * np.pi)  # weight 0: -inf
        for j in range(d):
            s = 0.0
            for m in range(d):
                s += precisions_chol[k, m, j] * means[k, m]
            whitened[k, j] = s
