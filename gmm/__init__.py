"""gmm: image segmentation by Gaussian mixture models.

The reference implementation for Donovan & Pronin (2024): exact EM with the ELBO recorded per
iteration (:class:`GaussianMixture`, :mod:`gmm.history`) and an exact fast path for images that
fits on distinct pixel values weighted by their counts (:func:`fit_image`).
"""

from gmm.distinct import DistinctPixels, ImageFit, distinct_pixels, fit_image
from gmm.history import EMHistory, plot_history
from gmm.mixture import ComponentCollapseWarning, GaussianMixture

__all__ = [
    "ComponentCollapseWarning",
    "DistinctPixels",
    "EMHistory",
    "GaussianMixture",
    "ImageFit",
    "distinct_pixels",
    "fit_image",
    "plot_history",
]

__version__ = "0.1.0"
