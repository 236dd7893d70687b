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

The modules: :mod:`~gmm.companion.statistics.intervals` (the intervals and the verdicts),
:mod:`~gmm.companion.statistics.scores` (per-object scores), :mod:`~gmm.companion.statistics.choosing_k`
and :mod:`~gmm.companion.statistics.timing` (the benchmark's numbers); every name is imported from
``gmm.companion.statistics``.
"""

from gmm.companion.statistics.choosing_k import bic_curve, channel_histograms, histogram_peaks, k_from_histogram
from gmm.companion.statistics.intervals import VERDICTS, PairedInterval, paired_interval, verdict_from_interval
from gmm.companion.statistics.scores import (boundary_f_measure, matched_classes, object_iou, predicted_classes,
                                             score_segmentation)
from gmm.companion.statistics.timing import hardware_summary, timing_numbers, timing_rows

__all__ = ["PairedInterval", "VERDICTS", "bic_curve", "boundary_f_measure", "channel_histograms", "hardware_summary",
           "histogram_peaks", "k_from_histogram", "matched_classes", "object_iou", "paired_interval",
           "predicted_classes", "score_segmentation", "timing_numbers", "timing_rows", "verdict_from_interval"]
