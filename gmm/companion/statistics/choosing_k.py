"""K read off a histogram, the authors' way, as a stated rule, and K from the Bayesian
information criterion on distinct values.
"""

from __future__ import annotations

import numpy as np


def histogram_peaks(counts, smoothing: float, prominence: float) -> np.ndarray:
    """Peaks of a histogram, as someone reading K off its plot would count them.

    The rule: take ``log(1 + count)`` (the histograms are read on a log scale, where the small
    modes of lines and players are visible next to the turf), smooth it with a Gaussian of
    ``smoothing`` bins (so the noise of single bins and the gaps of quantised values do not
    count), and keep the local maxima that rise at least ``prominence`` above the valleys around
    them (:func:`scipy.signal.find_peaks`; in log units, 1 means a factor e).

    Returns
    -------
    ndarray of int: the bins of the peaks, ascending.
    """
    from scipy.ndimage import gaussian_filter1d
    from scipy.signal import find_peaks

    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or np.any(counts < 0):
        raise ValueError("counts must be a 1-d array of non-negative counts")
    curve = np.log1p(counts)
    if smoothing > 0:
        curve = gaussian_filter1d(curve, smoothing, mode="constant")
    # Zero padding makes a peak in the first or last bin (white saturating at 255) count.
    peaks, _ = find_peaks(np.pad(curve, 1), prominence=prominence)
    return peaks - 1


def channel_histograms(image, color_space: str) -> np.ndarray:
    """256-bin histograms of an image: one row for grey, one row per channel for RGB."""
    from gmm.image import to_grey

    image = np.asarray(image)
    if color_space == "grey":
        channels = [to_grey(image) if image.ndim == 3 else image]
    elif color_space == "rgb":
        channels = [image[..., c] for c in range(3)]
    else:
        raise ValueError(f"color_space must be 'rgb' or 'grey', got {color_space!r}")
    return np.stack([np.bincount(np.asarray(c, dtype=np.uint8).ravel(), minlength=256) for c in channels])


def k_from_histogram(image, color_space: str, smoothing: float, prominence: float) -> int:
    """K read off the histograms: the most peaks any one channel shows (:func:`histogram_peaks`).

    For grey, the peaks of the grey-level histogram; for RGB, the largest number of peaks in one
    of the three overlaid channel histograms (a mode in one channel is a cluster of colours).
    At least 1.
    """
    histograms = channel_histograms(image, color_space)
    return max(1, max(len(histogram_peaks(h, smoothing, prominence)) for h in histograms))


def bic_curve(image, color_space: str, k_values, *, random_state=0, **gmm_params) -> np.ndarray:
    """BIC of a K-component mixture for each K, fitted on the image's distinct values.

    Each fit is EM on the distinct values weighted by their counts (:func:`gmm.fit_image`),
    from a k-means start with ``random_state``; the BIC is
    :meth:`gmm.GaussianMixture.bic` with the counts as sample weights, i.e. with n the number
    of pixels (lower is better).

    Returns
    -------
    ndarray of float, one BIC per K
    """
    from functools import partial

    from gmm.distinct import distinct_pixels, fit_image
    from gmm.image import to_features, to_grey

    data = to_grey(image) if color_space == "grey" else np.asarray(image)
    pixels = distinct_pixels(data)
    transform = partial(to_features, color_space=color_space)
    features = np.asarray(transform(pixels.values), dtype=np.float64)
    features = features[:, np.newaxis] if features.ndim == 1 else features
    bics = []
    for k in k_values:
        fit = fit_image(data, int(k), transform=transform, pixels=pixels, random_state=random_state, **gmm_params)
        bics.append(fit.model.bic(features, sample_weight=pixels.counts))
    return np.array(bics, dtype=np.float64)
