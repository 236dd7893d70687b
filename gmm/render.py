"""Pictures of a segmentation, as uint8 RGB arrays of shape (H, W, 3).

- :func:`palette_image`: each label in a fixed colour (the paper's red / green / blue figures);
- :func:`mean_color_image`: each pixel replaced by the mean colour of its segment;
- :func:`soft_image`: the palette colours mixed by the responsibilities (soft clustering);
- :func:`boundary_overlay`: segment boundaries drawn on the image.
"""

from __future__ import annotations

import numpy as np

#: Label colours: pure red, green and blue first, as in the paper's figures, then well separated ones.
PALETTE = np.array(
    [
        (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0),
        (255, 0, 255), (0, 255, 255), (255, 128, 0), (128, 0, 255),
        (0, 128, 0), (128, 64, 0), (255, 160, 200), (128, 128, 128),
        (0, 0, 128), (128, 128, 0), (0, 128, 128), (255, 255, 255),
    ],
    dtype=np.uint8,
)
PALETTE.setflags(write=False)


def make_palette(n_colors: int) -> np.ndarray:
    """``n_colors`` distinct RGB colours: :data:`PALETTE`, extended when more are needed.

    The extension walks the hue circle by the golden angle at three brightness levels, so
    every colour added is distinct and the result does not depend on anything but ``n_colors``.

    Returns
    -------
    ndarray of shape (n_colors, 3), uint8
    """
    if n_colors <= len(PALETTE):
        return PALETTE[:n_colors].copy()
    from skimage.color import hsv2rgb

    colours = [tuple(c) for c in PALETTE]
    seen, step = set(colours), 0
    while len(colours) < n_colors:
        hue = (step * 0.6180339887498949) % 1.0
        value = (1.0, 0.7, 0.45)[step % 3]
        rgb = tuple(np.rint(hsv2rgb(np.array([[[hue, 0.85, value]]]))[0, 0] * 255).astype(int))
        if rgb not in seen:
            seen.add(rgb)
            colours.append(rgb)
        step += 1
    return np.array(colours, dtype=np.uint8)


def _check_labels(labels) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty (H, W) array, got shape {labels.shape}")
    if labels.dtype.kind not in "iu" or labels.min() < 0:
        raise ValueError(f"labels must hold non-negative integers, got dtype {labels.dtype}")
    return labels


def _check_rgb_image(image, shape) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.shape[:2] != tuple(shape) or image.ndim not in (2, 3):
        raise ValueError(
            f"image must be uint8 of shape {tuple(shape)} or {tuple(shape) + (3,)}, got {image.dtype} {image.shape}"
        )
    if image.ndim == 3 and image.shape[2] != 3:
        raise ValueError(f"image must be grey (H, W) or RGB (H, W, 3), got shape {image.shape}")
    return np.repeat(image[:, :, np.newaxis], 3, axis=2) if image.ndim == 2 else image


def palette_image(labels, palette=None) -> np.ndarray:
    """Colour each label by ``palette[label]``.

    Parameters
    ----------
    labels : ndarray of shape (H, W), non-negative int
    palette : ndarray of shape (N, 3), uint8, optional
        Default: :func:`make_palette` with as many colours as labels (:data:`PALETTE` first).

    Returns
    -------
    ndarray of shape (H, W, 3), uint8
    """
    labels = _check_labels(labels)
    n_labels = int(labels.max()) + 1
    palette = make_palette(n_labels) if palette is None else np.asarray(palette)
    if palette.ndim != 2 or palette.shape[1] != 3 or palette.dtype != np.uint8:
        raise ValueError(f"palette must be uint8 of shape (N, 3), got {palette.dtype} {palette.shape}")
    if palette.shape[0] < n_labels:
        raise ValueError(f"palette has {palette.shape[0]} colours but the labels go up to {n_labels - 1}")
    return palette[labels]


def label_mean_colors(labels, image, n_labels: int | None = None) -> np.ndarray:
    """Mean RGB colour of the pixels holding each label.

    Parameters
    ----------
    labels : ndarray of shape (H, W), non-negative int
    image : ndarray of shape (H, W, 3) or (H, W), uint8
    n_labels : int, optional
        Default ``labels.max() + 1``.

    Returns
    -------
    ndarray of shape (n_labels, 3), float64; NaN rows for labels that hold no pixel
    """
    labels = _check_labels(labels)
    rgb = _check_rgb_image(image, labels.shape).reshape(-1, 3)
    n_labels = int(labels.max()) + 1 if n_labels is None else n_labels
    flat = labels.ravel()
    counts = np.bincount(flat, minlength=n_labels).astype(np.float64)
    sums = np.column_stack([np.bincount(flat, weights=rgb[:, c], minlength=n_labels) for c in range(3)])
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts[:, np.newaxis]


def mean_color_image(labels, image) -> np.ndarray:
    """Each pixel replaced by the mean colour of its label's pixels (rounded).

    Returns
    -------
    ndarray of shape (H, W, 3), uint8
    """
    means = label_mean_colors(labels, image)
    # Labels holding no pixel never appear in the output; fill them only to keep the cast clean.
    means = np.rint(np.nan_to_num(means)).astype(np.uint8)
    return means[np.asarray(labels)]


def soft_image(resp, colors=None) -> np.ndarray:
    """Palette colours mixed by the responsibilities: pixel = sum_k r_k colour_k (rounded).

    Parameters
    ----------
    resp : ndarray of shape (H, W, K), rows non-negative and summing to one
    colors : ndarray of shape (K, 3), optional
        Default: :func:`make_palette` ``(K)``.

    Returns
    -------
    ndarray of shape (H, W, 3), uint8
    """
    resp = np.asarray(resp)
    if resp.ndim != 3 or resp.dtype.kind != "f":
        raise ValueError(f"resp must be a float array of shape (H, W, K), got {resp.dtype} {resp.shape}")
    if not np.all(np.isfinite(resp)) or resp.min() < 0:
        raise ValueError("resp must be finite and non-negative")
    colors = make_palette(resp.shape[2]) if colors is None else np.asarray(colors)
    if colors.shape != (resp.shape[2], 3):
        raise ValueError(f"colors must have shape ({resp.shape[2]}, 3), got {colors.shape}")
    # float32 responsibilities are mixed in float32: ample for 0-255 and half the memory.
    mixed = resp @ colors.astype(resp.dtype)
    return np.rint(np.clip(mixed, 0, 255)).astype(np.uint8)


def boundary_overlay(image, labels, color=(255, 255, 0)) -> np.ndarray:
    """The image with the boundaries between labels drawn in ``color``.

    A pixel is on a boundary when a 4-neighbour holds another label
    (:func:`skimage.segmentation.find_boundaries`, mode 'thick': no label is treated as
    background), so lines are one pixel thick on each side of a boundary.

    Returns
    -------
    ndarray of shape (H, W, 3), uint8 (grey images are drawn as RGB)
    """
    from skimage.segmentation import find_boundaries

    labels = _check_labels(labels)
    out = _check_rgb_image(image, labels.shape).copy()
    out[find_boundaries(labels, mode="thick")] = np.asarray(color, dtype=np.uint8)
    return out
