"""How consistent and how accurate a clip's label maps are: flicker between frames, and scores
against the truth frame by frame and for the whole clip (one matching of labels to classes).
"""

from __future__ import annotations

import numpy as np


def label_flicker(previous, labels, previous_truth=None, truth=None) -> float:
    """Fraction of pixels whose label changes from one frame to the next where the truth does not.

    Parameters
    ----------
    previous, labels : ndarray of shape (H, W), int
        Label maps of two consecutive frames.
    previous_truth, truth : ndarray of shape (H, W), int, optional
        Their ground truth; without it every pixel counts.

    Returns
    -------
    float in [0, 1]; NaN when the truth changes at every pixel.
    """
    previous, labels = np.asarray(previous), np.asarray(labels)
    if previous.shape != labels.shape:
        raise ValueError(f"label maps of different shapes: {previous.shape} and {labels.shape}")
    changed = previous != labels
    if previous_truth is None and truth is None:
        return float(changed.mean())
    steady = np.asarray(previous_truth) == np.asarray(truth)
    if steady.shape != changed.shape:
        raise ValueError(f"truth maps must have the labels' shape {changed.shape}, got {steady.shape}")
    n_steady = int(np.count_nonzero(steady))
    return float(np.count_nonzero(changed & steady) / n_steady) if n_steady else float("nan")


class ClipScores:
    """Scores of a clip's label maps against its truth, added frame by frame.

    Per frame: accuracy after that frame's own best matching of labels to classes
    (:func:`gmm.metrics.matched_accuracy`, blind to renumbering between frames), the adjusted
    Rand index and the flicker (:func:`label_flicker`, from the second frame on). For the clip:
    the accuracy under one matching for all frames (from the summed contingency tables), which
    a label that changes meaning between frames pays for.

    Parameters
    ----------
    n_truth, n_labels : int
        Numbers of classes and of components.
    """

    def __init__(self, n_truth, n_labels):
        self.n_truth, self.n_labels = int(n_truth), int(n_labels)
        self.table = np.zeros((self.n_truth, self.n_labels), dtype=np.int64)
        self.accuracy, self.ari, self.flicker = [], [], []
        self._previous = None

    def add(self, truth, labels) -> None:
        """Score one more frame (truth and labels of shape (H, W))."""
        from scipy.optimize import linear_sum_assignment

        from gmm.metrics import adjusted_rand_index, contingency_table

        table = contingency_table(truth, labels, self.n_truth, self.n_labels)
        rows, cols = linear_sum_assignment(table, maximize=True)
        self.accuracy.append(float(table[rows, cols].sum() / table.sum()))
        self.ari.append(adjusted_rand_index(truth, labels))
        if self._previous is not None:
            self.flicker.append(label_flicker(self._previous[1], labels, self._previous[0], truth))
        self.table += table
        self._previous = (np.asarray(truth), np.asarray(labels))

    @property
    def clip_accuracy(self) -> float:
        """Accuracy of all frames under one matching of labels to classes (:meth:`class_of_label`)."""
        mapping = self.class_of_label()
        matched = np.flatnonzero(mapping < self.n_truth)
        return float(self.table[mapping[matched], matched].sum() / max(self.table.sum(), 1))

    def class_of_label(self) -> np.ndarray:
        """The clip's one matching: ``mapping[label]`` is a class, or ``n_truth + i`` if unmatched.

        Returns
        -------
        ndarray of shape (n_labels,), int: ``mapping[labels]`` draws labels in class colours.
        """
        from scipy.optimize import linear_sum_assignment

        classes, labels = linear_sum_assignment(self.table, maximize=True)
        mapping = np.full(self.n_labels, -1, dtype=np.intp)
        mapping[labels] = classes
        unmatched = np.flatnonzero(mapping < 0)
        mapping[unmatched] = self.n_truth + np.arange(unmatched.size)
        return mapping
