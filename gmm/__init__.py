"""gmm: image segmentation by Gaussian mixture models.

The reference implementation for Donovan & Pronin (2024): exact EM with the ELBO recorded per
iteration (:class:`GaussianMixture`, :mod:`gmm.history`) and an exact fast path for images that
fits on distinct pixel values weighted by their counts (:func:`fit_image`), on which
:func:`segment` builds image segmentation with canonical component order.

Note: ``gmm.load_image(path_or_array)`` reads any image file or array; ``gmm.data.load_image(name)``
loads a photo registered in the data registry by name.
"""

from gmm.distinct import DistinctPixels, ImageFit, distinct_pixels, fit_image
from gmm.history import EMHistory, plot_history
from gmm.image import load_image
from gmm.labels import align_labels, canonical_order
from gmm.mixture import ComponentCollapseWarning, GaussianMixture
from gmm.segmentation import SegmentationResult, segment

__all__ = [
    "ComponentCollapseWarning",
    "DistinctPixels",
    "EMHistory",
    "GaussianMixture",
    "ImageFit",
    "SegmentationResult",
    "align_labels",
    "canonical_order",
    "distinct_pixels",
    "fit_image",
    "load_image",
    "plot_history",
    "segment",
]

__version__ = "0.1.0"
