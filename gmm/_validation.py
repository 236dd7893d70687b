"""Input checks: one clear ``ValueError`` naming the problem, before any work is done."""

from __future__ import annotations

import numbers

import numpy as np

# Distinctness is first checked on a prefix of this many rows, so the common case (plenty of
# distinct points) costs nothing on large inputs; the full check runs only when the prefix fails.
_DISTINCT_PREFIX = 4096


def check_sample_weight(sample_weight, n_samples):
    """Validate sample weights: 1-D, finite, non-negative, not all zero.

    Returns
    -------
    ndarray of shape (n_samples,) float64, or None when ``sample_weight`` is None.
    """
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n_samples, float(sample_weight))
    weights = np.asarray(sample_weight)
    if weights.dtype.kind not in "biuf":
        raise ValueError(f"sample_weight must be numeric, got dtype {weights.dtype}.")
    weights = weights.astype(np.float64)
    if weights.ndim != 1 or weights.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight must have shape ({n_samples},) to match X, got {weights.shape}."
        )
    if not np.all(np.isfinite(weights)):
        raise ValueError("sample_weight contains NaN or infinity.")
    if np.any(weights < 0):
        raise ValueError("sample_weight contains negative values; weights must be >= 0.")
    if not np.any(weights > 0):
        raise ValueError("sample_weight is zero everywhere; at least one weight must be > 0.")
    return weights


def count_distinct_rows(X, limit=None):
    """Number of distinct rows of a 2-D array (stops early once ``limit`` is reached)."""
    if limit is not None and X.shape[0] > _DISTINCT_PREFIX:
        prefix = count_distinct_rows(X[:_DISTINCT_PREFIX])
        if prefix >= limit:
            return prefix
    return np.unique(row_keys(X)).shape[0]


def row_keys(X):
    """One opaque byte-string key per row of a 2-D array: equal rows, equal keys.

    Floats get ``+ 0.0`` first, which turns -0.0 into 0.0: they are equal numbers with different
    bytes.
    """
    if X.dtype.kind in "fc":
        X = X + 0.0
    X = np.ascontiguousarray(X)
    return X.view(np.dtype((np.void, X.dtype.itemsize * X.shape[1])))[:, 0]


def check_enough_distinct(X, sample_weight, n_components):
    """Refuse data with fewer distinct (positively weighted) points than components."""
    support = X if sample_weight is None else X[sample_weight > 0]
    if support.shape[0] < n_components:
        raise ValueError(
            f"Expected n_samples >= n_components but got n_components = {n_components}, "
            f"n_samples = {support.shape[0]} (with positive weight)."
        )
    distinct = count_distinct_rows(support, limit=n_components)
    if distinct < n_components:
        raise ValueError(
            f"X has only {distinct} distinct point(s) with positive weight, fewer than "
            f"n_components={n_components}: the mixture is not identifiable (too few distinct "
            "colours?). Lower n_components."
        )


def check_initial_parameters(model, n_features):
    """Validate ``weights_init``, ``means_init`` and ``precisions_init`` against the shapes."""
    K, cov = model.n_components, model.covariance_type  # an estimator with validated K and type
    out = {"weights": None, "means": None, "precisions": None}
    if model.weights_init is not None:
        w = np.asarray(model.weights_init, dtype=float)
        if w.shape != (K,) or np.any(w < 0) or not np.isclose(w.sum(), 1.0):
            raise ValueError(f"weights_init must have shape ({K},), be >= 0 and sum to 1; got {w}.")
        out["weights"] = w
    if model.means_init is not None:
        m = np.asarray(model.means_init, dtype=float)
        if m.shape != (K, n_features):
            raise ValueError(f"means_init must have shape ({K}, {n_features}), got {m.shape}.")
        if not np.all(np.isfinite(m)):
            raise ValueError("means_init contains NaN or infinity.")
        out["means"] = m
    if model.precisions_init is not None:
        p = np.asarray(model.precisions_init, dtype=float)
        expected = {"full": (K, n_features, n_features), "tied": (n_features, n_features),
                    "diag": (K, n_features), "spherical": (K,)}[cov]
        if p.shape != expected:
            raise ValueError(f"precisions_init for covariance_type={cov!r} must have shape {expected}, got {p.shape}.")
        matrices = p if cov == "full" else p[np.newaxis] if cov == "tied" else None
        if matrices is not None and not all(np.allclose(a, a.T) and np.all(np.linalg.eigvalsh(a) > 0) for a in matrices):
            raise ValueError("precisions_init must be symmetric positive definite.")
        if matrices is None and np.any(p <= 0):
            raise ValueError("precisions_init must be positive.")
        out["precisions"] = p
    return out
