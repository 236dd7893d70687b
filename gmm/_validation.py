"""Input checks: one clear error naming the problem, before any work is done.

Where ``sklearn.mixture.GaussianMixture`` checks the same thing, the message is scikit-learn's, so
code that matches messages works with either estimator. Hyper-parameters themselves are checked by
scikit-learn's own mechanism (``GaussianMixture._parameter_constraints``).
"""

from __future__ import annotations

import numbers
import os
import sys

import numpy as np
from sklearn.utils import check_array

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def external_stacklevel():
    """``stacklevel`` that makes a warning point at the first caller outside gmm and scikit-learn.

    Call it in the function that calls ``warnings.warn``. The estimator's methods call each other
    (and scikit-learn's ``_fit_context`` wraps ``fit_predict``) to a depth that depends on the
    entry point (``fit``, ``fit_predict``, ``gmm.fit_image``, ``gmm.segment``), so a fixed
    stacklevel would point inside the library for some of them.
    """
    import sklearn

    library = (_PACKAGE_DIR + os.sep, os.path.dirname(os.path.abspath(sklearn.__file__)) + os.sep)
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(library):
        frame, level = frame.f_back, level + 1
    return level


def validate_samples(estimator, X, *, reset, ensure_min_samples=1):
    """scikit-learn's ``validate_data(estimator, X, dtype=[float64, float32], ...)``, with a fast path.

    For the common input, a plain finite float64 or float32 array of shape (n, d) with enough rows,
    it does what ``validate_data`` does (returns ``X`` itself, sets ``n_features_in_`` and drops a
    ``feature_names_in_`` on ``reset``) in a few microseconds instead of about 60 (``check_array``
    looks for dataframe libraries, reads the estimator's tags, ...): a tenth of a grey photo's
    whole fit. Any other input, and every failure, goes to ``validate_data``, so that results,
    warnings and error messages are scikit-learn's.
    """
    from sklearn.utils.validation import validate_data

    fast = (type(X) is np.ndarray and X.ndim == 2 and X.dtype in (np.float64, np.float32)
            and X.shape[0] >= ensure_min_samples and X.shape[1] >= 1 and np.isfinite(X.sum()))
    if fast and reset:
        if hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
        estimator.n_features_in_ = X.shape[1]
        return X
    if fast and not hasattr(estimator, "feature_names_in_") and getattr(estimator, "n_features_in_", None) == X.shape[1]:
        return X
    return validate_data(estimator, X, dtype=[np.float64, np.float32], reset=reset,
                         ensure_min_samples=ensure_min_samples)


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


def check_n_samples(n_samples, sample_weight, n_components):
    """Refuse fewer samples than components, in scikit-learn's words.

    A weight is a number of repeated rows, so a zero-weighted row is no sample. Fewer *distinct*
    samples than components is allowed, as in scikit-learn: the surplus components end with
    (nearly) zero weight, and k-means says so with its own warning.
    """
    support = n_samples if sample_weight is None else int(np.count_nonzero(sample_weight))
    if support < n_components:
        note = "" if sample_weight is None else " (rows with positive weight)"
        raise ValueError(
            "Expected n_samples >= n_components "
            f"but got n_components = {n_components}, n_samples = {support}{note}"
        )


def row_keys(X):
    """One opaque byte-string key per row of a 2-D array: equal rows, equal keys.

    Floats get ``+ 0.0`` first, which turns -0.0 into 0.0: they are equal numbers with different
    bytes.
    """
    if X.dtype.kind in "fc":
        X = X + 0.0
    X = np.ascontiguousarray(X)
    return X.view(np.dtype((np.void, X.dtype.itemsize * X.shape[1])))[:, 0]


def _check_shape(param, expected, name):
    if param.shape != expected:
        raise ValueError(f"The parameter '{name}' should have the shape of {expected}, but got {param.shape}")


def check_weights_init(weights, n_components):
    """``weights_init``: shape (K,), in [0, 1], summing to one (scikit-learn's checks)."""
    weights = check_array(weights, dtype=[np.float64, np.float32], ensure_2d=False)
    _check_shape(weights, (n_components,), "weights")
    if np.any(weights < 0.0) or np.any(weights > 1.0):
        raise ValueError(
            "The parameter 'weights' should be in the range [0, 1], but got max value "
            f"{np.max(weights):.5f}, min value {np.min(weights):.5f}"
        )
    atol = 1e-6 if weights.dtype == np.float32 else 1e-8
    if not np.allclose(abs(1.0 - float(np.sum(weights))), 0.0, atol=atol):
        raise ValueError(f"The parameter 'weights' should be normalized, but got sum(weights) = {np.sum(weights):.5f}")
    return weights.astype(np.float64)


def check_means_init(means, n_components, n_features):
    """``means_init``: finite, shape (K, d)."""
    means = check_array(means, dtype=[np.float64, np.float32], ensure_2d=False)
    _check_shape(means, (n_components, n_features), "means")
    return means.astype(np.float64)


def check_precisions_init(precisions, covariance_type, n_components, n_features):
    """``precisions_init``: the shape of ``covariance_type``, symmetric positive definite."""
    precisions = check_array(
        precisions, dtype=[np.float64, np.float32], ensure_2d=False, allow_nd=covariance_type == "full"
    )
    expected = {"full": (n_components, n_features, n_features), "tied": (n_features, n_features),
                "diag": (n_components, n_features), "spherical": (n_components,)}[covariance_type]
    _check_shape(precisions, expected, f"{covariance_type} precision")
    if covariance_type in ("full", "tied"):
        matrices = precisions if covariance_type == "full" else precisions[np.newaxis]
        for matrix in matrices:
            if not (np.allclose(matrix, matrix.T) and np.all(np.linalg.eigvalsh(matrix) > 0.0)):
                raise ValueError(f"'{covariance_type} precision' should be symmetric, positive-definite")
    elif np.any(precisions <= 0.0):
        raise ValueError(f"'{covariance_type} precision' should be positive")
    return precisions.astype(np.float64)


def check_initial_parameters(model, n_features):
    """Validated ``weights_init``, ``means_init`` and ``precisions_init`` (None where not given).

    The estimator's own parameters are left untouched (scikit-learn replaces them by the checked
    arrays); the checked copies are returned as float64, the precision EM works in.
    """
    K, cov = model.n_components, model.covariance_type
    return {
        "weights": None if model.weights_init is None else check_weights_init(model.weights_init, K),
        "means": None if model.means_init is None else check_means_init(model.means_init, K, n_features),
        "precisions": None if model.precisions_init is None
        else check_precisions_init(model.precisions_init, cov, K, n_features),
    }
