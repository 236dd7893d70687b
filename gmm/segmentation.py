"""``segment``: an image in, a segmentation (labels, model, renderings) out.

With ``spatial_weight == 0`` (the paper's model: pixels are independent draws of a colour) the
mixture is fitted on the image's distinct colours weighted by their counts
(:func:`gmm.fit_image`), which is exactly EM on all pixels at a fraction of the cost. With
pixel coordinates as extra features every pixel is distinct, so EM runs on all H * W pixels:
each iteration then costs O(H W K d^2) instead of O(m K d^2) for m distinct colours (typically
m is 10-100 times smaller than H W for a photo, and at most 256 for grey).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np

from gmm import render
from gmm.image import (
    check_color_space,
    features_to_rgb,
    load_image,
    n_color_features,
    pixel_features,
    to_features,
    to_grey,
)
from gmm.labels import canonical_order, inverse_permutation, relabel_model

RENDER_KINDS = ("labels", "mean", "soft", "overlay")


@dataclass
class SegmentationResult:
    """A fitted segmentation of one image.

    Attributes
    ----------
    labels : ndarray of shape (H, W), uint8 when n_components <= 256 else int32
        Most probable component per pixel (hard clustering).
    model : gmm.GaussianMixture
        The fitted mixture (with ``history_``), in the features of ``color_space``.
    n_components : int
    color_space : str
    image : ndarray of shape (H, W, 3) or (H, W), uint8
        The input image (RGB even when fitted in grey, lab or hsv).
    spatial_weight : float
    """

    labels: np.ndarray
    model: object
    n_components: int
    color_space: str
    image: np.ndarray
    spatial_weight: float = 0.0
    _pixels: object = field(default=None, repr=False)
    _features: np.ndarray | None = field(default=None, repr=False)
    _mean_colors: np.ndarray | None = field(default=None, repr=False)

    def responsibilities(self, dtype=np.float32) -> np.ndarray:
        """Per-pixel responsibilities ``p(z = k | pixel)`` (soft clustering), shape (H, W, K), built on demand."""
        if self._pixels is not None:
            return self._pixels.expand(self.model.predict_proba(self._features).astype(dtype))
        features = pixel_features(self.image, self.color_space, self.spatial_weight)
        return self.model.predict_proba(features).astype(dtype).reshape(*self.labels.shape, -1)

    @property
    def mean_colors(self) -> np.ndarray:
        """Mean RGB colour of the pixels of each component, shape (K, 3), uint8.

        Computed from the input's RGB values whatever the colour space of the fit; a component
        that holds no pixel gets its model mean converted to RGB.
        """
        if self._mean_colors is None:
            means = render.label_mean_colors(self.labels, self.image, self.n_components)
            empty = np.isnan(means[:, 0])
            if empty.any():
                colour = self.model.means_[empty, : n_color_features(self.color_space)]
                means[empty] = features_to_rgb(colour, self.color_space)
            self._mean_colors = np.rint(means).astype(np.uint8)
        return self._mean_colors

    def canonical(self) -> "SegmentationResult":
        """The same segmentation with its components in :func:`gmm.labels.canonical_order`.

        For a result made with ``canonical=False`` (EM's own numbering, e.g. to show label
        switching): a copy of the model and labels, renumbered; ``self`` is unchanged.
        """
        order = canonical_order(self.model, self.color_space)
        return replace(self, labels=inverse_permutation(order)[self.labels].astype(self.labels.dtype),
                       model=relabel_model(self.model, order), _mean_colors=None)

    def component_masks(self) -> np.ndarray:
        """One boolean mask per component, shape (K, H, W)."""
        return self.labels[np.newaxis] == np.arange(self.n_components)[:, np.newaxis, np.newaxis]

    def render(self, kind: str = "labels") -> np.ndarray:
        """A picture of the segmentation, uint8 RGB of shape (H, W, 3).

        Parameters
        ----------
        kind : {'labels', 'mean', 'soft', 'overlay'}
            'labels': each component in its palette colour (red, green, blue, ...);
            'mean': each pixel the mean colour of its component; 'soft': palette colours
            mixed by the responsibilities (the paper's soft clustering); 'overlay': the
            boundaries between components drawn on the image.
        """
        palette = render.make_palette(self.n_components)
        if kind == "labels":
            return render.palette_image(self.labels, palette)
        if kind == "mean":
            return self.mean_colors[self.labels]
        if kind == "soft":
            return render.soft_image(self.responsibilities(), palette)
        if kind == "overlay":
            return render.boundary_overlay(self.image, self.labels)
        raise ValueError(f"kind must be one of {RENDER_KINDS}, got {kind!r}")


def _check_segment_arguments(image, color_space, spatial_weight, gmm_params):
    """Checks of what only ``segment`` knows; the estimator checks its own hyper-parameters."""
    if not isinstance(spatial_weight, numbers.Real) or not np.isfinite(spatial_weight) or spatial_weight < 0:
        raise ValueError(f"spatial_weight must be a finite number >= 0, got {spatial_weight!r}")
    clash = {"init_params", "n_components"} & set(gmm_params)
    if clash:
        raise ValueError(f"pass {sorted(clash)} through segment's own arguments (init, n_components)")
    if image.ndim == 2 and color_space != "grey":
        raise ValueError(f"the image is grey, so it can only be segmented with color_space='grey', not {color_space!r}")


def _label_dtype(n_components):
    return np.uint8 if n_components <= 256 else np.int32


def segment(image, n_components, color_space="rgb", init="kmeans", random_state=0, spatial_weight=0.0,
            canonical=True, **gmm_params) -> SegmentationResult:
    """Segment an image by fitting a Gaussian mixture to its pixel colours.

    Parameters
    ----------
    image : str, pathlib.Path or ndarray
        Anything :func:`gmm.image.load_image` accepts.
    n_components : int
        Number of segments K.
    color_space : {'rgb', 'grey', 'lab', 'hsv'}, default='rgb'
        Features the mixture is fitted on (:func:`gmm.image.to_features`). 'grey' fits the
        rounded uint8 BT.601 grey image: the paper's grey model, on at most 256 values.
    init : {'kmeans', 'random', 'k-means++', 'random_from_data'}, default='kmeans'
        The ``init_params`` of :class:`gmm.GaussianMixture`.
    random_state : int, RandomState or None, default=0
        Same seed, same labels, bit for bit.
    spatial_weight : float, default=0
        When > 0, the normalised pixel coordinates times this weight are appended to the
        features, and EM runs on every pixel (see the module docstring for the cost). With
        ``covariance_type='full'`` EM is affine-equivariant, so the weight changes only the
        k-means initialisation and the effect of ``reg_covar``, not the fixed points of EM.
    canonical : bool, default=True
        Number the components by :func:`gmm.labels.canonical_order` (mean luminance,
        ascending), so reruns reaching the same optimum give the same labels and colours.
    **gmm_params
        Passed to :class:`gmm.GaussianMixture` (``covariance_type``, ``tol``, ``max_iter``, ...).

    Returns
    -------
    SegmentationResult
    """
    from gmm.distinct import fit_image
    from gmm.mixture import GaussianMixture

    color_space = check_color_space(color_space)
    image = load_image(image)
    _check_segment_arguments(image, color_space, spatial_weight, gmm_params)
    params = dict(gmm_params, init_params=init, random_state=random_state)
    data = to_grey(image) if color_space == "grey" else image
    if spatial_weight == 0:
        fit = fit_image(data, n_components, transform=partial(to_features, color_space=color_space), **params)
        model, pixels, features, labels = fit.model, fit.pixels, fit.features, fit.labels
    else:
        features = pixel_features(data, color_space, spatial_weight)
        model, pixels = GaussianMixture(n_components, **params), None
        labels = model.fit_predict(features).reshape(image.shape[:2])
    if canonical:
        # Renumber the fitted model and its labels together: the same fit, in canonical order.
        order = canonical_order(model, color_space)
        model = relabel_model(model, order, copy=False)
        labels = inverse_permutation(order)[labels]
    return SegmentationResult(labels=labels.astype(_label_dtype(n_components), copy=False), model=model,
                              n_components=n_components, color_space=color_space, image=image,
                              spatial_weight=float(spatial_weight), _pixels=pixels,
                              _features=features if pixels is not None else None)
