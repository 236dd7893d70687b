"""gmm: image segmentation by Gaussian mixture models.

The reference implementation for Donovan & Pronin (2024): exact EM with the ELBO recorded per
iteration (:class:`GaussianMixture`, :mod:`gmm.history`) and an exact fast path for images that
fits on distinct pixel values weighted by their counts (:func:`fit_image`), on which
:func:`segment` builds image segmentation with canonical component order.

The names below are imported on first use, so ``import gmm`` is quick and pulls in neither
scikit-learn nor matplotlib. ``gmm.load_image(path_or_array)`` is the one image reader;
``gmm.data.load_image(name)`` reads a photo of the data registry with it.
"""

from importlib import import_module

__version__ = "0.1.0"

#: Public name -> module that defines it.
_EXPORTS = {
    "ComponentCollapseWarning": "gmm.mixture",
    "GaussianMixture": "gmm.mixture",
    "DistinctPixels": "gmm.distinct",
    "ImageFit": "gmm.distinct",
    "distinct_pixels": "gmm.distinct",
    "fit_image": "gmm.distinct",
    "EMHistory": "gmm.history",
    "history_summary": "gmm.history",
    "load_image": "gmm.image",
    "align_labels": "gmm.labels",
    "canonical_order": "gmm.labels",
    "plot_history": "gmm.plotting",
    "load_image_and_mask": "gmm.masks",
    "apply_model": "gmm.model_io",
    "load_model": "gmm.model_io",
    "save_model": "gmm.model_io",
    "StudentTMixture": "gmm.student_t",
    "SpatialGaussianMixture": "gmm.spatial",
    "grid_features": "gmm.spatial",
    "select_n_components": "gmm.model_selection",
    "connected_regions": "gmm.regions",
    "VideoSegmenter": "gmm.video",
    "segment_video": "gmm.video",
    "SegmentationResult": "gmm.segmentation",
    "segment": "gmm.segmentation",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'gmm' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
