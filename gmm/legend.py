"""The legend under a rendering: one entry per segment, a colour swatch and its text.

Text is drawn with Pillow's default font (FreeType's when Pillow has it), so the same
environment draws the same pixels.
"""

from __future__ import annotations

import numpy as np


def _font(size: int = 11):
    """Pillow's default font at ``size`` pixels, or its fixed bitmap font without FreeType."""
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError, OSError):  # Pillow without FreeType: its bitmap font
        return ImageFont.load_default()


def legend(entries, width: int) -> np.ndarray:
    """A legend strip: for each entry a colour swatch and its text, in as many columns as fit.

    Parameters
    ----------
    entries : list of (colour, text)
        ``colour`` an RGB triple, or None for the "none" swatch (white, crossed out).
    width : int
        Width of the picture it goes under; the strip is wider when one column does not fit.

    Returns
    -------
    ndarray of shape (h, max(width, one column), 3), uint8, white background
    """
    from PIL import Image, ImageDraw

    font, swatch, pad = _font(), 11, 4
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    column = pad + swatch + pad + max(int(np.ceil(measure.textlength(text, font=font))) for _, text in entries) + 2 * pad
    n_columns = max(1, width // column)
    row = swatch + pad
    canvas = Image.new("RGB", (max(width, column), pad + row * -(-len(entries) // n_columns)), "white")
    draw = ImageDraw.Draw(canvas)
    for i, (colour, text) in enumerate(entries):
        x, y = pad + (i % n_columns) * column, pad + (i // n_columns) * row
        box = (x, y, x + swatch - 1, y + swatch - 1)
        if colour is None:
            draw.rectangle(box, fill=(255, 255, 255), outline=(128, 128, 128))
            draw.line((x, y + swatch - 1, x + swatch - 1, y), fill=(128, 128, 128))
        else:
            draw.rectangle(box, fill=tuple(int(c) for c in colour), outline=(0, 0, 0))
        draw.text((x + swatch + pad, y + swatch // 2), text, fill=(0, 0, 0), font=font, anchor="lm")
    return np.asarray(canvas)


def legend_entries(labels, colors, names=None) -> list:
    """One legend entry per component, "name: share", and one for "none" when any pixel is -1.

    Parameters
    ----------
    labels : ndarray of shape (H, W), int >= -1
    colors : ndarray of shape (K, 3), uint8
    names : sequence of K str, optional
        Default: the label numbers.
    """
    labels = np.asarray(labels)
    n = colors.shape[0]
    names = [str(k) for k in range(n)] if names is None else list(names)
    if len(names) != n:
        raise ValueError(f"expected {n} names, one per component, got {len(names)}")
    counts = np.bincount(labels.ravel() + 1, minlength=n + 1)  # slot 0 counts the -1 ("none") pixels
    share = counts / labels.size
    entries = [(colors[k], f"{names[k]}: {100 * share[k + 1]:.1f}%") for k in range(n)]
    if counts[0]:
        entries.append((None, f"none: {100 * share[0]:.1f}%"))
    return entries
