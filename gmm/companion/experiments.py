"""The notebooks' experiment helpers: sweeps and measurements they report.

Kept out of the notebooks so that tests cover them. They use the library; nothing in the library
uses them.
"""

from __future__ import annotations

import numpy as np


def optimum_groups(log_likelihoods, decimals: int = 4):
    """Group runs by final log-likelihood rounded to ``decimals``: ``{value: count}``, best first."""
    values, counts = np.unique(np.round(np.asarray(log_likelihoods, dtype=np.float64), decimals), return_counts=True)
    return {float(v): int(c) for v, c in zip(values[::-1], counts[::-1])}


def score_against_truth(image, truth, k_values, color_spaces=("rgb", "grey"), **segment_params) -> list[dict]:
    """Segment ``image`` for every K and colour space and score each against ``truth``.

    Parameters
    ----------
    image : ndarray (H, W, 3), uint8
    truth : ndarray (H, W), int
        Ground-truth classes (e.g. from :func:`gmm.data.football_frame`).
    k_values : iterable of int
    color_spaces : iterable of str
    **segment_params
        Passed to :func:`gmm.segmentation.segment` (``init``, ``random_state``, ``tol``, ...).

    Returns
    -------
    list of dict with keys ``color_space, n_components, ari, accuracy, n_iter``: the adjusted
    Rand index and the accuracy after the best one-to-one matching of labels to classes
    (:mod:`gmm.metrics`).
    """
    from gmm.metrics import adjusted_rand_index, matched_accuracy
    from gmm.segmentation import segment

    rows = []
    for k in k_values:
        for space in color_spaces:
            result = segment(image, int(k), space, **segment_params)
            rows.append({
                "color_space": space,
                "n_components": int(k),
                "ari": float(adjusted_rand_index(truth, result.labels)),
                "accuracy": float(matched_accuracy(truth, result.labels)),
                "n_iter": int(result.model.n_iter_),
            })
    return rows


def distinct_vs_pixels(image, n_components, *, seed=0, tol=1e-3, max_iter=100) -> dict:
    """Fit one mixture to an image twice, from the same start: on its distinct values weighted by
    their counts (:func:`gmm.fit_image`) and on every pixel. This measures the exactness of the
    distinct-value path, and its speed.

    The common start is the k-means initialisation computed on the distinct values (a
    ``max_iter=0`` fit), passed to both fits as explicit initial parameters.

    Returns
    -------
    dict with ``n_pixels``, ``n_distinct``, the largest absolute differences between the two fits'
    ``weights_``, ``means_`` and ``covariances_`` (``max_abs_d_weights``, ``max_abs_d_means``,
    ``max_abs_d_covariances``), ``d_lower_bound``, both iteration counts (``n_iter_distinct``,
    ``n_iter_pixels``), ``labels_agree`` (fraction of pixels with the same label) and the wall
    times ``seconds_distinct`` and ``seconds_pixels``.
    """
    import time
    import warnings

    from gmm.distinct import distinct_pixels, fit_image
    from gmm.mixture import GaussianMixture

    pixels = distinct_pixels(image)
    values = pixels.values.astype(np.float64)
    start = GaussianMixture(n_components, max_iter=0, random_state=seed).fit(values, sample_weight=pixels.counts)
    params = dict(tol=tol, max_iter=max_iter, weights_init=start.weights_, means_init=start.means_,
                  precisions_init=start.precisions_)
    began = time.perf_counter()
    distinct = fit_image(image, n_components, pixels=pixels, **params)
    seconds_distinct = time.perf_counter() - began
    X = np.asarray(image).reshape(pixels.n_pixels, -1).astype(np.float64)
    began = time.perf_counter()
    with warnings.catch_warnings():  # the same warnings, if any, were given by the first fit
        warnings.simplefilter("ignore")
        full = GaussianMixture(n_components, **params)
        labels = full.fit_predict(X).reshape(pixels.shape)
    seconds_pixels = time.perf_counter() - began
    a, b = distinct.model, full
    return {
        "n_pixels": pixels.n_pixels,
        "n_distinct": int(pixels.values.shape[0]),
        "max_abs_d_weights": float(np.abs(a.weights_ - b.weights_).max()),
        "max_abs_d_means": float(np.abs(a.means_ - b.means_).max()),
        "max_abs_d_covariances": float(np.abs(a.covariances_ - b.covariances_).max()),
        "d_lower_bound": float(a.lower_bound_ - b.lower_bound_),
        "n_iter_distinct": int(a.n_iter_),
        "n_iter_pixels": int(b.n_iter_),
        "labels_agree": float(np.mean(distinct.labels == labels)),
        "seconds_distinct": seconds_distinct,
        "seconds_pixels": seconds_pixels,
    }
