"""Pictures of a segmentation, as uint8 RGB arrays of shape (H, W, 3).

- :func:`palette_image`: each label in a fixed colour (:data:`PALETTE`, colour-blind safe);
- :func:`mean_color_image`: each pixel replaced by the mean colour of its segment;
- :func:`soft_image`: the palette colours mixed by the responsibilities (soft clustering);
- :func:`boundary_overlay`: segment boundaries drawn on the image;
- :func:`fill_overlay` and :func:`overlay_with_legend`: each segment filled semi-transparently in
  its colour over the image, with a legend of the segments' names and shares below it
  (:mod:`gmm.legend`);
- :func:`with_alpha`: masked-out pixels made transparent (RGBA).

Label maps may hold -1 ("none", a masked-out pixel, see :mod:`gmm.masks`) where said so.
"""

from __future__ import annotations

import numpy as np

#: The Okabe & Ito (2008) colour-blind-safe qualitative palette, by name (uint8 RGB): the only
#: colours the project's figures give meaning to (:data:`gmm.plotting.COMPONENT_COLOURS`).
OKABE_ITO = {
    "vermillion": (213, 94, 0),
    "bluish green": (0, 158, 115),
    "blue": (0, 114, 178),
    "orange": (230, 159, 0),
    "sky blue": (86, 180, 233),
    "reddish purple": (204, 121, 167),
    "yellow": (240, 228, 66),
    "black": (0, 0, 0),
}

#: Label colours: the Okabe-Ito set, its vermillion, bluish green and blue first where the paper's
#: original figures used pure red, green and blue (pure red and green are confused by colour-blind
#: readers); yellow and black last, as they vanish on white and on dark masks.
PALETTE = np.array(list(OKABE_ITO.values()), dtype=np.uint8)
PALETTE.setflags(write=False)


def make_palette(n_colors: int) -> np.ndarray:
    """``n_colors`` distinct RGB colours: :data:`PALETTE`, extended when more are needed.

    The extension walks the hue circle by the golden angle at three brightness levels, so
    every colour added is distinct and the result does not depend on anything but ``n_colors``.
    Only the first eight (the Okabe-Ito set) are colour-blind safe.

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


def with_alpha(rgb, mask) -> np.ndarray:
    """An RGB picture as RGBA: opaque where ``mask`` is True, fully transparent elsewhere.

    Returns
    -------
    ndarray of shape (H, W, 4), uint8
    """
    rgb = np.asarray(rgb)
    mask = np.asarray(mask, dtype=bool)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[:2] != mask.shape:
        raise ValueError(f"expected an (H, W, 3) picture and an (H, W) mask, got {rgb.shape} and {mask.shape}")
    return np.dstack([rgb, np.where(mask, 255, 0).astype(np.uint8)])


def fill_overlay(image, labels, colors=None, opacity: float = 0.4) -> np.ndarray:
    """Each segment filled in its colour at ``opacity`` over the image, its edge drawn opaque.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3) or (H, W), uint8
    labels : ndarray of shape (H, W), int
        Component per pixel; -1 ("none") pixels are left as they are.
    colors : ndarray of shape (N, 3), uint8, optional
        Default: :func:`make_palette` with one colour per label.
    opacity : float in [0, 1], default=0.4

    Returns
    -------
    ndarray of shape (H, W, 3), uint8
    """
    from skimage.segmentation import find_boundaries

    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.size == 0 or labels.dtype.kind not in "iu" or labels.min() < -1:
        raise ValueError(f"labels must be a non-empty (H, W) integer array, >= -1, got {labels.dtype} {labels.shape}")
    if not 0 <= opacity <= 1:
        raise ValueError(f"opacity must lie in [0, 1], got {opacity!r}")
    out = _check_rgb_image(image, labels.shape).copy()
    used = labels >= 0
    colors = make_palette(int(labels.max()) + 1 if used.any() else 1) if colors is None else np.asarray(colors)
    if colors.ndim != 2 or colors.shape[1] != 3 or colors.shape[0] <= labels.max():
        raise ValueError(f"colors must have shape (> {int(labels.max())}, 3), got {colors.shape}")
    fill = colors[labels[used]].astype(np.float64)
    out[used] = np.rint((1 - opacity) * out[used] + opacity * fill).astype(np.uint8)
    # 'inner': the edge pixels on each side of a boundary (and along the mask), drawn in their own
    # segment's colour. Shifted by one, as 'inner' treats label 0 as background with no edge.
    edges = find_boundaries(labels.astype(np.int64) + 1, mode="inner") & used
    out[edges] = colors[labels[edges]]
    return out


def overlay_with_legend(image, labels, n_labels: int, names=None, opacity: float = 0.4) -> np.ndarray:
    """:func:`fill_overlay` with a :func:`legend` of the segments under it.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3) or (H, W), uint8
    labels : ndarray of shape (H, W), int; -1 for masked-out pixels
    n_labels : int
        Number of components K (a component may hold no pixel).
    names : sequence of K str, optional
    opacity : float, default=0.4

    Returns
    -------
    ndarray of shape (H + h, max(W, w), 3), uint8; (..., 4) RGBA, transparent on the
    masked-out pixels, when any label is -1
    """
    from gmm.legend import legend, legend_entries

    colors = make_palette(n_labels)
    picture = fill_overlay(image, labels, colors, opacity)
    strip = legend(legend_entries(labels, colors, names), picture.shape[1])
    canvas = np.full((picture.shape[0] + strip.shape[0], strip.shape[1], 3), 255, dtype=np.uint8)
    canvas[: picture.shape[0], : picture.shape[1]] = picture
    canvas[picture.shape[0]:] = strip
    used = np.asarray(labels) >= 0
    if used.all():
        return canvas
    opaque = np.ones(canvas.shape[:2], dtype=bool)
    opaque[: used.shape[0], : used.shape[1]] = used
    return with_alpha(canvas, opaque)
