"""Numba kernels: the fused EM pass, the label pass and the colour counter.

Imported only when a fit (:mod:`gmm._kernels`) or a colour count (:mod:`gmm.distinct`) first needs
it, so ``import gmm`` does not load numba; ``cache=True`` stores the machine code beside this
file, so later processes load it instead of compiling.

The EM pass works on blocks of samples laid out sample-last, so that every loop over a block is a
plain loop over contiguous memory that LLVM vectorises: the whitening, the maximum over
components, ``exp`` and ``log`` (by the polynomials below: numba's ``exp`` and ``log`` call the
C library one value at a time) and the weighted sums of the statistics. Only those sums may be
reassociated (``fastmath={"reassoc"}``), inside one block; blocks are added in order, so the
result is the same on every run of the same machine.
"""

from __future__ import annotations

import math

import numba
import numpy as np

#: Samples per block: the block's temporaries (about 30 rows of this length) stay in L1.
BLOCK = 256
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 split in two so that k * ln 2 is exact to 1e-20
_LN2_LO = 1.90821492927058770002e-10
_SQRT2 = 1.4142135623730951
_EXP_TAYLOR = tuple(1.0 / math.factorial(k) for k in range(14))  # |r| <= ln 2 / 2: 1 ulp at degree 13


# ------------------------------------------------------------------ vectorisable exp and log
@numba.njit(cache=True)
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


@numba.njit(cache=True)
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
        if m > _SQRT2:
            m *= 0.5
            e += 1.0
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


# ----------------------------------------------------------------- sums within one block
@numba.njit(cache=True, fastmath={"reassoc"})
def _sum(a, n):
    s = 0.0
    for i in range(n):
        s += a[i]
    return s


@numba.njit(cache=True, fastmath={"reassoc"})
def _dot(a, b, n):
    s = 0.0
    for i in range(n):
        s += a[i] * b[i]
    return s


@numba.njit(cache=True, fastmath={"reassoc"})
def _dot3(a, b, c, n):
    s = 0.0
    for i in range(n):
        s += a[i] * b[i] * c[i]
    return s


# ---------------------------------------------------------------------------- EM pass
@numba.njit(cache=True)
def _log_joint_block(XT, b0, nb, offsets, factors, whitened_means, log_joint, z):
    """``log_joint[k, i] = offsets[k] - ||U_k^T x_i - U_k^T mu_k||^2 / 2`` for one block."""
    d = XT.shape[0]
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
                xm = XT[m]
                for i in range(nb):
                    z[i] += u * xm[b0 + i]
            for i in range(nb):
                q[i] += z[i] * z[i]
        o = offsets[k]
        for i in range(nb):
            q[i] = o - 0.5 * q[i]


@numba.njit(cache=True, nogil=True)
def em_pass(XT, w, stride, offsets, factors, whitened_means, shifts, floor, nk, first, second):
    """One E-step over all samples with the M-step statistics of its posterior.

    Parameters
    ----------
    XT : ndarray of shape (d, n), float64 or float32, C-contiguous
    w, stride : sample weights, read as ``w[i * stride]`` (stride 0: one weight for all)
    offsets : (K,) ``log pi_k + log |U_k| - d/2 log 2 pi``
    factors, whitened_means : (K, d, d) precision factors ``U_k`` and (K, d) ``U_k^T mu_k``
    shifts : (K, d) point about which the moments are taken (the current means)
    floor : log of the smallest responsibility kept
    nk, first, second : (K,), (K, d), (K, d, d) float64, zero on entry; receive the weighted
        sums of ``r``, ``r (x - shift)`` and ``r (x - shift)(x - shift)^T`` (lower triangle).

    Returns
    -------
    ndarray of shape (3,): weighted sums of the log-likelihood, the expected complete
    log-likelihood and the entropy.
    """
    d, n = XT.shape
    K = offsets.shape[0]
    log_joint, resp = np.empty((K, BLOCK)), np.empty((K, BLOCK))
    z, top, total, log_norm = np.empty(BLOCK), np.empty(BLOCK), np.empty(BLOCK), np.empty(BLOCK)
    weight, scale, weighted, tmp = np.empty(BLOCK), np.empty(BLOCK), np.empty(BLOCK), np.empty(BLOCK)
    bits = np.empty(BLOCK, dtype=np.int64)
    sums = np.zeros(3)
    for b0 in range(0, n, BLOCK):
        nb = min(BLOCK, n - b0)
        _log_joint_block(XT, b0, nb, offsets, factors, whitened_means, log_joint, z)
        for i in range(nb):
            top[i] = log_joint[0, i]
            total[i] = 0.0
        for k in range(1, K):
            q = log_joint[k]
            for i in range(nb):
                top[i] = max(top[i], q[i])
        for k in range(K):
            q, rk = log_joint[k], resp[k]
            for i in range(nb):
                tmp[i] = q[i] - top[i]
            exp_block(tmp, rk, bits, nb, floor)
            for i in range(nb):
                total[i] += rk[i]
                q[i] = q[i] if rk[i] > 0.0 else 0.0  # a vanished term counts 0, even where log pi = -inf
        log_block(total, log_norm, nb)
        for i in range(nb):
            log_norm[i] += top[i]
            weight[i] = w[(b0 + i) * stride]
            scale[i] = weight[i] / total[i]
        sums[0] += _dot(weight, log_norm, nb)
        for k in range(K):
            rk = resp[k]
            for i in range(nb):
                weighted[i] = scale[i] * rk[i]
            expected = _dot(weighted, log_joint[k], nb)
            sums[1] += expected
            sums[2] -= expected - _dot(weighted, log_norm, nb)
            nk[k] += _sum(weighted, nb)
            for j in range(d):
                xj, sj = XT[j], shifts[k, j]
                for i in range(nb):
                    tmp[i] = xj[b0 + i] - sj
                first[k, j] += _dot(weighted, tmp, nb)
                second[k, j, j] += _dot3(weighted, tmp, tmp, nb)
                for m in range(j):
                    xm, sm = XT[m], shifts[k, m]
                    for i in range(nb):
                        z[i] = xm[b0 + i] - sm
                    second[k, j, m] += _dot3(weighted, tmp, z, nb)
    return sums


