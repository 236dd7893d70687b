"""Computations on fitted segmentations that the notebooks report.

Kept out of the notebooks so that tests cover them: the checks of the paper's EM argument on a
fit's history, label switching between runs, grouping runs by optimum, and locating regions of
one component enclosed by another (the fox's nose inside the animal).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def history_summary(history) -> dict:
    """The checks of the paper's EM argument on one fit's :class:`gmm.history.EMHistory`.

    Returns
    -------
    dict with
    n_iter : iterations run.
    final_log_likelihood : mean log-likelihood after the last E-step.
    max_abs_kl_e_step : ``max |KL|`` right after an E-step (zero up to rounding).
    min_kl_m_step : smallest KL gap after an M-step (>= 0 up to rounding).
    min_m_step_gain : smallest ELBO rise of an M-step, ``elbo_m - elbo`` (>= 0).
    min_log_likelihood_step : smallest change of the log-likelihood between iterations
        (>= 0 when monotone; ``inf`` for a single iteration).
    monotone : whether no step lowered the log-likelihood by more than rounding (1e-10).
    """
    ll = np.asarray(history.log_likelihood, dtype=np.float64)
    steps = np.diff(ll)
    min_step = float(steps.min()) if steps.size else float("inf")
    return {
        "n_iter": int(history.n_iter),
        "final_log_likelihood": float(ll[-1]),
        "max_abs_kl_e_step": float(np.nanmax(np.abs(history.kl))),
        "min_kl_m_step": float(np.nanmin(history.kl_m)),
        "min_m_step_gain": float(np.nanmin(np.asarray(history.elbo_m) - np.asarray(history.elbo))),
        "min_log_likelihood_step": min_step,
        "monotone": bool(min_step >= -1e-10),
    }


def canonical_labels(labels, model, color_space: str = "rgb"):
    """``labels`` renumbered in :func:`gmm.labels.canonical_order` of ``model`` (mean luminance)."""
    from gmm.labels import canonical_order, inverse_permutation

    return inverse_permutation(canonical_order(model, color_space))[labels]


def label_flips(reference, label_maps, n_labels: int):
    """For each label map, whether its best match onto ``reference`` renumbers any label.

    A run whose Hungarian matching (:func:`gmm.labels.label_permutation`) to the reference is
    not the identity draws the same segments in different colours: the paper's label switching.

    Returns
    -------
    ndarray of bool, shape (len(label_maps),)
    """
    from gmm.labels import label_permutation

    identity = np.arange(n_labels)
    flips = [not np.array_equal(label_permutation(reference, labels, n_labels), identity) for labels in label_maps]
    return np.array(flips, dtype=bool)


def optimum_groups(log_likelihoods, decimals: int = 4):
    """Group runs by final log-likelihood rounded to ``decimals``: ``{value: count}``, best first."""
    values, counts = np.unique(np.round(np.asarray(log_likelihoods, dtype=np.float64), decimals), return_counts=True)
    return {float(v): int(c) for v, c in zip(values[::-1], counts[::-1])}


@dataclass(frozen=True)
class Region:
    """A connected region: its pixel count and bounding box (row and column slices)."""

    size: int
    rows: slice
    cols: slice

    def crop(self, margin: int, shape) -> tuple[slice, slice]:
        """The bounding box grown by ``margin`` pixels on each side, clipped to ``shape``."""
        return (slice(max(self.rows.start - margin, 0), min(self.rows.stop + margin, shape[0])),
                slice(max(self.cols.start - margin, 0), min(self.cols.stop + margin, shape[1])))

    @property
    def centre(self) -> tuple[int, int]:
        return (self.rows.start + self.rows.stop) // 2, (self.cols.start + self.cols.stop) // 2


def enclosed_regions(labels, outer: int, inner: int, min_size: int = 1) -> list[Region]:
    """Connected regions of label ``inner`` entirely enclosed by label ``outer``, largest first.

    E.g. ``outer`` = the animal, ``inner`` = the background: pixels inside the fox that the
    mixture gave to the background (its dark nose and eyes). Enclosed means inside a hole of
    the ``outer`` mask (scipy's ``binary_fill_holes``, 4-connected); ties in size are ordered
    by position (top to bottom, left to right), so the result is deterministic.
    """
    from scipy import ndimage as ndi

    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"labels must have shape (H, W), got {labels.shape}")
    mask = labels == outer
    holes = ndi.binary_fill_holes(mask) & (labels == inner)
    regions_map, n = ndi.label(holes)
    if n == 0:
        return []
    sizes = np.bincount(regions_map.ravel(), minlength=n + 1)[1:]
    boxes = ndi.find_objects(regions_map)
    regions = [Region(int(sizes[i]), boxes[i][0], boxes[i][1]) for i in range(n) if sizes[i] >= min_size]
    return sorted(regions, key=lambda r: (-r.size, r.rows.start, r.cols.start))


def component_log_densities(model, x):
    """``log pi_k + log N(x; mu_k, Sigma_k)`` for each component at the feature vectors ``x`` (n, d).

    The responsibilities are their softmax over k, so the largest term wins the pixel.
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    resp = model.predict_proba(x)
    log_norm = model.score_samples(x)
    return np.log(np.maximum(resp, np.finfo(float).tiny)) + log_norm[:, np.newaxis]


def mahalanobis(model, x):
    """Mahalanobis distance of feature vectors ``x`` (n, d) to each component: shape (n, K)."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    out = np.empty((x.shape[0], model.n_components))
    for k in range(model.n_components):
        cov = np.asarray(model.covariances_)
        cov_k = cov[k] if model.covariance_type == "full" else (
            cov if model.covariance_type == "tied" else np.diag(np.broadcast_to(cov[k], (x.shape[1],))))
        diff = x - model.means_[k]
        out[:, k] = np.sqrt(np.einsum("ij,ij->i", diff, np.linalg.solve(cov_k, diff.T).T))
    return out


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
