"""Initial responsibilities for EM: random, k-means, k-means++ or random points of the data.

Every function takes the sample weights, so initialising on distinct colours with their counts
is the weighted analogue of initialising on the pixels.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus

INIT_METHODS = ("kmeans", "k-means++", "random", "random_from_data")


def initial_responsibilities(X, sample_weight, n_components, method, random_state):
    """Responsibilities to start EM from, times the sample weights, component-first.

    Shape (n_components, n_samples), float64, C-contiguous: ``resp.T * sample_weight`` for the
    responsibilities ``resp`` (n_samples, n_components) of ``method`` (rows summing to one), the
    M-step's input. A one-hot start is written in that layout directly, bit for bit the same:
    ``1.0 * w`` is ``w``; the (n, K) array and its transpose would be two more temporaries of
    the data's size (page faults: a millisecond on the fox's 51k colours).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,) or None
    n_components : int
    method : {"kmeans", "k-means++", "random", "random_from_data"}
    random_state : numpy.random.RandomState
    """
    n_samples = X.shape[0]
    if method == "random":
        resp = random_state.uniform(size=(n_samples, n_components))
        resp /= resp.sum(axis=1)[:, np.newaxis]
        weighted = np.ascontiguousarray(resp.T)
        return weighted if sample_weight is None else np.multiply(weighted, sample_weight, out=weighted)
    weighted = np.zeros((n_components, n_samples))  # first, as scikit-learn: its errors come first
    if method == "kmeans":
        rows = kmeans_labels(X, sample_weight, n_components, random_state)
        columns = np.arange(n_samples)
    elif method == "k-means++":
        _, columns = kmeans_plusplus(X, n_components, random_state=random_state, sample_weight=sample_weight)
        rows = np.arange(n_components)
    elif method == "random_from_data":
        p = None if sample_weight is None else sample_weight / sample_weight.sum()
        columns = random_state.choice(n_samples, size=n_components, replace=False, p=p)
        rows = np.arange(n_components)
    else:
        raise ValueError(f"init_params must be one of {INIT_METHODS}, got {method!r}.")
    if sample_weight is None:
        weighted[rows, columns] = 1.0
    else:
        weighted[rows, columns] = sample_weight if method == "kmeans" else sample_weight[columns]
    return weighted


def kmeans_labels(X, sample_weight, n_clusters, random_state):
    """Labels of ``KMeans(n_clusters, n_init=1, random_state=random_state)`` on weighted ``X``.

    Float64 data with at least ``n_clusters`` samples runs :mod:`gmm._kmeans` (the same
    algorithm and random stream without scikit-learn's per-call overheads); anything else, or
    ``gmm._kernels.USE_NUMBA = False``, runs scikit-learn's ``KMeans`` itself. Either is called
    inside :func:`gmm._threads.single_threaded`, so the labels are the same on any machine.
    """
    from gmm import _kernels

    if _kernels.USE_NUMBA and X.dtype == np.float64 and X.shape[0] >= n_clusters:
        from gmm._kmeans import kmeans_labels as fast_kmeans_labels

        return fast_kmeans_labels(X, sample_weight, n_clusters, random_state)
    model = KMeans(n_clusters=n_clusters, n_init=1, random_state=random_state)
    return model.fit(X, sample_weight=sample_weight).labels_