@numba.njit(cache=True, nogil=True)
def label_pass(XT, w, stride, offsets, factors, whitened_means, labels):
    """Most probable component per sample (the first on ties); returns ``sum w log p(x)``."""
    d, n = XT.shape
    K = offsets.shape[0]
    log_joint = np.empty((K, BLOCK))
    z = np.empty(BLOCK)
    result = 0.0
    for b0 in range(0, n, BLOCK):
        nb = min(BLOCK, n - b0)
        _log_joint_block(XT, b0, nb, offsets, factors, whitened_means, log_joint, z)
        block = 0.0
        for i in range(nb):
            top, best = log_joint[0, i], 0
            for k in range(1, K):
                if log_joint[k, i] > top:
                    top, best = log_joint[k, i], k
            total = 0.0
            for k in range(K):
                total += np.exp(log_joint[k, i] - top)
            labels[b0 + i] = best
            block += w[(b0 + i) * stride] * (np.log(total) + top)
        result += block
    return result


# ---------------------------------------------------------------------- colour counting
@numba.njit(cache=True)
def _popcount(x):  # LLVM turns this idiom into one popcnt instruction
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return (x * np.uint64(0x0101010101010101)) >> np.uint64(56)


@numba.njit(cache=True)
def _code(pixels, p):
    return (np.int64(pixels[p, 0]) << 16) | (np.int64(pixels[p, 1]) << 8) | np.int64(pixels[p, 2])


@numba.njit(cache=True, nogil=True)
def count_rgb(pixels, index):
    """Distinct colours of (n, 3) uint8 pixels: sorted 24-bit codes and counts; fills ``index``.

    A 2 MiB bitmap holds one bit per colour, and ``before[w]`` the number of set bits in the words
    before word ``w``; a colour's index among the present ones is then ``before`` plus the set
    bits below it in its word (a rank query on a succinct bitmap). Linear time, no sort.
    """
    words = np.zeros(1 << 18, dtype=np.uint64)
    one = np.uint64(1)
    for p in range(pixels.shape[0]):
        code = _code(pixels, p)
        words[code >> 6] |= one << np.uint64(code & 63)
    before = np.empty(1 << 18, dtype=np.int64)
    n_present = 0
    for w in range(words.shape[0]):
        before[w] = n_present
        n_present += _popcount(words[w])
    present = np.empty(n_present, dtype=np.uint32)
    j = 0
    for w in range(words.shape[0]):
        bits = words[w]
        while bits:
            present[j] = (w << 6) | _popcount((bits & (~bits + one)) - one)  # the lowest set bit
            bits &= bits - one
            j += 1
    counts = np.zeros(n_present, dtype=np.int64)
    for p in range(pixels.shape[0]):
        code = _code(pixels, p)
        rank = before[code >> 6] + _popcount(words[code >> 6] & ((one << np.uint64(code & 63)) - one))
        index[p] = rank
        counts[rank] += 1
    return present, counts
