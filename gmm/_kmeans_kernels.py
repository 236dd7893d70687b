"""Numba kernels of the k-means start (:mod:`gmm._kmeans`): centring, distances, Lloyd steps.

Each kernel does scikit-learn's arithmetic in scikit-learn's order, so that the labels are
its labels bit for bit: distances as ``|c|^2 - 2 x.c`` with the dot product contracted into
fused multiply-adds in feature order (as BLAS computes it there), the first centre on ties,
and the clusters' weighted sums in sample order. Only the distances are compiled with
contraction (``fastmath={"contract"}``): scikit-learn multiplies and adds the sums apart.

A Lloyd step on one thread (:func:`assign_and_accumulate`) assigns a block of samples and at
once adds them to their clusters' sums while the block is in L1, and notes whether any label
changed, so that one pass over the data does what three passes did (assign, accumulate,
compare with the previous labels). Large inputs assign on threads instead (:func:`assign`),
then add in sample order (:func:`accumulate`): the same labels and sums either way.

Loops over a block index its slices (``XT[j, b0:b0 + nb][i]``): with ``XT[j, b0 + i]`` numba's
wraparound of negative indices keeps LLVM from vectorising them.

Imported only when a k-means start first needs it; ``cache=True`` keeps the machine code.
"""

from __future__ import annotations

import numba
import numpy as np

#: Samples per block of the assignment: its (K, BLOCK) distances stay in L1.
BLOCK = 256


@numba.njit(cache=True, nogil=True, error_model="numpy")
def centre(X):
    """Centred copy of ``X`` sample-last (d, n) and the column variances (d,).

    The sums run in sample order, as numpy's reductions over axis 0 of a C-ordered array with
    more than one column do, so the mean, the centred data and the variances equal
    ``X.mean(0)``, ``X - X.mean(0)`` and ``np.var(X, axis=0)`` bit for bit (one column is
    contiguous, and numpy sums it pairwise: :func:`gmm._kmeans._centred` leaves that to numpy).
    """
    n, d = X.shape
    XT = np.empty((d, n))
    variances = np.zeros(d)
    for j in range(d):
        total = 0.0
        for i in range(n):
            total += X[i, j]
        mean = total / n
        ss = 0.0
        for i in range(n):
            v = X[i, j] - mean
            XT[j, i] = v
            ss += v * v
        variances[j] = ss / n
    return XT, variances


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def distances_to(XT, index, x_sq, out):
    """``out[i] = max(-2 x_i.c + |c|^2 + |x_i|^2, 0)`` with ``c = x_index``, as scikit-learn's
    euclidean_distances computes it."""
    d, n = XT.shape
    c_sq = x_sq[index]
    out[:] = 0.0
    for j in range(d):
        c, row = XT[j, index], XT[j]
        for i in range(n):
            out[i] += row[i] * c
    for i in range(n):
        out[i] = max((-2.0 * out[i] + c_sq) + x_sq[i], 0.0)


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _nearest_block(XT, b0, nb, centers, centers_sq, distances, best, nearest):
    """``nearest[:nb]``: the closest centre (first on ties) of samples ``b0..b0+nb-1``."""
    d = XT.shape[0]
    K = centers.shape[0]
    if d == 3:  # colour: the same products in the same order, the sample held in registers
        x0, x1, x2 = XT[0, b0:b0 + nb], XT[1, b0:b0 + nb], XT[2, b0:b0 + nb]
        for i in range(nb):
            a, b, c = x0[i], x1[i], x2[i]
            top = -2.0 * (((0.0 + a * centers[0, 0]) + b * centers[0, 1]) + c * centers[0, 2]) + centers_sq[0]
            arg = 0
            for k in range(1, K):
                dist = -2.0 * (((0.0 + a * centers[k, 0]) + b * centers[k, 1]) + c * centers[k, 2]) + centers_sq[k]
                if dist < top:
                    top, arg = dist, k
            nearest[i] = arg
        return
    for k in range(K):
        row = distances[k]
        for i in range(nb):
            row[i] = 0.0
        for j in range(d):
            c, x = centers[k, j], XT[j, b0:b0 + nb]
            for i in range(nb):
                row[i] += x[i] * c
        for i in range(nb):
            row[i] = -2.0 * row[i] + centers_sq[k]
    for i in range(nb):
        best[i] = distances[0, i]
        nearest[i] = 0
    for k in range(1, K):  # branch-free selects, which LLVM vectorises
        row = distances[k]
        for i in range(nb):
            closer = row[i] < best[i]
            best[i] = row[i] if closer else best[i]
            nearest[i] = k if closer else nearest[i]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def assign(XT, centers, centers_sq, labels, start, stop):
    """Nearest centre (first on ties) of the samples in blocks ``start..stop-1``."""
    n = XT.shape[1]
    K = centers.shape[0]
    distances, best = np.empty((K, BLOCK)), np.empty(BLOCK)
    nearest = np.empty(BLOCK, dtype=np.int64)
    for b in range(start, stop):
        b0 = b * BLOCK
        nb = min(BLOCK, n - b0)
        _nearest_block(XT, b0, nb, centers, centers_sq, distances, best, nearest)
        block_labels = labels[b0:b0 + nb]
        for i in range(nb):
            block_labels[i] = nearest[i]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def accumulate(XT, w, labels, centers_new, weight_in_clusters):
    """Weighted sums of the samples per label, in sample order (as scikit-learn adds them)."""
    d, n = XT.shape
    centers_new[:] = 0.0
    weight_in_clusters[:] = 0.0
    for i in range(n):
        label, wi = labels[i], w[i]
        weight_in_clusters[label] += wi
        for j in range(d):
            centers_new[label, j] += XT[j, i] * wi


