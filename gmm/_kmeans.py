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

import numpy as np

from gmm import _kmeans_kernels as kernels
from gmm._threads import block_parts, share_blocks

#: Blocks per thread below which the assignment stays on one thread (about 1 us a block: threads
#: pay from 32k samples), and the Lloyd step is one pass.
_MIN_BLOCKS_PER_THREAD = 128
#: Rows per block of :func:`_row_norms` (a multiple of 8: blocks keep the rows' 64-byte alignment).
_NORM_BLOCK = 1 << 13


def kmeans_plusplus(XT, n_clusters, x_squared_norms, sample_weight, random_state):
    """Greedy k-means++ seeds of centred float64 data ``XT`` (d, n): indices of the seeds (K,)."""
    n_samples = XT.shape[1]
    n_local_trials = 2 + int(np.log(n_clusters))
    indices = np.full(n_clusters, -1, dtype=int)
    indices[0] = _choice(sample_weight / sample_weight.sum(), random_state)
    closest = np.empty(n_samples)
    kernels.distances_to(XT, indices[0], x_squared_norms, closest)
    current_pot = closest @ sample_weight
    candidate_distances, cumulative = np.empty((n_local_trials, n_samples)), np.empty(n_samples)
    for c in range(1, n_clusters):
        rand_vals = random_state.uniform(size=n_local_trials) * current_pot
        np.multiply(sample_weight, closest, out=cumulative)  # in place: no temporaries of size n
        candidates = np.searchsorted(np.cumsum(cumulative, out=cumulative), rand_vals)
        np.clip(candidates, None, n_samples - 1, out=candidates)
        for t, index in enumerate(candidates):
            kernels.distances_to(XT, index, x_squared_norms, candidate_distances[t])
        np.minimum(closest, candidate_distances, out=candidate_distances)
        pots = candidate_distances @ sample_weight
        best = np.argmin(pots)
        current_pot = pots[best]
        closest[:] = candidate_distances[best]
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
    found = np.count_nonzero(np.bincount(labels, minlength=int(n_clusters)))
    if found < n_clusters:
        from sklearn.exceptions import ConvergenceWarning

        warnings.warn(f"Number of distinct clusters ({found}) found smaller than n_clusters ({n_clusters}). "
                      "Possibly due to duplicate points in X.", ConvergenceWarning, stacklevel=3)
    return labels


def _lloyd(XT, w, centers, max_iter, tol):
    """scikit-learn's ``_kmeans_single_lloyd`` from ``centers``: the final labels.

    Each step is one pass (:func:`gmm._kmeans_kernels.assign_and_accumulate`; for colours and
    2 to 4 clusters :func:`~gmm._kmeans_kernels.lloyd_step_colour`), or, where the samples are
    enough to share out, the assignment on threads and then the sums in order.
    """
    n_clusters, n_samples = centers.shape[0], XT.shape[1]
    centers_new = np.zeros_like(centers)
    labels = np.full(n_samples, -1, dtype=np.int32)
    weight_in_clusters, shift = np.zeros(n_clusters), np.zeros(n_clusters)
    colour = XT.shape[0] == 3 and 2 <= n_clusters <= 4  # one thread beats two on the general step
    one_pass = colour or len(block_parts(_n_blocks(n_samples), _MIN_BLOCKS_PER_THREAD)) == 1
    labels_old = None if one_pass else labels.copy()
    strict_convergence = False
    for _ in range(max_iter):
        if one_pass:
            step = kernels.lloyd_step_colour if colour else kernels.assign_and_accumulate
            changed = step(XT, w, centers, _squared_norms(centers), labels, centers_new, weight_in_clusters)
        else:
            _assign_all(XT, centers, labels)
            kernels.accumulate(XT, w, labels, centers_new, weight_in_clusters)
            changed = not np.array_equal(labels, labels_old)
            labels_old[:] = labels
        if np.any(weight_in_clusters == 0):  # rare: scikit-learn's own relocation keeps its choices
            from sklearn.cluster._k_means_common import _relocate_empty_clusters_dense

            _relocate_empty_clusters_dense(np.ascontiguousarray(XT.T), w, centers, centers_new, weight_in_clusters,
                                           labels)
        kernels.average_and_shift(centers, centers_new, weight_in_clusters, shift)
        centers, centers_new = centers_new, centers
        if not changed:
            strict_convergence = True
            break
        if (shift ** 2).sum() <= tol:
            break
    if not strict_convergence:  # labels that match the final centres
        _assign_all(XT, centers, labels)
    return labels


def _centred(X):
    """:func:`_centre`, except for one feature: numpy then sums the contiguous column pairwise,
    and only numpy's own reductions give its bits."""
    if X.shape[1] > 1:
        XT, variances = kernels.centre(X)
        return XT, _row_norms(XT), variances
    centred = X - X.mean(axis=0)
    return np.ascontiguousarray(centred.T), np.einsum("ij,ij->i", centred, centred), np.var(X, axis=0)


def _row_norms(XT, block=_NORM_BLOCK):
    """scikit-learn's squared row norms of ``XT.T``: numpy's ``einsum("ij,ij->i")`` on C-ordered
    rows, a block of rows at a time (each row's sum is its own), so that no copy of the whole
    data is made (a temporary of the data's size costs its page faults: 0.6 ms on the fox)."""
    n_features, n_samples = XT.shape
    norms, rows = np.empty(n_samples), np.empty((min(block, n_samples), n_features))
    for start in range(0, n_samples, block):
        stop = min(start + block, n_samples)
        part = rows[: stop - start]
        part[...] = XT[:, start:stop].T
        np.einsum("ij,ij->i", part, part, out=norms[start:stop])
    return norms


def _assign_all(XT, centers, labels):
    """Nearest centre of every sample, the blocks shared out over this process's threads."""
    centers_sq = _squared_norms(centers)
    share_blocks(lambda start, stop: kernels.assign(XT, centers, centers_sq, labels, start, stop),
                 _n_blocks(XT.shape[1]), _MIN_BLOCKS_PER_THREAD)


def _n_blocks(n_samples):
    return -(-n_samples // kernels.BLOCK)


def _squared_norms(centers):
    return np.einsum("ij,ij->i", centers, centers)
