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
#: The label of a masked-out pixel ("none"): no component.
NO_LABEL = -1


@dataclass
class SegmentationResult:
    """A fitted segmentation of one image.

    Attributes
    ----------
    labels : ndarray of shape (H, W), uint8 when n_components <= 256 else int32
        Most probable component per pixel (hard clustering). With a ``mask``: int16 (int32
        when n_components > 32767), and ``NO_LABEL`` (-1), "none", on the masked-out pixels.
    model : gmm.GaussianMixture
        The fitted mixture (with ``history_``), in the features of ``color_space``.
    n_components : int
    color_space : str
    image : ndarray of shape (H, W, 3) or (H, W), uint8
        The input image (RGB even when fitted in grey, lab or hsv).
    spatial_weight : float
    mask : ndarray of shape (H, W), bool, or None
        True on the pixels that were fitted and labelled (see :mod:`gmm.masks`); None: all.
    smoothing : float
        The Potts beta of the fit (0: independent pixels, ``model`` is a GaussianMixture;
        > 0: ``model`` is a :class:`gmm.spatial.SpatialGaussianMixture`, fitted beta for "auto").
    selection : gmm.model_selection.ComponentSelection or None
        How K was chosen, for ``n_components="auto"``.
    """

    labels: np.ndarray
    model: object
    n_components: int
    color_space: str
    image: np.ndarray
    spatial_weight: float = 0.0
    mask: np.ndarray | None = None
    smoothing: float = 0.0
    selection: object = field(default=None, repr=False)
    _pixels: object = field(default=None, repr=False)
    _features: np.ndarray | None = field(default=None, repr=False)
    _mean_colors: np.ndarray | None = field(default=None, repr=False)

    def responsibilities(self, dtype=np.float32) -> np.ndarray:
        """Per-pixel responsibilities ``p(z = k | pixel)`` (soft clustering), shape (H, W, K), built on demand."""
        if hasattr(self.model, "beta_"):
            # Mean-field q under the fitted parameters and beta (gmm.spatial's predict_proba).
            grid = (self._pixels.expand(self._features) if self._pixels is not None else
                    pixel_features(self.image, self.color_space, self.spatial_weight).reshape(*self.labels.shape, -1))
            resp = self.model.predict_proba(grid).astype(dtype)
        elif self._pixels is not None:
            resp = self._pixels.expand(self.model.predict_proba(self._features).astype(dtype))
        else:
            features = pixel_features(self.image, self.color_space, self.spatial_weight)
            resp = self.model.predict_proba(features).astype(dtype).reshape(*self.labels.shape, -1)
        if self.mask is not None:
            resp[~self.mask] = 0  # a masked-out pixel belongs to no component
        return resp

    @property
    def mean_colors(self) -> np.ndarray:
        """Mean RGB colour of the pixels of each component, shape (K, 3), uint8.

        Computed from the input's RGB values whatever the colour space of the fit; a component
        that holds no pixel gets its model mean converted to RGB.
        """
        if self._mean_colors is None:
            labels, image = self.labels, self.image
            if self.mask is not None:  # the used pixels, as a one-row image
                labels, image = labels[self.mask][np.newaxis], image[self.mask][np.newaxis]
            means = render.label_mean_colors(labels, image, self.n_components)
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
        labels = inverse_permutation(order)[self.labels].astype(self.labels.dtype)
        if self.mask is not None:
            labels[~self.mask] = NO_LABEL
        return replace(self, labels=labels,
                       model=relabel_model(self.model, order), _mean_colors=None)

    def component_masks(self) -> np.ndarray:
        """One boolean mask per component, shape (K, H, W)."""
        return self.labels[np.newaxis] == np.arange(self.n_components)[:, np.newaxis, np.newaxis]

    def regions(self, min_size: int = 1, connectivity: int = 4) -> np.ndarray:
        """Connected regions of the label map, those under ``min_size`` pixels merged into a neighbour.

        An int32 label image numbered 1..R (:func:`gmm.regions.connected_regions`), which
        scikit-image and the BSDS500 tools read; a component is a colour class, a region one
        connected piece of it.
        """
        from gmm.regions import connected_regions

        if self.mask is not None:
            raise ValueError("regions() needs every pixel labelled; this segmentation was fitted with a mask")
        return connected_regions(self.labels, min_size, connectivity=connectivity)

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
        if self.mask is not None:
            # Draw as if the masked-out pixels held label 0, then make them transparent (RGBA).
            unmasked = replace(self, labels=np.where(self.mask, self.labels, 0), mask=None,
                               _mean_colors=self.mean_colors)
            return render.with_alpha(unmasked.render(kind), self.mask)
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


