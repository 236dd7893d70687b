"""Scores of a segmentation against ground truth: pair counting, information, matched accuracy.

Every score compares two label maps of the same shape, ``truth`` and ``labels``, and depends only
on which pixels share a label, never on the label values themselves (a segmentation with its
labels permuted scores the same). All scores are computed from the contingency table of the two
maps, so they cost one pass over the pixels, never a loop over the ``n (n - 1) / 2`` pixel pairs.

For the Berkeley Segmentation Dataset, where each image has several human annotations, the
probabilistic Rand index (Unnikrishnan, Pantofaru & Hebert, 2007) and the mean / best over
annotators of any other score are provided.

Units: the variation of information is returned in **nats** (natural logarithm) by default, the
unit of the ELBO elsewhere in this package; pass ``unit="bits"`` for base-2 logarithms (the unit
of :func:`skimage.metrics.variation_of_information`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = [
    "adjusted_rand_index",
    "best_over_annotators",
    "check_label_pair",
    "contingency_table",
    "matched_accuracy",
    "mean_over_annotators",
    "per_annotator",
    "probabilistic_rand_index",
    "rand_index",
    "variation_of_information",
    "vi_split",
]

_VI_UNITS = ("nats", "bits")


# --------------------------------------------------------------------------------- input checks


def _as_label_map(labels, name):
    labels = np.asarray(labels)
    if labels.dtype.kind not in "biu":
        raise ValueError(
            f"{name} must hold integer labels, got dtype {labels.dtype}; "
            "convert label maps with .astype(int) only if their values are whole numbers."
        )
    if labels.size == 0:
        raise ValueError(f"{name} is empty; a label map needs at least one pixel.")
    return labels


def check_label_pair(truth, labels):
    """Validate two label maps for comparison and return them flattened.

    Parameters
    ----------
    truth, labels : array-like of int, any shape (typically (H, W))
        Reference and predicted label maps. Label values are arbitrary integers.

    Returns
    -------
    truth, labels : ndarray of shape (n_pixels,)

    Raises
    ------
    ValueError
        If a map is not of an integer (or bool) dtype, is empty, or the shapes differ.
    """
    truth = _as_label_map(truth, "truth")
    labels = _as_label_map(labels, "labels")
    if truth.shape != labels.shape:
        raise ValueError(
            f"truth and labels must have the same shape, got {truth.shape} and {labels.shape}."
        )
    return truth.ravel(), labels.ravel()


def _check_annotations(annotations, labels):
    if isinstance(annotations, np.ndarray) and annotations.ndim == np.ndim(labels):
        raise ValueError(
            f"annotations must be a sequence of label maps, got one array of shape "
            f"{np.shape(annotations)}; pass [truth] for a single annotator."
        )
    annotations = list(annotations)
    if not annotations:
        raise ValueError("annotations is empty; need at least one ground-truth label map.")
    return annotations


# -------------------------------------------------------------------------------- pair counting


def contingency_table(truth, labels, n_truth=None, n_labels=None) -> np.ndarray:
    """Counts of pixels per (truth label, predicted label): the one contingency table of the package.

    Parameters
    ----------
    truth, labels : array-like of int, same shape
    n_truth, n_labels : int, optional
        Numbers of rows and columns when the labels are non-negative (default: largest + 1), so
        that labels absent from a map still get their row or column.

    Returns
    -------
    table : ndarray of shape (n_truth, n_labels), int64
        For non-negative labels, ``table[i, j]`` counts the pixels with truth ``i`` and label ``j``
        (indexed by value, so a relabelling can be read off it). A map with negative labels is
        first renumbered by its sorted distinct values. Dense: meant for the tens of segments of
        a segmentation.
    """
    truth, labels = check_label_pair(truth, labels)
    truth, n_truth = _label_indices(truth, n_truth, "truth")
    labels, n_labels = _label_indices(labels, n_labels, "labels")
    counts = np.bincount(truth * n_labels + labels, minlength=n_truth * n_labels)
    return counts.reshape(n_truth, n_labels).astype(np.int64)


def _label_indices(labels, n, name):
    """Labels as row/column indices 0..n-1 (by value when non-negative, else by rank)."""
    if labels.min() < 0:
        if n is not None:
            raise ValueError(f"{name} has negative labels, so the number of labels cannot be given")
        values, labels = np.unique(labels, return_inverse=True)
        return labels.astype(np.intp), values.size
    labels = labels.astype(np.intp)
    largest = int(labels.max()) + 1
    if n is not None and largest > n:
        raise ValueError(f"{name} has the label {largest - 1}, not below the given number of labels {n}")
    return labels, largest if n is None else int(n)


def rand_index(truth, labels) -> float:
    """Rand index: the fraction of pixel pairs on which the two maps agree.

    A pair agrees when both maps put its two pixels in the same segment or both put them in
    different segments. 1 for identical partitions; not corrected for chance (see
    :func:`adjusted_rand_index`). Computed by :func:`sklearn.metrics.rand_score` from the
    contingency table.

    Parameters
    ----------
    truth, labels : array-like of int, same shape

    Returns
    -------
    float in [0, 1]
    """
    from sklearn.metrics import rand_score

    truth, labels = check_label_pair(truth, labels)
    return float(rand_score(truth, labels))


def adjusted_rand_index(truth, labels) -> float:
    """Adjusted Rand index (Hubert & Arabie, 1985): the Rand index corrected for chance.

    1 for identical partitions, about 0 for independent ones, can be negative. Computed by
    :func:`sklearn.metrics.adjusted_rand_score`.

    Returns
    -------
    float in [-0.5, 1]
    """
    truth, labels = check_label_pair(truth, labels)
    from sklearn.metrics import adjusted_rand_score

    return float(adjusted_rand_score(truth, labels))


# ---------------------------------------------------------------------------------- information


def _unit_factor(unit):
    if unit not in _VI_UNITS:
        raise ValueError(f"unit must be one of {_VI_UNITS}, got {unit!r}.")
    # scikit-image works in bits (log2); one bit is ln 2 nats.
    return math.log(2.0) if unit == "nats" else 1.0


def vi_split(truth, labels, *, unit="nats"):
    """The two conditional entropies that make up the variation of information.

    Parameters
    ----------
    truth, labels : array-like of int, same shape
    unit : {'nats', 'bits'}

    Returns
    -------
    over, under : float
        ``over = H(labels | truth)`` (false splits: over-segmentation) and
        ``under = H(truth | labels)`` (false merges: under-segmentation).
    """
    factor = _unit_factor(unit)
    truth, labels = check_label_pair(truth, labels)
    # Our own table (relabelled by np.unique) rather than skimage's, which indexes a sparse
    # array by the raw label values and so rejects negative labels. skimage still checks the
    # images' shapes when given a table, so they are passed too (and otherwise ignored).
    from scipy import sparse
    from skimage.metrics import variation_of_information as _skimage_vi
    from sklearn.metrics.cluster import contingency_matrix

    joint = sparse.csr_array(contingency_matrix(truth, labels, sparse=True) / truth.size)
    over, under = _skimage_vi(truth, labels, table=joint)
    return float(over) * factor, float(under) * factor


def variation_of_information(truth, labels, *, unit="nats") -> float:
    """Variation of information (Meila, 2007): ``H(truth | labels) + H(labels | truth)``.

    A distance between partitions: 0 for identical ones, at most ``log(n_pixels)``.

    Parameters
    ----------
    truth, labels : array-like of int, same shape
    unit : {'nats', 'bits'}
        Natural (default) or base-2 logarithm.

    Returns
    -------
    float >= 0 (lower is better)
    """
    over, under = vi_split(truth, labels, unit=unit)
    return over + under


# --------------------------------------------------------------- accuracy after matching labels


def matched_accuracy(truth, labels) -> float:
    """Pixel accuracy after the best one-to-one matching of predicted to true labels.

    The matching maximises the number of correctly labelled pixels (Hungarian algorithm,
    :func:`scipy.optimize.linear_sum_assignment` on the contingency table). With different
    numbers of labels the surplus ones on either side stay unmatched and their pixels count
    as errors.

    Returns
    -------
    float in [0, 1]
    """
    table = contingency_table(truth, labels)
    rows, cols = linear_sum_assignment(table, maximize=True)
    return float(table[rows, cols].sum() / table.sum())


# -------------------------------------------------------------------- several annotators (BSDS)

Metric = Callable[[np.ndarray, np.ndarray], float]

#: Direction of each score, for picking the best annotator.
GREATER_IS_BETTER: dict[Metric, bool] = {
    rand_index: True,
    adjusted_rand_index: True,
    matched_accuracy: True,
    variation_of_information: False,
}


def per_annotator(metric: Metric, annotations: Sequence, labels) -> np.ndarray:
    """Score ``labels`` against each ground truth in turn.

    Parameters
    ----------
    metric : callable ``metric(truth, labels) -> float``
    annotations : sequence of label maps, each of the shape of ``labels``
    labels : array-like of int

    Returns
    -------
    ndarray of shape (n_annotators,), float64
    """
    annotations = _check_annotations(annotations, labels)
    return np.array([metric(truth, labels) for truth in annotations], dtype=np.float64)


def mean_over_annotators(metric: Metric, annotations: Sequence, labels) -> float:
    """Mean of ``metric`` over the annotators (the usual BSDS summary for VI and ARI)."""
    return float(per_annotator(metric, annotations, labels).mean())


def best_over_annotators(
    metric: Metric, annotations: Sequence, labels, *, greater_is_better: bool | None = None
) -> float:
    """Best value of ``metric`` over the annotators.

    ``greater_is_better`` defaults to the direction recorded in :data:`GREATER_IS_BETTER` for the
    scores of this module; it must be given for any other metric.
    """
    if greater_is_better is None:
        if metric not in GREATER_IS_BETTER:
            raise ValueError(
                f"greater_is_better is unknown for {getattr(metric, '__name__', metric)!r}; pass it."
            )
        greater_is_better = GREATER_IS_BETTER[metric]
    scores = per_annotator(metric, annotations, labels)
    return float(scores.max() if greater_is_better else scores.min())


def probabilistic_rand_index(annotations: Sequence, labels) -> float:
    """Probabilistic Rand index (Unnikrishnan, Pantofaru & Hebert, 2007).

    With ``p_ij`` the fraction of annotators that put pixels ``i`` and ``j`` in the same segment
    and ``c_ij`` whether ``labels`` does,

        PRI = mean over pairs i < j of  c_ij p_ij + (1 - c_ij)(1 - p_ij).

    The summand is linear in ``p_ij``, so the PRI equals the mean over annotators of the Rand
    index, each computed from its contingency table: the pairs are never enumerated.

    Parameters
    ----------
    annotations : sequence of label maps (n_annotators of them), each of the shape of ``labels``
    labels : array-like of int

    Returns
    -------
    float in [0, 1]
    """
    return mean_over_annotators(rand_index, annotations, labels)
