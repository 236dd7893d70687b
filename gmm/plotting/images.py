"""Pictures on the pixel grid: label maps, component masks, segmentations, responsibilities,
changed labels and weight maps; the photo itself only in local runs (see :mod:`gmm.plotting`).
"""

from __future__ import annotations

import numpy as np

from gmm.plotting.style import FULL_WIDTH, palette


def show_label_map(ax, labels, *, title=None, colors=None, names=None, axes_in_pixels=True):
    """Draw a palette label map on ``ax`` (with a legend of component names when given)."""
    from gmm.render import palette_image

    labels = np.asarray(labels)
    colors = palette(int(labels.max()) + 1 if names is None else len(names)) if colors is None else colors
    ax.imshow(palette_image(labels, colors), interpolation="nearest")
    if title:
        ax.set_title(title)
    if not axes_in_pixels:
        ax.set_axis_off()
    if names is not None:
        from matplotlib.patches import Patch

        handles = [Patch(color=np.asarray(colors[k]) / 255, label=name) for k, name in enumerate(names)]
        ax.legend(handles=handles, loc="upper right")
    return ax


def mask_grid(axes_row, masks, *, row_label=None, colors=None, off=(255, 255, 255)):
    """Draw component masks (K, H, W) along ``axes_row`` (paper's Fig. 1), each in its component's colour.

    Parameters
    ----------
    axes_row : sequence of K matplotlib Axes
    masks : ndarray of shape (K, H, W), bool
    row_label : str, optional
        Label of the row, on the first panel's vertical axis.
    colors : (K, 3) uint8, optional
        The components' colours (the palette by default): the same as their curves in other
        panels, so that a mask names the curve it belongs to (white-on-black masks would not).
    off : RGB
        Colour of the pixels outside the mask.

    Each panel's title gives the component's share of the pixels.
    """
    masks = np.asarray(masks, dtype=bool)
    if len(axes_row) != masks.shape[0]:
        raise ValueError(f"{masks.shape[0]} masks for {len(axes_row)} axes")
    colors = palette(masks.shape[0]) if colors is None else np.asarray(colors, dtype=np.uint8)
    for k, (ax, mask) in enumerate(zip(axes_row, masks)):
        picture = np.where(mask[..., None], colors[k], np.asarray(off, dtype=np.uint8)).astype(np.uint8)
        ax.imshow(picture, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"component {k} ({100 * mask.mean():.1f}%)")
    if row_label:
        axes_row[0].set_ylabel(row_label)


def plot_segmentation(result, colors=None, names=None, photo=None):
    """Hard label map (axes in pixels, as the paper), soft rendering and uncertainty of a segmentation.

    Parameters
    ----------
    result : gmm.segmentation.SegmentationResult
    colors : (K, 3) uint8, optional
        Colour of each component (the palette by default).
    names : list of str, optional
        Legend names of the components.
    photo : ndarray, optional
        Drawn as a first panel. Only for local runs: the photos may not be redistributed.

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    from gmm.render import soft_image

    k = result.n_components
    colors = palette(k) if colors is None else np.asarray(colors, dtype=np.uint8)
    resp = result.responsibilities()
    n = 3 + (photo is not None)
    height, width = result.labels.shape
    # Full text width, the panels as high as the image's aspect asks, plus titles and the colour bar's room.
    panel = FULL_WIDTH / (n + 0.3)
    fig, axes = plt.subplots(1, n, figsize=(FULL_WIDTH, panel * height / width + 0.45), layout="constrained")
    if photo is not None:
        show_photo_panel(axes[0], photo)
    hard, soft, unsure = axes[-3:]
    show_label_map(hard, result.labels, title="hard: most probable component", colors=colors, names=names)
    soft.imshow(soft_image(resp, colors), interpolation="nearest")
    soft.set_title(r"soft: $\sum_k r_k\,$colour$_k$")
    shown = unsure.imshow(1.0 - resp.max(axis=2), cmap="magma", vmin=0.0, vmax=1.0 - 1.0 / k, interpolation="nearest")
    unsure.set_title(r"uncertainty $1-\max_k r_k$")
    fig.colorbar(shown, ax=unsure, shrink=0.8)
    for ax in (soft, unsure):
        ax.set_xticks([])
        ax.set_yticks([])
    return fig


def plot_responsibility_crops(axes, resp, crop, names, labels=None, colors=None):
    """One panel per component: its responsibility ``r_k`` (0 black .. 1 white) inside ``crop``.

    With ``labels``, a first extra axis shows the label map of the crop.
    """
    rows, cols = crop
    panels = list(axes)
    if labels is not None:
        show_label_map(panels.pop(0), np.asarray(labels)[rows, cols], title="labels", colors=colors)
    if len(panels) != resp.shape[2]:
        raise ValueError(f"{resp.shape[2]} components for {len(panels)} axes")
    for k, ax in enumerate(panels):
        ax.imshow(resp[rows, cols, k], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.set_title(f"$r$ {names[k]}")
        ax.set_xticks([])
        ax.set_yticks([])
    return axes


def show_photo_panel(ax, image, title="photo (local only, not redistributed)"):
    """Draw the photo itself; notebooks call this only when run locally with ``show_photo=True``."""
    ax.imshow(image)
    ax.set_title(title)
    return ax


def show_changed_labels(ax, reference, labels, *, colors=None, title=None, unchanged=(235, 235, 235)):
    """The pixels whose label differs from ``reference``, in the colour of their new label; the
    others in the light grey ``unchanged``. The title (when given) gets the share that changed.

    Both maps must number the components alike (e.g. both in canonical order).
    """
    reference, labels = np.asarray(reference), np.asarray(labels)
    if reference.shape != labels.shape or labels.ndim != 2:
        raise ValueError(f"two (H, W) label maps of one shape needed, got {reference.shape} and {labels.shape}")
    colors = palette(int(max(reference.max(), labels.max())) + 1) if colors is None else np.asarray(colors)
    changed = reference != labels
    picture = np.empty(labels.shape + (3,), dtype=np.uint8)
    picture[...] = np.asarray(unchanged, dtype=np.uint8)
    picture[changed] = colors[labels[changed]]
    ax.imshow(picture, interpolation="nearest")
    if title:
        ax.set_title(f"{title} ({100 * changed.mean():.1f}%)")
    return ax


def show_scale_map(ax, scales, *, title=None, vmin=None, vmax=None, cmap="magma"):
    """A per-pixel weight map, e.g. the t mixture's ``E[u | x]``, on a logarithmic colour scale.

    Returns the image (for a colour bar). ``vmin`` and ``vmax`` default to the map's range.
    """
    from matplotlib.colors import LogNorm

    scales = np.asarray(scales, dtype=np.float64)
    if scales.ndim != 2 or not np.all(scales > 0):
        raise ValueError("scales must be a positive (H, W) map")
    norm = LogNorm(vmin=scales.min() if vmin is None else vmin, vmax=scales.max() if vmax is None else vmax)
    shown = ax.imshow(scales, cmap=cmap, norm=norm, interpolation="nearest")
    if title:
        ax.set_title(title)
    return shown
