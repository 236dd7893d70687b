"""Notebook 10's helpers: intervals over frames, per-object scores, choosing K, the paper's tables.

Kept out of the notebook so that tests cover them; nothing in the library uses them.

- :func:`paired_interval`: a confidence interval for the mean of paired differences (colour minus
  grey on the same frames), by Student's t or a seeded percentile bootstrap.
- :func:`matched_classes`, :func:`object_iou`, :func:`boundary_f_measure`, :func:`score_segmentation`:
  scores of one object (e.g. the players, 1 % of a football frame) next to the whole-image ARI,
  which the large classes dominate.
- :func:`histogram_peaks`, :func:`k_from_histogram`: K read off a histogram, the authors' way, as a
  stated rule; :func:`bic_curve`: K from the Bayesian information criterion on distinct values.
- :func:`timing_rows`, :func:`timing_numbers`, :func:`hardware_summary`: the benchmark's results as
  recorded numbers; :func:`verdict_from_interval`: a claim's verdict from an interval.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

#: The verdicts of the claims table.
VERDICTS = ("reproduced", "partly", "not reproduced", "open")


# ------------------------------------------------------------------------- paired intervals
@dataclass(frozen=True)
class PairedInterval:
    """Mean of paired differences ``a - b`` and its confidence interval."""

    mean: float
    low: float
    high: float
    n: int
    level: float
    method: str

    def excludes_zero(self) -> bool:
        """Whether the interval lies entirely on one side of zero."""
        return self.low > 0 or self.high < 0


def paired_interval(a, b, *, level=0.95, method="t", n_boot=10_000, seed=0) -> PairedInterval:
    """Confidence interval for the mean of the paired differences ``a - b``.

    Parameters
    ----------
    a, b : array-like of float, same length n >= 2
        Scores of two methods on the same units (frames); pairing removes the frames' own
        difficulty, which both methods share.
    level : float in (0, 1)
    method : {'t', 'bootstrap'}
        ``'t'``: Student's t interval, ``mean +- t_{n-1} * sd / sqrt(n)``. ``'bootstrap'``: the
        percentile interval of ``n_boot`` means of differences resampled with replacement.
    n_boot : int
    seed : int
        Seed of the bootstrap's resampling (unused by ``'t'``).

    Returns
    -------
    PairedInterval
    """
    from scipy import stats

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or a.size < 2:
        raise ValueError(f"a and b must be 1-d of the same length >= 2, got shapes {a.shape} and {b.shape}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    d = a - b
    mean = float(d.mean())
    if method == "t":
        half = float(stats.t.ppf(0.5 + level / 2, d.size - 1) * d.std(ddof=1) / math.sqrt(d.size))
        low, high = mean - half, mean + half
    elif method == "bootstrap":
        rng = np.random.default_rng(seed)
        means = d[rng.integers(0, d.size, size=(n_boot, d.size))].mean(axis=1)
        low, high = (float(q) for q in np.quantile(means, [0.5 - level / 2, 0.5 + level / 2]))
    else:
        raise ValueError(f"method must be 't' or 'bootstrap', got {method!r}")
    return PairedInterval(mean, float(low), float(high), int(d.size), float(level), method)


def verdict_from_interval(interval: PairedInterval, claimed_sign: int = 1) -> str:
    """A claim's verdict from the interval of (claimed better) - (claimed worse).

    ``'reproduced'`` when the interval lies on the claimed side of zero, ``'not reproduced'``
    when it lies on the other side, ``'open'`` when it contains zero (the data cannot tell).
    """
    if claimed_sign not in (1, -1):
        raise ValueError(f"claimed_sign must be 1 or -1, got {claimed_sign}")
    low, high = claimed_sign * interval.low, claimed_sign * interval.high
    low, high = min(low, high), max(low, high)
    if low > 0:
        return "reproduced"
    if high < 0:
        return "not reproduced"
    return "open"


# ------------------------------------------------------------------------ per-object scores
def matched_classes(truth, labels, n_classes: int) -> np.ndarray:
    """The class each component is matched to, one to one (Hungarian matching), or -1.

    The matching maximises the number of pixels whose component's class is their true class,
    as :func:`gmm.metrics.matched_accuracy` does; surplus components (or classes) stay unmatched.

    Returns
    -------
    ndarray of int, shape (n_labels,), with ``n_labels = labels.max() + 1``
    """
    from scipy.optimize import linear_sum_assignment

    from gmm.metrics import contingency_table

    table = contingency_table(truth, labels, n_truth=n_classes)  # rows: classes, columns: components
    rows, cols = linear_sum_assignment(table, maximize=True)
    mapping = np.full(table.shape[1], -1, dtype=np.intp)
    mapping[cols] = rows
    return mapping


def predicted_classes(truth, labels, n_classes: int) -> np.ndarray:
    """The label map renamed to the matched classes (:func:`matched_classes`); -1 where unmatched."""
    labels = np.asarray(labels)
    return matched_classes(truth, labels, n_classes)[labels]


def object_iou(truth, predicted, classes) -> float:
    """Intersection over union of one object, the union of ``classes``, in two class maps.

    Parameters
    ----------
    truth, predicted : ndarray of int, same shape
        True classes and predicted classes (e.g. :func:`predicted_classes`).
    classes : iterable of int
        The classes that make up the object (e.g. both teams for "players").

    Returns
    -------
    float in [0, 1]; NaN when the object is in neither map.
    """
    classes = list(classes)
    true_mask, pred_mask = np.isin(truth, classes), np.isin(predicted, classes)
    union = np.count_nonzero(true_mask | pred_mask)
    return float("nan") if union == 0 else np.count_nonzero(true_mask & pred_mask) / union


def boundary_f_measure(true_mask, pred_mask, tolerance: float = 2.0) -> float:
    """Boundary F-measure of a predicted object mask: how well its outline follows the true one.

    The outlines are the masks' inner boundary pixels (:func:`skimage.segmentation.find_boundaries`).
    Precision is the share of predicted boundary pixels within ``tolerance`` pixels (Euclidean) of
    a true boundary pixel, recall the share of true boundary pixels within ``tolerance`` of a
    predicted one; F is their harmonic mean (Martin, Fowlkes & Malik 2004, without their
    one-to-one matching, so it is cheap).

    Returns
    -------
    float in [0, 1]: 1 when neither mask has a boundary, 0 when only one has.
    """
    from scipy.ndimage import distance_transform_edt
    from skimage.segmentation import find_boundaries

    true_mask, pred_mask = np.asarray(true_mask, dtype=bool), np.asarray(pred_mask, dtype=bool)
    if true_mask.shape != pred_mask.shape or true_mask.ndim != 2:
        raise ValueError(f"masks must be 2-d of the same shape, got {true_mask.shape} and {pred_mask.shape}")
    true_b = find_boundaries(true_mask, mode="inner")
    pred_b = find_boundaries(pred_mask, mode="inner")
    if not true_b.any() and not pred_b.any():
        return 1.0
    if not true_b.any() or not pred_b.any():
        return 0.0
    # Distance from every pixel to the nearest boundary pixel of the other map.
    to_true = distance_transform_edt(~true_b)
    to_pred = distance_transform_edt(~pred_b)
    precision = float(np.mean(to_true[pred_b] <= tolerance))
    recall = float(np.mean(to_pred[true_b] <= tolerance))
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def score_segmentation(truth, labels, n_classes: int, objects: dict, tolerance: float = 2.0) -> dict:
    """Whole-image and per-object scores of one segmentation against its ground truth.

    Parameters
    ----------
    truth, labels : ndarray of int, shape (H, W)
    n_classes : int
        Number of true classes (``len(FOOTBALL_CLASSES)``).
    objects : dict of name -> list of int
        The objects to score separately, e.g. ``{"players": [TEAM_A, TEAM_B]}``.
    tolerance : float
        Of :func:`boundary_f_measure`, in pixels.

    Returns
    -------
    dict with ``ari``, ``vi_bits`` (variation of information, bits), ``accuracy`` (matched),
    and for each object ``iou_<name>`` and ``bf_<name>``, after one-to-one matching of the
    components to the classes (:func:`predicted_classes`).
    """
    from gmm.metrics import adjusted_rand_index, matched_accuracy, variation_of_information

    predicted = predicted_classes(truth, labels, n_classes)
    scores = {
        "ari": adjusted_rand_index(truth, labels),
        "vi_bits": variation_of_information(truth, labels, unit="bits"),
        "accuracy": matched_accuracy(truth, labels),
    }
    for name, classes in objects.items():
        scores[f"iou_{name}"] = object_iou(truth, predicted, classes)
        scores[f"bf_{name}"] = boundary_f_measure(np.isin(truth, classes), np.isin(predicted, classes), tolerance)
    return scores


# ------------------------------------------------------------------------------- choosing K
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


# ------------------------------------------------------------------------------ the tables
def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def timing_rows(bench: dict) -> list[dict]:
    """The rows of ``benchmarks/results/bench_vs_sklearn.json`` as table rows.

    Returns
    -------
    list of dict with ``key`` (a name for recorded numbers, e.g. ``fox_1920x1080_rgb_k3``),
    ``case``, ``colour``, ``k``, ``pixels``, ``distinct``, ``gmm_seconds``, ``sklearn_seconds``
    and ``speedup`` (scikit-learn's time over gmm's, as the benchmark computed it).
    """
    rows = []
    for row in bench["rows"]:
        case, colour = str(row["case"]), str(row["colour"])
        name = _slug(case) if colour in case.split() else f"{_slug(case)}_{colour}"
        rows.append({
            "key": f"{name}_k{int(row['k'])}",
            "case": case,
            "colour": colour,
            "k": int(row["k"]),
            "pixels": int(row["pixels"]),
            "distinct": int(row["distinct_values"]),
            "gmm_seconds": float(row["gmm"]["seconds"]),
            "sklearn_seconds": float(row["sklearn"]["seconds"]),
            "speedup": float(row["speedup"]),
        })
    keys = [r["key"] for r in rows]
    if len(set(keys)) != len(keys):
        raise ValueError(f"benchmark rows do not have distinct case/colour/K: {keys}")
    return rows


def _seconds(value: float) -> str:
    """Seconds to 2 significant digits, in plain notation (0.076, 3.1, 15, 90)."""
    return f"{float(f'{value:.2g}'):g}" if value < 10 else f"{value:.0f}"


def timing_numbers(rows: list[dict], prefix: str = "bench") -> dict:
    """Recordable numbers of :func:`timing_rows`: ``<prefix>_<key>_{speedup,gmm_s,sklearn_s,...}``.

    Speed-ups are rounded to whole numbers and times to 2 significant digits: they are the
    benchmark's recorded measurements, formatted, not remeasured.
    """
    numbers = {}
    for r in rows:
        base = f"{prefix}_{r['key']}"
        numbers[f"{base}_speedup"] = f"{r['speedup']:.0f}"
        numbers[f"{base}_gmm_s"] = _seconds(r["gmm_seconds"])
        numbers[f"{base}_sklearn_s"] = _seconds(r["sklearn_seconds"])
        numbers[f"{base}_pixels"] = f"{r['pixels'] / 1e6:.2f}"
        numbers[f"{base}_distinct"] = r["distinct"]
    speedups = [r["speedup"] for r in rows]
    numbers[f"{prefix}_min_speedup"] = f"{min(speedups):.0f}"
    numbers[f"{prefix}_max_speedup"] = f"{max(speedups):.0f}"
    numbers[f"{prefix}_n_cases"] = len(rows)
    return numbers


def hardware_summary(meta: dict) -> str:
    """The machine of a benchmark run in words, from its ``meta`` block."""
    parts = [str(meta.get("processor") or meta.get("machine", "unknown machine"))]
    if meta.get("cpus"):
        parts.append(f"{meta['cpus']} CPUs")
    versions = [f"{name} {meta[name]}" for name in ("python", "numpy", "scikit-learn") if meta.get(name)]
    return ", ".join(parts + versions)
