"""Masks: pixels to leave out of a segmentation.

A mask is a boolean array of shape (H, W): True where a pixel is *used* (fitted and labelled),
False where it is ignored, i.e. excluded from the fit and labelled "none" (-1 in a label array,
see :func:`gmm.segment`). It comes from

- the image's **alpha** channel (:func:`load_image_and_mask`): fully transparent pixels (alpha 0)
  are ignored, every other pixel keeps its own colour. Nothing is composited over white here, so
  a half-transparent edge keeps the colour of the object it belongs to;
- a **mask image** (:func:`load_mask`): non-zero pixels are used, zero pixels ignored, the
  white-on-black convention of Fiji/ImageJ and ilastik masks;
- or an array the caller made (:func:`check_mask`).
"""

from __future__ import annotations

import os

import numpy as np

from gmm.image import as_image, read_pixels


def _name(source, default: str) -> str:
    """How error messages name a source: its path, or ``default`` for an array."""
    return str(source) if isinstance(source, (str, os.PathLike)) else default


def check_mask(mask, shape, name: str = "mask") -> np.ndarray:
    """Check that ``mask`` is a boolean (H, W) array of ``shape`` with at least one used pixel.

    Parameters
    ----------
    mask : array-like of bool, shape (H, W)
    shape : tuple (H, W)
        The image's height and width.
    name : str
        Named in error messages.

    Returns
    -------
    ndarray of shape (H, W), bool

    Raises
    ------
    ValueError
        Not boolean, the wrong shape, or no pixel left to segment.
    """
    mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise ValueError(f"{name} must be a boolean array (True = pixel used), got dtype {mask.dtype}")
    if mask.shape != tuple(shape[:2]):
        raise ValueError(f"{name} has shape {mask.shape}, the image {tuple(shape[:2])}: they must match")
    if not mask.any():
        raise ValueError(f"{name} leaves no pixel to segment (every pixel is masked out)")
    return mask


def load_image_and_mask(source) -> tuple[np.ndarray, np.ndarray | None]:
    """Read an image and use its alpha channel as a mask instead of compositing it over white.

    Parameters
    ----------
    source : str, pathlib.Path or array-like
        As for :func:`gmm.load_image`.

    Returns
    -------
    image : ndarray of shape (H, W) or (H, W, 3), uint8
        The colour channels as they are (transparent pixels keep whatever colour they hold).
    mask : ndarray of shape (H, W), bool, or None
        False where alpha is 0; None when the image has no alpha channel or no transparent
        pixel, so an opaque image segments exactly as without a mask.

    Raises
    ------
    ValueError
        As :func:`gmm.load_image`, or when every pixel is transparent.
    """
    name = _name(source, "image")
    pixels = read_pixels(source)
    if pixels.ndim != 3 or pixels.shape[2] not in (2, 4):
        return as_image(pixels, name=name), None
    image = as_image(pixels[:, :, :-1], name=name)
    used = pixels[:, :, -1] > 0
    if used.all():
        return image, None
    return image, check_mask(used, image.shape, name=f"the alpha channel of {name}")


def load_mask(source, shape=None) -> np.ndarray:
    """Read a mask image: non-zero pixels are used, zero pixels ignored.

    Parameters
    ----------
    source : str, pathlib.Path or array-like
        A grey or colour image file (a colour pixel is used when any colour channel is
        non-zero; an alpha channel is not looked at), or an array.
    shape : tuple (H, W), optional
        The image the mask is for: a mask of another size is refused.

    Returns
    -------
    ndarray of shape (H, W), bool
    """
    name = f"mask {_name(source, '')}".rstrip()
    pixels = read_pixels(source)
    if pixels.ndim == 3 and pixels.shape[2] in (2, 4):
        pixels = pixels[:, :, :-1]
    if pixels.ndim == 3:
        pixels = pixels.any(axis=2) if pixels.shape[2] in (1, 3) else pixels
    if pixels.ndim != 2:
        raise ValueError(f"{name} must be a grey or colour image, got shape {pixels.shape}")
    used = pixels != 0
    return check_mask(used, used.shape if shape is None else shape, name=name)