def _check_segment_arguments(image, color_space, spatial_weight, gmm_params, smoothing=0.0, mask=None):
    """Checks of what only ``segment`` knows; the estimator checks its own hyper-parameters."""
    if not isinstance(spatial_weight, numbers.Real) or not np.isfinite(spatial_weight) or spatial_weight < 0:
        raise ValueError(f"spatial_weight must be a finite number >= 0, got {spatial_weight!r}")
    if not (smoothing == "auto" if isinstance(smoothing, str) else isinstance(smoothing, numbers.Real)
            and not isinstance(smoothing, bool) and np.isfinite(smoothing) and smoothing >= 0):
        raise ValueError(f"smoothing must be a finite number >= 0 or 'auto', got {smoothing!r}")
    if smoothing != 0 and mask is not None:
        raise ValueError("smoothing needs the whole pixel grid (neighbours); it cannot be combined with a mask")
    clash = {"init_params", "n_components", "beta"} & set(gmm_params)
    if clash:
        raise ValueError(f"pass {sorted(clash)} through segment's own arguments (init, n_components)")
    if image.ndim == 2 and color_space != "grey":
        raise ValueError(f"the image is grey, so it can only be segmented with color_space='grey', not {color_space!r}")


def _label_dtype(n_components):
    return np.uint8 if n_components <= 256 else np.int32


def _used_pixels(mask, image):
    """The checked mask, or None when it leaves no pixel out (the result is then the unmasked one)."""
    if mask is None:
        return None
    from gmm.masks import check_mask

    mask = check_mask(mask, image.shape)
    return None if mask.all() else mask


def _label_every_pixel(model, data, color_space):
    """Distinct values, features and labels of the whole image under a model fitted on part of it."""
    from gmm.distinct import distinct_pixels

    pixels = distinct_pixels(data)
    features = to_features(pixels.values, color_space)
    return pixels, features, pixels.expand(model.predict(features))


