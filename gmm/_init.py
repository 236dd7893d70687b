"""Initial responsibilities for EM: random, k-means, k-means++ or random points of the data.

Every function takes the sample weights, so initialising on distinct colours with their counts
is the weighted analogue of initialising on the pixels.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus

INIT_METHODS = ("kmeans", "k-means++", "random", "random_from_data")


def initial_responsibilities(X, sample_weight, n_components, method, random_state):
    """Responsibilities to start EM from: shape (n_samples, n_components), rows sum to one.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,) or None
    n_components : int
    method : {"kmeans", "k-means++", "random", "random_from_data"}
    random_state : numpy.random.RandomState
    """
    n_samples = X.shape[0]
    resp = np.zeros((n_samples, n_components))
    if method == "kmeans":
        resp[np.arange(n_samples), kmeans_labels(X, sample_weight, n_components, random_state)] = 1
    elif method == "k-means++":
        _, indices = kmeans_plusplus(
            X, n_components, random_state=random_state, sample_weight=sample_weight
        )
        resp[indices, np.arange(n_components)] = 1
    elif method == "random":
        resp = random_state.uniform(size=(n_samples, n_components))
        resp /= resp.sum(axis=1)[:, np.newaxis]
    elif method == "random_from_data":
        p = None if sample_weight is None else sample_weight / sample_weight.sum()
        indices = random_state.choice(n_samples, size=n_components, replace=False, p=p)
        resp[indices, np.arange(n_components)] = 1
    else:
        raise ValueError(f"init_params must be one of {INIT_METHODS}, got {method!r}.")
    return resp


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