@numba.njit(cache=True, nogil=True, error_model="numpy")
def assign_and_accumulate(XT, w, centers, centers_sq, labels, centers_new, weight_in_clusters):
    """One pass of a Lloyd step: :func:`assign` and :func:`accumulate` block by block.

    Returns
    -------
    bool
        Whether any label differs from the one ``labels`` held on entry.
    """
    d, n = XT.shape
    K = centers.shape[0]
    distances, best = np.empty((K, BLOCK)), np.empty(BLOCK)
    nearest = np.empty(BLOCK, dtype=np.int64)
    centers_new[:] = 0.0
    weight_in_clusters[:] = 0.0
    changed = False
    for b0 in range(0, n, BLOCK):
        nb = min(BLOCK, n - b0)
        _nearest_block(XT, b0, nb, centers, centers_sq, distances, best, nearest)
        block_labels, block_w = labels[b0:b0 + nb], w[b0:b0 + nb]
        for i in range(nb):
            label = nearest[i]
            changed |= block_labels[i] != label
            block_labels[i] = label
            wi = block_w[i]  # scikit-learn's product, then its sum: no contraction in this function
            weight_in_clusters[label] += wi
            for j in range(d):
                centers_new[label, j] += XT[j, b0 + i] * wi
    return changed


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _distance3(a, b, c, centers, centers_sq, k):
    """:func:`_nearest_block`'s distance of the colour ``(a, b, c)`` to centre ``k``."""
    return -2.0 * (((0.0 + a * centers[k, 0]) + b * centers[k, 1]) + c * centers[k, 2]) + centers_sq[k]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def lloyd_step_colour(XT, w, centers, centers_sq, labels, centers_new, weight_in_clusters):
    """:func:`assign_and_accumulate` for three features and at most four clusters, about 2.5 times
    as fast (the moose's colours: 63 against 24 us): :func:`_assign_colour` in one vectorised
    pass, then :func:`_accumulate_colour`."""
    changed = _assign_colour(XT, centers, centers_sq, labels)
    _accumulate_colour(XT, w, labels, centers_new, weight_in_clusters)
    return changed > 0


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _assign_colour(XT, centers, centers_sq, labels):
    """Nearest of 2-4 centres for every colour, by selects, the first on ties (no branch: LLVM
    vectorises the loop over samples); returns how many labels changed."""
    n, K = XT.shape[1], centers.shape[0]
    x0, x1, x2 = XT[0], XT[1], XT[2]
    changed, three, four = 0, K > 2, K > 3
    for i in range(n):
        a, b, c = x0[i], x1[i], x2[i]
        top = _distance3(a, b, c, centers, centers_sq, 0)
        dist = _distance3(a, b, c, centers, centers_sq, 1)
        label = np.int32(1) if dist < top else np.int32(0)
        top = dist if dist < top else top
        if three:  # the same for every sample: LLVM takes the ifs out of the loop
            dist = _distance3(a, b, c, centers, centers_sq, 2)
            label = np.int32(2) if dist < top else label
            top = dist if dist < top else top
            if four:
                dist = _distance3(a, b, c, centers, centers_sq, 3)
                label = np.int32(3) if dist < top else label
        changed += labels[i] != label
        labels[i] = label
    return changed


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _accumulate_colour(XT, w, labels, centers_new, weight_in_clusters):
    """:func:`accumulate` for three features and at most four clusters, the sums in registers.

    Each sample adds its products to every cluster's sums, ``+0.0`` to all but its own. That
    leaves every sum as it was (a sum from ``+0.0`` is never ``-0.0``), so the sums are
    :func:`accumulate`'s in sample order, bit for bit, without the chain of loads and stores
    through memory that holds the general step back.
    """
    n, K = XT.shape[1], centers_new.shape[0]
    x0, x1, x2 = XT[0], XT[1], XT[2]
    w0 = w1 = w2 = w3 = 0.0
    a00 = a01 = a02 = a10 = a11 = a12 = a20 = a21 = a22 = a30 = a31 = a32 = 0.0
    three, four = K > 2, K > 3
    for i in range(n):
        label, wi = labels[i], w[i]
        pa, pb, pc = x0[i] * wi, x1[i] * wi, x2[i] * wi  # scikit-learn's products, then its sums
        m = label == 0
        w0 += wi if m else 0.0
        a00, a01, a02 = a00 + (pa if m else 0.0), a01 + (pb if m else 0.0), a02 + (pc if m else 0.0)
        m = label == 1
        w1 += wi if m else 0.0
        a10, a11, a12 = a10 + (pa if m else 0.0), a11 + (pb if m else 0.0), a12 + (pc if m else 0.0)
        if three:
            m = label == 2
            w2 += wi if m else 0.0
            a20, a21, a22 = a20 + (pa if m else 0.0), a21 + (pb if m else 0.0), a22 + (pc if m else 0.0)
            if four:
                m = label == 3
                w3 += wi if m else 0.0
                a30, a31, a32 = a30 + (pa if m else 0.0), a31 + (pb if m else 0.0), a32 + (pc if m else 0.0)
    sums = ((w0, a00, a01, a02), (w1, a10, a11, a12), (w2, a20, a21, a22), (w3, a30, a31, a32))
    for k in range(K):
        weight_in_clusters[k] = sums[k][0]
        for j in range(3):
            centers_new[k, j] = sums[k][j + 1]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def average_and_shift(centers_old, centers_new, weight_in_clusters, shift):
    """Divide the sums by the weights (empty clusters sit on the heaviest); the centre shifts."""
    K, d = centers_new.shape
    heaviest = np.argmax(weight_in_clusters)
    for k in range(K):
        if weight_in_clusters[k] > 0:
            alpha = 1.0 / weight_in_clusters[k]
            for j in range(d):
                centers_new[k, j] *= alpha
        else:
            for j in range(d):
                centers_new[k, j] = centers_new[heaviest, j]
    for k in range(K):
        total, j = 0.0, 0
        while j + 4 <= d:  # scikit-learn's unrolled sum, in its order
            a, b = centers_new[k, j:j + 4], centers_old[k, j:j + 4]
            total += ((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1])
                      + (a[2] - b[2]) * (a[2] - b[2]) + (a[3] - b[3]) * (a[3] - b[3]))
            j += 4
        while j < d:
            total += (centers_new[k, j] - centers_old[k, j]) ** 2
            j += 1
        shift[k] = np.sqrt(total)