def segment(image, n_components, color_space="rgb", init="kmeans", random_state=0, spatial_weight=0.0,
            canonical=True, mask=None, smoothing=0.0, **gmm_params) -> SegmentationResult:
    """Segment an image by fitting a Gaussian mixture to its pixel colours.

    Parameters
    ----------
    image : str, pathlib.Path or ndarray
        Anything :func:`gmm.image.load_image` accepts.
    n_components : int or "auto"
        Number of segments K; "auto" chooses it from the image's distinct colours by
        :func:`gmm.model_selection.select_n_components` (effective-size ICL, K from 1 to 8).
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
    mask : ndarray of shape (H, W), bool, optional
        True on the pixels to segment (:mod:`gmm.masks`, e.g. from the alpha channel). The
        mixture is fitted on those pixels only; every other pixel is labelled ``NO_LABEL``.
        A mask that leaves no pixel out is the same as none.
    smoothing : float >= 0 or "auto", default=0
        The Potts beta of a spatial mixture (:class:`gmm.spatial.SpatialGaussianMixture`,
        mean-field EM on the pixel grid, 4-neighbourhood): 0 is the independent model above,
        unchanged; a number fixes beta; "auto" estimates it. Not with a ``mask``.
    **gmm_params
        Passed to :class:`gmm.GaussianMixture` (``covariance_type``, ``tol``, ``max_iter``, ...),
        or to the spatial mixture when ``smoothing`` is not 0.

    Returns
    -------
    SegmentationResult
    """
    from gmm.distinct import fit_image
    from gmm.mixture import GaussianMixture

    color_space = check_color_space(color_space)
    image = load_image(image)
    _check_segment_arguments(image, color_space, spatial_weight, gmm_params, smoothing, mask)
    mask = _used_pixels(mask, image)
    params = dict(gmm_params, init_params=init, random_state=random_state)
    data = to_grey(image) if color_space == "grey" else image
    if smoothing != 0:
        return _segment_spatial(image, data, n_components, color_space, spatial_weight, canonical, smoothing, params)
    selection = None
    if isinstance(n_components, str):
        n_components, selection = _choose_n_components(n_components, data, mask, color_space, params)
    if spatial_weight == 0:
        used = data if mask is None else data[mask][:, np.newaxis]  # the used pixels, one column
        fit = fit_image(used, n_components, transform=partial(to_features, color_space=color_space), **params)
        model, pixels, features, labels = fit.model, fit.pixels, fit.features, fit.labels
        if mask is not None:
            pixels, features, labels = _label_every_pixel(model, data, color_space)
    else:
        features = pixel_features(data, color_space, spatial_weight)
        model, pixels = GaussianMixture(n_components, **params), None
        if mask is None:
            labels = model.fit_predict(features).reshape(image.shape[:2])
        else:
            labels = model.fit(features[mask.ravel()]).predict(features).reshape(image.shape[:2])
    if canonical:
        # Renumber the fitted model and its labels together: the same fit, in canonical order.
        order = canonical_order(model, color_space)
        model = relabel_model(model, order, copy=False)
        labels = inverse_permutation(order)[labels]
    if mask is None:
        labels = labels.astype(_label_dtype(n_components), copy=False)
    else:
        labels = np.where(mask, labels, NO_LABEL).astype(np.int16 if n_components < 2**15 else np.int32)
    return SegmentationResult(labels=labels, model=model,
                              n_components=n_components, color_space=color_space, image=image,
                              spatial_weight=float(spatial_weight), mask=mask, selection=selection,
                              _pixels=pixels, _features=features if pixels is not None else None)


def _choose_n_components(n_components, data, mask, color_space, params):
    """K from the distinct colours of the used pixels: (K, ComponentSelection)."""
    from gmm.distinct import distinct_pixels
    from gmm.model_selection import select_n_components

    if n_components != "auto":
        raise ValueError(f"n_components must be an integer >= 1 or 'auto', got {n_components!r}")
    pixels = distinct_pixels(data if mask is None else data[mask][:, np.newaxis])
    selection = select_n_components(to_features(pixels.values, color_space), pixels.counts, **params)
    return selection.n_components, selection


def _segment_spatial(image, data, n_components, color_space, spatial_weight, canonical, smoothing, params):
    """``segment`` with a Potts prior: the distinct-colour path unless coordinates are features."""
    from gmm.distinct import distinct_pixels
    from gmm.spatial import SpatialGaussianMixture

    init_params = params.pop("init_params")
    model = SpatialGaussianMixture(n_components, beta=smoothing, init_params=init_params, **params)
    if spatial_weight == 0:
        pixels = distinct_pixels(data)
        features = to_features(pixels.values, color_space)
        labels = model.fit_sites(features, pixels.index, pixels.shape, pixels.counts)
    else:
        pixels = features = None
        labels = model.fit_predict(pixel_features(data, color_space, spatial_weight).reshape(*image.shape[:2], -1))
    if canonical:
        order = canonical_order(model, color_space)
        model = relabel_model(model, order, copy=False)
        labels = inverse_permutation(order)[labels]
        model.labels_ = labels
    k = model.n_components_
    return SegmentationResult(labels=labels.astype(_label_dtype(k)), model=model, n_components=k,
                              color_space=color_space, image=image, spatial_weight=float(spatial_weight),
                              smoothing=float(model.beta_), selection=getattr(model, "selection_", None),
                              _pixels=pixels, _features=features)
