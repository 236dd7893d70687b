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
