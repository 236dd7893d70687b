"""Numba kernels: the fused EM pass and the label pass, over ranges of blocks.

Imported only when a fit (:mod:`gmm._kernels`) or a colour count (:mod:`gmm.distinct`) first needs
it, so ``import gmm`` does not load numba; ``cache=True`` stores the machine code beside this
file, so later processes load it instead of compiling.

The EM pass works on blocks of samples laid out sample-last, so that every loop over a block is a
plain loop over contiguous memory that LLVM vectorises: the whitening, the maximum over
components, ``exp`` and ``log`` (by the polynomials below: numba's ``exp`` and ``log`` call the
C library one value at a time) and the weighted sums of the statistics. Only those sums may be
reassociated (``fastmath={"reassoc"}``), inside one block. Each block writes its own partial
sums, and :func:`reduce_em` adds them in block order: the result is the same whether the blocks
ran on one thread or on several (:mod:`gmm._kernels` shares them out), on every run of the same
machine.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from gmm._fused_moments import (  # noqa: F401  (the M-step)
    full_kernel_parameters, full_parameters, full_statistics, reduce_em)

#: Samples per block: the block's temporaries (about 30 rows of this length) stay in L1.
BLOCK = 256
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 split in two so that k * ln 2 is exact to 1e-20
_LN2_LO = 1.90821492927058770002e-10
_SQRT2 = 1.4142135623730951
_EXP_TAYLOR = tuple(1.0 / math.factorial(k) for k in range(14))  # |r| <= ln 2 / 2: 1 ulp at degree 13


# ------------------------------------------------------------------ vectorisable exp and log
@numba.njit(cache=True, error_model="numpy")
def exp_block(x, out, bits, n, floor):
    """``out[:n] = exp(x[:n])`` for ``x <= 0``, exactly 0 below ``floor`` (>= -708); within 1 ulp.

    ``exp(x) = 2^k exp(r)`` with ``k = round(x / ln 2)``: a Taylor polynomial for ``exp(r)``, and
    ``2^k`` built from its exponent bits (through ``bits``, an int64 buffer seen as float64).
    """
    c = _EXP_TAYLOR
    for i in range(n):
        v = max(x[i], floor)
        k = np.floor(v * _LOG2E + 0.5)
        r = v - k * _LN2_HI - k * _LN2_LO
        p = c[13]
        p = p * r + c[12]
        p = p * r + c[11]
        p = p * r + c[10]
        p = p * r + c[9]
        p = p * r + c[8]
        p = p * r + c[7]
        p = p * r + c[6]
        p = p * r + c[5]
        p = p * r + c[4]
        p = p * r + c[3]
        p = p * r + c[2]
        p = p * r + c[1]
        out[i] = p * r + c[0]
        bits[i] = (np.int64(k) + 1023) << 52
    powers = bits.view(np.float64)
    for i in range(n):
        out[i] = out[i] * powers[i] if x[i] >= floor else 0.0


@numba.njit(cache=True, error_model="numpy")
def log_block(x, out, n):
    """``out[:n] = log(x[:n])`` for finite ``x >= 1``; within 2 ulp.

    ``x = 2^e m`` with ``m`` in ``[sqrt(1/2), sqrt(2))`` read from the bits, then
    ``log m = 2 atanh((m - 1) / (m + 1))`` by its odd series (``|z| < 0.172``: 11 terms).
    """
    bits = x.view(np.int64)
    mantissa = out.view(np.int64)
    for i in range(n):
        mantissa[i] = (bits[i] & np.int64(0x000FFFFFFFFFFFFF)) | np.int64(0x3FF0000000000000)
    for i in range(n):
        e = np.float64((bits[i] >> 52) - 1023)
        m = out[i]
        high = m > _SQRT2  # selects, not a branch, so that LLVM vectorises the loop
        m = m * 0.5 if high else m
        e = e + 1.0 if high else e
        z = (m - 1.0) / (m + 1.0)
        z2 = z * z
        s = 1.0 / 23.0
        s = s * z2 + 1.0 / 21.0
        s = s * z2 + 1.0 / 19.0
        s = s * z2 + 1.0 / 17.0
        s = s * z2 + 1.0 / 15.0
        s = s * z2 + 1.0 / 13.0
        s = s * z2 + 1.0 / 11.0
        s = s * z2 + 1.0 / 9.0
        s = s * z2 + 1.0 / 7.0
        s = s * z2 + 1.0 / 5.0
        s = s * z2 + 1.0 / 3.0
        out[i] = e * _LN2_HI + (2.0 * z + (2.0 * z * z2 * s + e * _LN2_LO))


@numba.njit(cache=True, error_model="numpy")
def column_max(rows, top, n):
    """``top[:n]`` = the largest of ``rows[:, :n]`` in each column (rows: (K, >= n))."""
    for i in range(n):
        top[i] = rows[0, i]
    for k in range(1, rows.shape[0]):
        row = rows[k]
        for i in range(n):
            top[i] = max(top[i], row[i])


# ----------------------------------------------------------------- sums within one block
@numba.njit(cache=True, fastmath={"reassoc"}, error_model="numpy")
def _sum(a, n):
    s = 0.0
    for i in range(n):
        s += a[i]
    return s


@numba.njit(cache=True, fastmath={"reassoc"}, error_model="numpy")
def _dot(a, b, n):
    s = 0.0
    for i in range(n):
        s += a[i] * b[i]
    return s


@numba.njit(cache=True, fastmath={"reassoc"}, error_model="numpy")
def _dot3(a, b, c, n):
    s = 0.0
    for i in range(n):
        s += a[i] * b[i] * c[i]
    return s


# ---------------------------------------------------------------------------- EM pass
# Loops index block slices (``XT[j, b0:b0 + nb][i]``), never ``XT[j, b0 + i]``: numba wraps a
# negative index around, and with an offset LLVM cannot rule that out, so the loop stays scalar
# (three times slower: the same values either way).
@numba.njit(cache=True, error_model="numpy")
def _block_weights(w, stride, b0, nb, weight):
    """``weight[:nb]`` = the weights of samples ``b0..b0+nb-1`` (``w[i * stride]``; stride 0 or 1)."""
    if stride == 0:
        for i in range(nb):
            weight[i] = w[0]
    else:
        block = w[b0:b0 + nb]
        for i in range(nb):
            weight[i] = block[i]


@numba.njit(cache=True, error_model="numpy")
def _log_joint_block(XT, b0, nb, offsets, factors, whitened_means, log_joint, z):
    """``log_joint[k, i] = offsets[k] - ||U_k^T x_i - U_k^T mu_k||^2 / 2`` for one block."""
    d = XT.shape[0]
    if d == 3:  # colour: the same sums in the same order, held in registers
        _log_joint_block3(XT, b0, nb, offsets, factors, whitened_means, log_joint)
        return
    for k in range(offsets.shape[0]):
        q = log_joint[k]
        for i in range(nb):
            q[i] = 0.0
        for j in range(d):
            c = -whitened_means[k, j]
            for i in range(nb):
                z[i] = c
            for m in range(d):
                u = factors[k, m, j]
                xm = XT[m, b0:b0 + nb]
                for i in range(nb):
                    z[i] += u * xm[i]
            for i in range(nb):
                q[i] += z[i] * z[i]
        o = offsets[k]
        for i in range(nb):
            q[i] = o - 0.5 * q[i]


@numba.njit(cache=True, error_model="numpy")
def _log_joint_block3(XT, b0, nb, offsets, factors, whitened_means, log_joint):
    x0, x1, x2 = XT[0, b0:b0 + nb], XT[1, b0:b0 + nb], XT[2, b0:b0 + nb]
    for k in range(offsets.shape[0]):
        q, u, o = log_joint[k], factors[k], offsets[k]
        c0, c1, c2 = -whitened_means[k, 0], -whitened_means[k, 1], -whitened_means[k, 2]
        for i in range(nb):
            a, b, c = x0[i], x1[i], x2[i]
            z0 = ((c0 + u[0, 0] * a) + u[1, 0] * b) + u[2, 0] * c
            z1 = ((c1 + u[0, 1] * a) + u[1, 1] * b) + u[2, 1] * c
            z2 = ((c2 + u[0, 2] * a) + u[1, 2] * b) + u[2, 2] * c
            q[i] = o - 0.5 * (((0.0 + z0 * z0) + z1 * z1) + z2 * z2)


@numba.njit(cache=True, error_model="numpy")
def _normalise_block(log_joint, nb, floor, top, resp, total, log_norm, tmp, bits, zero_vanished):
    """For one block: ``top`` the largest log joint per sample, ``resp[k] = exp(log_joint[k] - top)``
    (0 below ``floor``), their sums ``total``, and ``log_norm = log(total) + top``, the sample's
    log-likelihood. ``zero_vanished``: set the log joint to 0 where ``resp`` is 0 (a vanished
    term then counts 0 in the ELBO's sums, even where ``log pi = -inf``)."""
    column_max(log_joint, top, nb)
    for i in range(nb):
        total[i] = 0.0
    for k in range(log_joint.shape[0]):
        q, rk = log_joint[k], resp[k]
        for i in range(nb):
            tmp[i] = q[i] - top[i]
        exp_block(tmp, rk, bits, nb, floor)
        for i in range(nb):
            total[i] += rk[i]
            if zero_vanished:  # loop-invariant: LLVM takes it out of the loop
                q[i] = q[i] if rk[i] > 0.0 else 0.0
    log_block(total, log_norm, nb)
    for i in range(nb):
        log_norm[i] += top[i]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def em_blocks(XT, w, stride, offsets, factors, whitened_means, shifts, floor, start, stop, partial, log_likelihood):
    """The E-step and the M-step statistics of blocks ``start..stop-1``, block by block.

    Parameters
    ----------
    XT : ndarray of shape (d, n), float64 or float32, C-contiguous
    w, stride : sample weights, read as ``w[i * stride]`` (stride 0: one weight for all)
    offsets : (K,) ``log pi_k + log |U_k| - d/2 log 2 pi``
    factors, whitened_means : (K, d, d) precision factors ``U_k`` and (K, d) ``U_k^T mu_k``
    shifts : (K, d) point about which the moments are taken (the current means)
    floor : log of the smallest responsibility kept
    start, stop : the blocks (of ``BLOCK`` samples) to process
    partial : ndarray of shape (n_blocks, K, 3 + d + d * d), float64
        Receives per block and component: the expected complete log-likelihood, its difference
        from the entropy term, the weighted sums of ``r``, ``r (x - shift)`` and
        ``r (x - shift)(x - shift)^T`` (lower triangle, row-major). :func:`reduce_em` adds them.
    log_likelihood : ndarray of shape (n_blocks,), receives the weighted log-likelihood per block
    """
    d, n = XT.shape
    K = offsets.shape[0]
    log_joint, resp = np.empty((K, BLOCK)), np.empty((K, BLOCK))
    z, top, total, log_norm = np.empty(BLOCK), np.empty(BLOCK), np.empty(BLOCK), np.empty(BLOCK)
    weight, scale, weighted, tmp = np.empty(BLOCK), np.empty(BLOCK), np.empty(BLOCK), np.empty(BLOCK)
    bits = np.empty(BLOCK, dtype=np.int64)
    diffs = np.empty((d, BLOCK))
    for b in range(start, stop):
        b0 = b * BLOCK
        nb = min(BLOCK, n - b0)
        _log_joint_block(XT, b0, nb, offsets, factors, whitened_means, log_joint, z)
        _normalise_block(log_joint, nb, floor, top, resp, total, log_norm, tmp, bits, True)
        _block_weights(w, stride, b0, nb, weight)
        for i in range(nb):
            scale[i] = weight[i] / total[i]
        log_likelihood[b] = _dot(weight, log_norm, nb)
        for k in range(K):
            rk, out = resp[k], partial[b, k]
            for i in range(nb):
                weighted[i] = scale[i] * rk[i]
            expected = _dot(weighted, log_joint[k], nb)
            out[0] = expected
            out[1] = expected - _dot(weighted, log_norm, nb)
            out[2] = _sum(weighted, nb)
            for j in range(d):  # the samples about the shift, each feature once
                xj, sj, dj = XT[j, b0:b0 + nb], shifts[k, j], diffs[j]
                for i in range(nb):
                    dj[i] = xj[i] - sj
            for j in range(d):
                out[3 + j] = _dot(weighted, diffs[j], nb)
                out[3 + d + j * d + j] = _dot3(weighted, diffs[j], diffs[j], nb)
                for m in range(j):
                    out[3 + d + j * d + m] = _dot3(weighted, diffs[j], diffs[m], nb)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def label_blocks(XT, w, stride, offsets, factors, whitened_means, floor, start, stop, labels, log_likelihood):
    """Most probable component per sample of blocks ``start..stop-1`` (the first on ties) and
    each block's ``sum w log p(x)`` in ``log_likelihood[block]``, computed as :func:`em_blocks`
    computes it (the same vectorised ``exp`` and ``log``, the same sums)."""
    d, n = XT.shape
    K = offsets.shape[0]
    log_joint, resp = np.empty((K, BLOCK)), np.empty((K, BLOCK))
    z, top, total, log_norm = np.empty(BLOCK), np.empty(BLOCK), np.empty(BLOCK), np.empty(BLOCK)
    weight, tmp = np.empty(BLOCK), np.empty(BLOCK)
    best = np.empty(BLOCK, dtype=np.int64)
    bits = np.empty(BLOCK, dtype=np.int64)
    for b in range(start, stop):
        b0 = b * BLOCK
        nb = min(BLOCK, n - b0)
        _log_joint_block(XT, b0, nb, offsets, factors, whitened_means, log_joint, z)
        _normalise_block(log_joint, nb, floor, top, resp, total, log_norm, tmp, bits, False)
        for i in range(nb):
            best[i] = 0  # also where a NaN leaves no maximum (the first component, as before)
        for k in range(K - 1, -1, -1):  # from the last, so that the first of equal maxima wins
            q = log_joint[k]
            for i in range(nb):
                best[i] = k if q[i] == top[i] else best[i]
        _block_weights(w, stride, b0, nb, weight)
        block_labels = labels[b0:b0 + nb]
        for i in range(nb):
            block_labels[i] = best[i]
        log_likelihood[b] = _dot(weight, log_norm, nb)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def sum_in_order(values):
    """``values[0] + values[1] + ...`` from left to right (numpy's sum is pairwise)."""
    total = 0.0
    for v in values:
        total += v
    return total
