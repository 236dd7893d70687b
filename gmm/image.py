"""From image files and arrays to the features a mixture is fitted on.

Every image is brought to one canonical form, **uint8**, either grey ``(H, W)`` or RGB
``(H, W, 3)``: the paper's model is a model of 8-bit pixel values, and the exact distinct-value
fast path (:func:`gmm.fit_image`) is bounded for uint8 (at most 256 grey levels, 2**24 colours).

Choices made here (each one is a convention, stated so results can be reproduced):

- **Alpha** is composited over white (what an image viewer shows), then dropped: the RGB of a
  fully transparent pixel is arbitrary and would otherwise form clusters of its own. To leave
  transparent pixels out of a segmentation instead, read the alpha as a mask (:mod:`gmm.masks`).
- **Grey** is the ITU-R BT.601 luma ``0.299 R + 0.587 G + 0.114 B``, rounded to uint8: the
  conversion of PIL's ``convert("L")`` and OpenCV's ``cvtColor``, which is how a grey photo is
  usually made (``skimage.color.rgb2gray`` uses the BT.709 weights instead). Fitting on the
  rounded uint8 grey image is the paper's grey model and keeps the 256-bin fast path.
- **Features** are of order one in every colour space, so ``reg_covar`` and ``spatial_weight``
  mean the same whatever the space: ``'rgb'`` and ``'grey'`` are scaled to [0, 1]; ``'lab'`` is
  CIELAB (D65) divided by 100; ``'hsv'`` is encoded as ``(s cos 2 pi h, s sin 2 pi h, v)``, the
  HSV cylinder in Cartesian form. Hue is circular, so raw ``h`` would split reds at 0 and 1, and
  it is undefined for greys; weighting it by the saturation removes both problems.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

COLOR_SPACES = ("rgb", "grey", "lab", "hsv")
_ALIASES = {"gray": "grey", "rgb": "rgb", "grey": "grey", "lab": "lab", "hsv": "hsv"}

#: ITU-R BT.601 luma weights for R, G, B.
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114])


# ---------------------------------------------------------------------------- loading
def load_image(source) -> np.ndarray:
    """Read an image file or check an array, returning the canonical uint8 image.

    Parameters
    ----------
    source : str, pathlib.Path or array-like
        A file readable by imageio (PNG, JPEG, TIFF, ...; the first frame of an animation), or
        an array of shape (H, W), (H, W, 1), (H, W, 2) (grey + alpha), (H, W, 3) (RGB) or
        (H, W, 4) (RGBA). uint8 is kept; uint16 is scaled by 255/65535; other integer arrays
        must lie in [0, 255]; float arrays must be finite and lie in [0, 1] (they are scaled by
        255 and rounded). Alpha is composited over white.

    Returns
    -------
    ndarray of shape (H, W) or (H, W, 3), uint8

    Raises
    ------
    FileNotFoundError
        ``source`` is a path to no file.
    ValueError
        The file is not a readable image, or the array has the wrong shape, dtype or range.
    """
    if isinstance(source, (str, os.PathLike)):
        return as_image(read_pixels(source), name=str(Path(source)))
    return as_image(source)


def read_pixels(source) -> np.ndarray:
    """The pixel array of a file (first frame) as its decoder gives it, or an array as it is.

    Nothing is converted: alpha is kept and the dtype is the file's, for callers that need the
    alpha channel itself (:mod:`gmm.masks`). Errors as for :func:`load_image`.
    """
    if isinstance(source, (str, os.PathLike)):
        return _read_file(Path(source))
    return np.asarray(source)


def _read_file(path: Path) -> np.ndarray:
    if not path.exists():
        raise FileNotFoundError(f"image file not found: {path}")
    if not path.is_file():
        raise ValueError(f"{path} is not a file")
    import imageio.v3 as iio

    try:
        # imageio imports its deprecated legacy plugins while probing an unknown file: not our news.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            # index=0: the first frame of an animation or the first page of a multi-page TIFF.
            return np.asarray(iio.imread(path, index=0))
    except Exception as error:  # imageio raises many types for bad files; report one
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"cannot read {path} as an image (corrupt, truncated or not an image): {reason}") from error


def as_image(array, name: str = "image") -> np.ndarray:
    """Check an array and bring it to the canonical uint8 grey (H, W) or RGB (H, W, 3).

    See :func:`load_image` for what is accepted; ``name`` appears in error messages.
    """
    image = np.asarray(array)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (2, 3, 4)):
        raise ValueError(
            f"{name} must have shape (H, W) (grey), (H, W, 3) (RGB) or (H, W, 4) (RGBA), got {image.shape}"
        )
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {image.shape}")
    image = _to_uint8(image, name)
    if image.ndim == 3 and image.shape[2] in (2, 4):
        image = _composite_over_white(image)
    return image


def _to_uint8(image: np.ndarray, name: str) -> np.ndarray:
    kind = image.dtype.kind
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        # 65535 / 257 = 255 exactly: the standard 16-to-8-bit mapping.
        return np.rint(image / 257.0).astype(np.uint8)
    if kind in "iu":
        low, high = int(image.min()), int(image.max())
        if low < 0 or high > 255:
            raise ValueError(f"{name} has integer values in [{low}, {high}]; expected [0, 255] (or dtype uint16)")
        return image.astype(np.uint8)
    if kind == "f":
        if not np.all(np.isfinite(image)):
            raise ValueError(f"{name} contains NaN or infinity")
        low, high = float(image.min()), float(image.max())
        if low < 0 or high > 1:
            raise ValueError(f"{name} is a float image with values in [{low:g}, {high:g}]; floats must lie in [0, 1]")
        return np.rint(image * 255.0).astype(np.uint8)
    raise ValueError(f"{name} has dtype {image.dtype}; expected uint8, uint16, another integer type or float")


def _composite_over_white(image: np.ndarray) -> np.ndarray:
    alpha = image[:, :, -1:].astype(np.float64) / 255.0
    colour = image[:, :, :-1].astype(np.float64)
    out = np.rint(colour * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    return out[:, :, 0] if out.shape[2] == 1 else out


# ----------------------------------------------------------------------- colour spaces
def check_color_space(color_space: str) -> str:
    """The canonical name of a colour space ('gray' is accepted for 'grey')."""
    key = color_space.lower() if isinstance(color_space, str) else color_space
    if key not in _ALIASES:
        raise ValueError(f"color_space must be one of {COLOR_SPACES}, got {color_space!r}")
    return _ALIASES[key]


def n_color_features(color_space: str) -> int:
    """Number of feature columns a colour space gives (1 for grey, else 3)."""
    return 1 if check_color_space(color_space) == "grey" else 3


def to_grey(image) -> np.ndarray:
    """uint8 grey image: BT.601 luma of an RGB image, rounded; a grey image is returned as is.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, 3), uint8

    Returns
    -------
    ndarray of shape (H, W), uint8
    """
    image = np.asarray(image)
    return image if image.ndim == 2 else luma(image)


def luma(rgb) -> np.ndarray:
    """Rounded BT.601 luma of RGB values of shape (..., 3): uint8 of shape ``rgb.shape[:-1]``."""
    return np.rint(np.asarray(rgb, dtype=np.float64) @ LUMA_WEIGHTS).astype(np.uint8)


def to_features(values, color_space: str) -> np.ndarray:
    """Features of uint8 pixel values in a colour space.

    Parameters
    ----------
    values : ndarray of shape (m, 3) (RGB) or (m,) / (m, 1) (grey), uint8
        Typically the distinct colours of an image.
    color_space : {'rgb', 'grey', 'lab', 'hsv'}

    Returns
    -------
    ndarray of shape (m, 3), or (m, 1) for 'grey', float64
        See the module docstring for each space's scaling.
    """
    color_space = check_color_space(color_space)
    values = np.asarray(values)
    if values.ndim == 1:
        values = values[:, np.newaxis]
    if values.ndim != 2 or values.shape[1] not in (1, 3):
        raise ValueError(f"values must have shape (m, 3) or (m, 1), got {values.shape}")
    if values.dtype != np.uint8:
        raise ValueError(f"values must be uint8 pixel values, got dtype {values.dtype}")
    if color_space == "grey":
        grey = values if values.shape[1] == 1 else luma(values)[:, np.newaxis]
        return grey.astype(np.float64) / 255.0
    if values.shape[1] != 3:
        raise ValueError(f"color_space={color_space!r} needs RGB values (m, 3); got grey values (m, 1)")
    rgb = values.astype(np.float64) / 255.0
    if color_space == "rgb":
        return rgb
    if color_space == "lab":
        from skimage.color import rgb2lab

        return rgb2lab(rgb[np.newaxis])[0] / 100.0
    from skimage.color import rgb2hsv

    hsv = rgb2hsv(rgb[np.newaxis])[0]
    angle = 2.0 * np.pi * hsv[:, 0]
    return np.column_stack([hsv[:, 1] * np.cos(angle), hsv[:, 1] * np.sin(angle), hsv[:, 2]])


def features_to_rgb(features, color_space: str) -> np.ndarray:
    """Map colour features back to RGB in [0, 255] (the inverse of :func:`to_features`).

    Used for points that are not pixel values, such as component means; colours outside the
    RGB gamut are clipped.

    Parameters
    ----------
    features : ndarray of shape (m, 3), or (m, 1) / (m,) for 'grey'
    color_space : {'rgb', 'grey', 'lab', 'hsv'}

    Returns
    -------
    ndarray of shape (m, 3), float64 in [0, 255]
    """
    color_space = check_color_space(color_space)
    features = np.asarray(features, dtype=np.float64)
    if features.ndim == 1:
        features = features[:, np.newaxis]
    expected = n_color_features(color_space)
    if features.ndim != 2 or features.shape[1] != expected:
        raise ValueError(f"{color_space!r} features must have shape (m, {expected}), got {features.shape}")
    if color_space == "grey":
        rgb = np.repeat(features, 3, axis=1)
    elif color_space == "rgb":
        rgb = features
    elif color_space == "lab":
        from skimage.color import lab2rgb

        rgb = lab2rgb(features[np.newaxis] * 100.0)[0]
    else:
        from skimage.color import hsv2rgb

        hue = np.mod(np.arctan2(features[:, 1], features[:, 0]) / (2.0 * np.pi), 1.0)
        saturation = np.hypot(features[:, 0], features[:, 1])
        hsv = np.column_stack([hue, saturation, features[:, 2]]).clip(0.0, 1.0)
        rgb = hsv2rgb(hsv[np.newaxis])[0]
    return np.clip(rgb * 255.0, 0.0, 255.0)


# ----------------------------------------------------------------------- pixel features
def spatial_features(shape, spatial_weight: float) -> np.ndarray:
    """Pixel coordinates as features: ``[y * s, x * s]`` with y, x normalised to [0, 1].

    Parameters
    ----------
    shape : tuple (H, W)
    spatial_weight : float
        The scale ``s``.

    Returns
    -------
    ndarray of shape (H * W, 2), float64, rows in C (row-major) pixel order
    """
    height, width = shape
    y = np.arange(height, dtype=np.float64) / max(height - 1, 1)
    x = np.arange(width, dtype=np.float64) / max(width - 1, 1)
    yy, xx = np.meshgrid(y * spatial_weight, x * spatial_weight, indexing="ij")
    return np.column_stack([yy.ravel(), xx.ravel()])


def pixel_features(image, color_space: str, spatial_weight: float = 0.0) -> np.ndarray:
    """Features of every pixel: colour features, then the scaled coordinates when ``spatial_weight > 0``.

    Colour features are computed once per distinct value and broadcast, so a conversion such
    as 'lab' costs no more than on the distinct colours.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, 3), uint8 (grey images only for 'grey')
    color_space : {'rgb', 'grey', 'lab', 'hsv'}
    spatial_weight : float, default=0

    Returns
    -------
    ndarray of shape (H * W, d), float64; d = colour features (+ 2 when spatial)
    """
    from gmm.distinct import distinct_pixels

    image = to_grey(image) if check_color_space(color_space) == "grey" else np.asarray(image)
    pixels = distinct_pixels(image)
    colour = pixels.expand(to_features(pixels.values, color_space)).reshape(pixels.n_pixels, -1)
    if spatial_weight == 0:
        return colour
    return np.hstack([colour, spatial_features(pixels.shape, spatial_weight)])
