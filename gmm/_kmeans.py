"""The k-means start of EM: scikit-learn's ``KMeans(n_init=1)`` algorithm, without its overheads.

On distinct colours scikit-learn's ``KMeans`` costs as much as the whole EM fit that follows
(about 15 ms of a 50 ms fit of the fox photo): input validation, a variance pass and a
general-purpose Lloyd loop. This module runs the same algorithm step for step: the data centred
on its mean, greedy k-means++ seeding with ``2 + log K`` local trials drawn from the same random
stream, Lloyd iterations with distances as ``|c|^2 - 2 x.c`` (the dot products contracted into
fused multiply-adds in feature order, as BLAS computes them there), the first centre on ties, sums
in sample order, scikit-learn's own relocation of empty clusters, and its two stopping rules (labels
unchanged, or the squared centre shift within ``tol`` times the mean variance). The labels are
therefore scikit-learn's, except where a sample is equidistant to two centres within rounding
(tests/test_kmeans.py compares them on photos and synthetic data), and the random state is left
where scikit-learn leaves it, so that ``n_init`` starts follow one another as they do there.

Float64 data only; :func:`gmm._init.initial_responsibilities` hands float32 data to scikit-learn.
"""

from __future__ import annotations

import warnings

import numba
import numpy as np

from gmm._threads import share_blocks


