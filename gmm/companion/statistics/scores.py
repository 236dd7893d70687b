"""Scores of one object (e.g. the players, 1 % of a football frame) next to the whole-image
scores, which the large classes dominate.
"""

from __future__ import annotations

import numpy as np


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
