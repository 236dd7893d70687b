"""``theta``, a full-covariance mixture as one unconstrained vector (see :mod:`gmm.gradient`):
its length, :func:`pack` and :func:`unpack`, and the way to and from ``GaussianMixture``.
"""

from __future__ import annotations

import numpy as np


def n_parameters(n_components: int, n_features: int) -> int:
    """Length of ``theta``: ``K (1 + d + d (d + 1) / 2)``."""
    return n_components * (1 + n_features + n_features * (n_features + 1) // 2)


def pack(weights, means, precisions) -> np.ndarray:
    """``theta`` from a mixture's weights (K,), means (K, d) and precision matrices (K, d, d).

    The factor is the lower Cholesky factor of each precision matrix (the one with a positive
    diagonal, so the map is one-to-one); ``GaussianMixture.precisions_`` can be passed as is.
    Returns an ndarray of shape (n_parameters(K, d),).
    """
    weights, means = np.asarray(weights, dtype=np.float64), np.asarray(means, dtype=np.float64)
    factors = np.linalg.cholesky(np.asarray(precisions, dtype=np.float64))
    n_components, n_features = means.shape
    rows, cols = np.tril_indices(n_features)
    triangles = factors[:, rows, cols]
    on_diagonal = rows == cols
    triangles[:, on_diagonal] = np.log(triangles[:, on_diagonal])
    logits = np.log(weights) - np.log(weights).mean()  # the flat direction's centred representative
    return np.concatenate([logits, means.ravel(), triangles.ravel()])


def unpack(theta, n_components: int, n_features: int):
    """Inverse of :func:`pack`.

    Returns
    -------
    weights : ndarray of shape (K,)
    means : ndarray of shape (K, d)
    factors : ndarray of shape (K, d, d)
        Lower-triangular ``L_k`` with ``P_k = L_k L_k^T``.
    """
    theta = np.asarray(theta, dtype=np.float64)
    if theta.shape != (n_parameters(n_components, n_features),):
        raise ValueError(f"theta must have shape ({n_parameters(n_components, n_features)},) for "
                         f"K={n_components}, d={n_features}; got {theta.shape}")
    logits = theta[:n_components]
    weights = np.exp(logits - logits.max())
    weights /= weights.sum()
    split = n_components * (1 + n_features)
    means = theta[n_components:split].reshape(n_components, n_features)
    rows, cols = np.tril_indices(n_features)
    triangles = theta[split:].reshape(n_components, rows.size).copy()
    on_diagonal = rows == cols
    triangles[:, on_diagonal] = np.exp(triangles[:, on_diagonal])
    factors = np.zeros((n_components, n_features, n_features))
    factors[:, rows, cols] = triangles
    return weights, means, factors


def to_mixture_parameters(theta, n_components: int, n_features: int) -> dict:
    """``theta`` as ``GaussianMixture`` initial parameters: ``weights_init``, ``means_init``,
    ``precisions_init`` (full), so that ``GaussianMixture(K, **to_mixture_parameters(...))``
    starts from it (and ``max_iter=0`` scores it)."""
    weights, means, factors = unpack(theta, n_components, n_features)
    return {"weights_init": weights, "means_init": means,
            "precisions_init": np.einsum("kij,klj->kil", factors, factors)}


def from_mixture(model) -> np.ndarray:
    """``theta`` of a fitted full-covariance ``GaussianMixture`` (or scikit-learn's)."""
    if model.covariance_type != "full":
        raise ValueError(f"only covariance_type='full' is parametrised here, got {model.covariance_type!r}")
    return pack(model.weights_, model.means_, model.precisions_)