#: Samples per block of the assignment: its (K, BLOCK) distances stay in L1.
BLOCK = 256


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _centre(X):
    """Centred copy of ``X`` sample-last (d, n) and the column variances (d,).

    The sums run in sample order, as numpy's reductions over axis 0 of a C-ordered array with
    more than one column do, so the mean, the centred data and the variances equal
    ``X.mean(0)``, ``X - X.mean(0)`` and ``np.var(X, axis=0)`` bit for bit (one column is
    contiguous, and numpy sums it pairwise: see :func:`_centred`).
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
def _distances_to(XT, index, x_sq, out):
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
def _assign(XT, centers, centers_sq, labels, start, stop):
    """Nearest centre (first on ties) of the samples in blocks ``start..stop-1``."""
    d, n = XT.shape
    K = centers.shape[0]
    distances = np.empty((K, BLOCK))
    best = np.empty(BLOCK)
    nearest = np.empty(BLOCK, dtype=np.int64)
    for b in range(start, stop):
        b0 = b * BLOCK
        nb = min(BLOCK, n - b0)
        for k in range(K):
            row = distances[k]
            row[:nb] = 0.0
            for j in range(d):
                c, x = centers[k, j], XT[j]
                for i in range(nb):
                    row[i] += x[b0 + i] * c
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
        for i in range(nb):
            labels[b0 + i] = nearest[i]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _accumulate(XT, w, labels, centers_new, weight_in_clusters):
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
def _average_and_shift(centers_old, centers_new, weight_in_clusters, shift):
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


def kmeans_plusplus(XT, n_clusters, x_squared_norms, sample_weight, random_state):
    """Greedy k-means++ seeds of centred float64 data ``XT`` (d, n): indices of the seeds (K,)."""
    n_samples = XT.shape[1]
    n_local_trials = 2 + int(np.log(n_clusters))
    indices = np.full(n_clusters, -1, dtype=int)
    indices[0] = _choice(sample_weight / sample_weight.sum(), random_state)
    closest = np.empty(n_samples)
    _distances_to(XT, indices[0], x_squared_norms, closest)
    current_pot = closest @ sample_weight
    candidate_distances = np.empty((n_local_trials, n_samples))
    for c in range(1, n_clusters):
        rand_vals = random_state.uniform(size=n_local_trials) * current_pot
        candidates = np.searchsorted(np.cumsum(sample_weight * closest), rand_vals)
        np.clip(candidates, None, n_samples - 1, out=candidates)
        for t, index in enumerate(candidates):
            _distances_to(XT, index, x_squared_norms, candidate_distances[t])
        np.minimum(closest, candidate_distances, out=candidate_distances)
        pots = candidate_distances @ sample_weight
        best = np.argmin(pots)
        current_pot, closest = pots[best], candidate_distances[best].copy()
        indices[c] = candidates[best]
    return indices


def _choice(p, random_state):
    """``random_state.choice(len(p), p=p)`` for valid ``p``: the same draw, without its checks."""
    cdf = np.cumsum(p)
    cdf /= cdf[-1]
    return int(cdf.searchsorted(random_state.random_sample(), side="right"))


def kmeans_labels(X, sample_weight, n_clusters, random_state, max_iter=300, tol=1e-4):
    """Cluster labels of scikit-learn's ``KMeans(n_clusters, n_init=1).fit(X, sample_weight)``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float64
    sample_weight : ndarray of shape (n_samples,) or None
    n_clusters : int
    random_state : numpy.random.RandomState
        Advanced exactly as scikit-learn advances it.
    max_iter, tol : as ``KMeans``

    Returns
    -------
    ndarray of shape (n_samples,), int32
    """
    w = np.ones(X.shape[0]) if sample_weight is None else np.ascontiguousarray(sample_weight, dtype=np.float64)
    XT, x_squared_norms, variances = _centred(np.ascontiguousarray(X, dtype=np.float64))
    tol = float(np.mean(variances) * tol) if tol else 0.0
    indices = kmeans_plusplus(XT, n_clusters, x_squared_norms, w, random_state)
    labels = _lloyd(XT, w, np.ascontiguousarray(XT[:, indices].T), max_iter, tol)
    found = np.unique(labels).size
    if found < n_clusters:
        from sklearn.exceptions import ConvergenceWarning

        warnings.warn(f"Number of distinct clusters ({found}) found smaller than n_clusters ({n_clusters}). "
                      "Possibly due to duplicate points in X.", ConvergenceWarning, stacklevel=3)
    return labels


def _lloyd(XT, w, centers, max_iter, tol):
    """scikit-learn's ``_kmeans_single_lloyd`` from ``centers``: the final labels."""
    from sklearn.cluster._k_means_common import _relocate_empty_clusters_dense

    n_clusters = centers.shape[0]
    centers_new = np.zeros_like(centers)
    labels = np.full(XT.shape[1], -1, dtype=np.int32)
    labels_old = labels.copy()
    weight_in_clusters, shift = np.zeros(n_clusters), np.zeros(n_clusters)
    strict_convergence = False
    for _ in range(max_iter):
        _assign_all(XT, centers, labels)
        _accumulate(XT, w, labels, centers_new, weight_in_clusters)
        if np.any(weight_in_clusters == 0):  # rare: scikit-learn's own relocation keeps its choices
            _relocate_empty_clusters_dense(np.ascontiguousarray(XT.T), w, centers, centers_new, weight_in_clusters,
                                           labels)
        _average_and_shift(centers, centers_new, weight_in_clusters, shift)
        centers, centers_new = centers_new, centers
        if np.array_equal(labels, labels_old):
            strict_convergence = True
            break
        if (shift ** 2).sum() <= tol:
            break
        labels_old[:] = labels
    if not strict_convergence:  # labels that match the final centres
        _assign_all(XT, centers, labels)
    return labels


def _centred(X):
    """:func:`_centre`, except for one feature: numpy then sums the contiguous column pairwise,
    and only numpy's own reductions give its bits."""
    if X.shape[1] > 1:
        XT, variances = _centre(X)
        centred = np.ascontiguousarray(XT.T)  # scikit-learn's row norms: numpy's einsum on C-ordered rows
        return XT, np.einsum("ij,ij->i", centred, centred), variances
    centred = X - X.mean(axis=0)
    return np.ascontiguousarray(centred.T), np.einsum("ij,ij->i", centred, centred), np.var(X, axis=0)


def _assign_all(XT, centers, labels):
    """Nearest centre of every sample, the blocks shared out over this process's threads."""
    centers_sq = _squared_norms(centers)
    share_blocks(lambda start, stop: _assign(XT, centers, centers_sq, labels, start, stop), -(-XT.shape[1] // BLOCK),
                 min_blocks_per_thread=128)  # about 1 us per block: threads pay from 32k samples


def _squared_norms(centers):
    return np.einsum("ij,ij->i", centers, centers)
