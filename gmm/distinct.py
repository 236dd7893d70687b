"""The exact fast path for images: EM on distinct pixel values, weighted by their counts.

Identical pixels have identical responsibilities, so the weighted EM on an image's distinct
values is the same computation as EM on all its pixels (see ``GaussianMixture``'s exact
``sample_weight``). A uint8 RGB photo of 8 million pixels typically has a few hundred thousand
distinct colours, a grey one at most 256 levels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gmm._validation import row_keys


@dataclass(frozen=True)
class DistinctPixels:
    """An image as its distinct values, their counts, and the map back to pixels.

    Attributes
    ----------
    values : ndarray of shape (n_distinct, n_channels)
        Distinct pixel values, in the image's dtype, sorted (lexicographically for uint8).
    counts : ndarray of shape (n_distinct,), int64
        How many pixels hold each value.
    index : ndarray of shape (height, width), int32
        For each pixel, the row of ``values`` it holds.
    """

    values: np.ndarray
    counts: np.ndarray
    index: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.index.shape

    @property
    def n_pixels(self) -> int:
        return int(self.index.size)

    def expand(self, per_value: np.ndarray) -> np.ndarray:
        """Broadcast a per-distinct-value array (n_distinct, ...) to the pixels (H, W, ...)."""
        per_value = np.asarray(per_value)
        if per_value.shape[0] != self.values.shape[0]:
            raise ValueError(
                f"expected one row per distinct value ({self.values.shape[0]}), got {per_value.shape[0]}"
            )
        return per_value[self.index]


def distinct_pixels(image) -> DistinctPixels:
    """Distinct values of an image with counts and the inverse index.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, C)
        uint8 grey and uint8 RGB use fast integer paths (a 256-bin histogram; colours packed into
        one 24-bit integer, counted in linear time in a 2 MiB bitmap); any other dtype or channel
        count uses a general row-unique (a sort).
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3) or image.size == 0:
        raise ValueError(f"expected an image of shape (H, W) or (H, W, C), got shape {image.shape}")
    shape = image.shape[:2]
    pixels = image.reshape(shape[0] * shape[1], -1)
    if image.dtype == np.uint8 and pixels.shape[1] == 1:
        counts = np.bincount(pixels[:, 0], minlength=256)
        present = np.flatnonzero(counts)
        lut = np.zeros(256, dtype=np.int32)
        lut[present] = np.arange(present.size, dtype=np.int32)
        index = lut[pixels[:, 0]]
        return DistinctPixels(present.astype(np.uint8)[:, np.newaxis], counts[present], index.reshape(shape))
    if image.dtype == np.uint8 and pixels.shape[1] == 3:
        present, counts, index = _count_rgb(pixels)
        return DistinctPixels(_unpack_rgb(present), counts, index.reshape(shape))
    keys = row_keys(pixels)
    uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    values = uniq.view(pixels.dtype).reshape(-1, pixels.shape[1])  # keys keep the dtype's bytes
    return DistinctPixels(values, counts.astype(np.int64), inverse.reshape(shape).astype(np.int32))


def _count_rgb(pixels):
    """Distinct colours of (n, 3) uint8 pixels as sorted 24-bit codes ``(r << 16) | (g << 8) | b``,
    their counts and each pixel's index into them.

    Linear time in a 2 MiB bitmap of the 2**24 colours (:func:`gmm._fused.count_rgb`), allocated per
    call and freed after it; without numba, a sort of the packed codes (``np.unique``).
    """
    counter = _counter()
    if counter is None:
        present, index, counts = np.unique(_pack_rgb(pixels), return_inverse=True, return_counts=True)
        return present.astype(np.uint32), counts.astype(np.int64), index.astype(np.int32).ravel()
    index = np.empty(pixels.shape[0], dtype=np.int32)
    present, counts = counter(np.ascontiguousarray(pixels), index)
    return present, counts, index


_COUNTER = {}


def _counter():
    """:func:`gmm._fused.count_rgb`, or None without numba."""
    if "kernel" not in _COUNTER:
        try:
            from gmm._fused import count_rgb
        except ImportError:
            count_rgb = None
        _COUNTER["kernel"] = count_rgb
    return _COUNTER["kernel"]


def _pack_rgb(pixels):
    """``(r << 16) | (g << 8) | b`` as uint32, built in place: one array of 4 bytes per pixel."""
    codes = pixels[:, 0].astype(np.uint32)
    codes <<= 8
    codes |= pixels[:, 1]
    codes <<= 8
    codes |= pixels[:, 2]
    return codes


def _unpack_rgb(codes):
    codes = np.asarray(codes, dtype=np.uint32)
    return np.stack([(codes >> 16) & 255, (codes >> 8) & 255, codes & 255], axis=1).astype(np.uint8)


@dataclass
class ImageFit:
    """A mixture fitted to an image through its distinct values.

    Attributes
    ----------
    model : gmm.GaussianMixture
        Fitted with the distinct values' features and counts as sample weights.
    pixels : DistinctPixels
    features : ndarray of shape (n_distinct, n_features)
        The features of each distinct value (after ``transform``).
    labels : ndarray of shape (H, W), int
        Most probable component per pixel.
    """

    model: object
    pixels: DistinctPixels
    features: np.ndarray
    labels: np.ndarray

    def responsibilities(self, dtype=np.float32) -> np.ndarray:
        """Per-pixel responsibilities, shape (H, W, K), built on demand."""
        return self.pixels.expand(self.model.predict_proba(self.features).astype(dtype))


def fit_image(image, n_components, *, transform=None, pixels=None, dtype=np.float64, **gmm_params) -> ImageFit:
    """Fit a Gaussian mixture to an image's pixel values on the exact distinct-value path.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, C)
        Pixel values; features are the values themselves (as ``dtype``) unless ``transform``.
    n_components : int
    transform : callable, optional
        Maps the distinct values (n_distinct, C) to features (n_distinct, d), e.g. a colour-space
        conversion. It must be a per-pixel function, so identical pixels stay identical.
    pixels : DistinctPixels, optional
        Reuse a precomputed :func:`distinct_pixels` of ``image``.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Dtype of the features. EM runs in float64 either way (statistics and densities), so
        float32 changes results only by the rounding of the features and of the stored parameters
        (about 1e-7 relative); the fitted attributes and ``responsibilities`` follow ``dtype``.
    **gmm_params
        Passed to :class:`gmm.GaussianMixture` (``random_state``, ``init_params``, ``tol``, ...).

    Returns
    -------
    ImageFit
    """
    from gmm.mixture import GaussianMixture

    pixels = distinct_pixels(image) if pixels is None else pixels
    values = pixels.values if transform is None else transform(pixels.values)
    features = np.asarray(values, dtype=dtype)
    if features.ndim == 1:
        features = features[:, np.newaxis]
    if features.shape[0] < n_components:
        raise ValueError(
            f"the image has {features.shape[0]} distinct value(s), fewer than n_components={n_components}"
        )
    model = GaussianMixture(n_components, **gmm_params)
    distinct_labels = model.fit_predict(features, sample_weight=pixels.counts)
    labels = pixels.expand(distinct_labels.astype(np.min_scalar_type(max(n_components - 1, 0))))
    return ImageFit(model=model, pixels=pixels, features=features, labels=labels)
