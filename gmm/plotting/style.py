"""The figures' style, sizes and colours, and their byte-stable encoding.

Every figure of the project is drawn at the size it is printed at (:func:`printed_figure`),
under one style (:func:`figure_style`), with one colour per component meaning
(:data:`COMPONENT_COLOURS`). matplotlib is imported inside the functions.
"""

from __future__ import annotations

import io

import numpy as np

from gmm.render import OKABE_ITO as _OKABE_ITO

#: File formats figure_bytes writes, with the metadata that would otherwise change each run.
STABLE_METADATA = {
    "png": {"Software": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
    "svg": {"Date": None, "Creator": None},
}
#: Resolution of saved PNGs.
DEFAULT_DPI = 100
#: Quantities below this many nats per sample are rounding, not signal: a KL gap right after an
#: E-step is exactly zero in exact arithmetic, and its computed value (1e-17 .. 1e-14) changes
#: with the BLAS build. Plots draw this floor instead of the noise under it.
ROUNDING_FLOOR = 1e-12
#: Width of the paper's text block (A4 with 25 mm margins: 160 mm), in inches.
TEXT_WIDTH = 160 / 25.4
#: Width of a full-width figure: a little under :data:`TEXT_WIDTH`, so that a figure included at
#: its natural size never overfills the line.
FULL_WIDTH = 6.2
#: Smallest text (points) in any figure, at the size it is drawn and printed at.
MIN_FONT_SIZE = 7.0
#: The colour-blind-safe qualitative palette (Okabe & Ito), name -> uint8 RGB; see :data:`gmm.render.OKABE_ITO`.
OKABE_ITO = _OKABE_ITO
#: One colour per component meaning, the same in every figure (the fox is blue everywhere).
#: Background, animal and grass keep the original paper's red, blue and green as their Okabe-Ito
#: counterparts; the football classes (:data:`gmm.data.FOOTBALL_CLASSES`) take the rest, and the
#: turf is green like grass.
COMPONENT_COLOURS = {
    "background": _OKABE_ITO["vermillion"],
    "animal": _OKABE_ITO["blue"],
    "grass": _OKABE_ITO["bluish green"],
    "turf": _OKABE_ITO["bluish green"],
    "line_paint": _OKABE_ITO["yellow"],
    "end_zone": _OKABE_ITO["reddish purple"],
    "team_a": _OKABE_ITO["blue"],
    "players": _OKABE_ITO["blue"],
    "team_b": _OKABE_ITO["vermillion"],
    "skin": _OKABE_ITO["orange"],
    "ball": _OKABE_ITO["sky blue"],
    "shadow": _OKABE_ITO["black"],
}
#: Colours of lines that stand for methods, runs or quantities rather than components: Okabe-Ito
#: without yellow, which vanishes on white.
LINE_COLOURS = tuple("#{:02x}{:02x}{:02x}".format(*_OKABE_ITO[name]) for name in (
    "blue", "vermillion", "bluish green", "orange", "reddish purple", "sky blue", "black"))


def style_params() -> dict:
    """The rc parameters of every figure of the project (see :func:`figure_style`).

    Text is 8 pt (ticks and legends 7 pt) at the size the figure is drawn, which is the size it is
    printed at; lines cycle through :data:`LINE_COLOURS`; axis offsets (``+4.949`` over ticks of
    ``1e-5``) are off, so a tick reads as the value it marks.
    """
    from cycler import cycler

    small, normal = MIN_FONT_SIZE, MIN_FONT_SIZE + 1
    return {
        "font.size": normal, "axes.titlesize": normal, "axes.labelsize": normal, "figure.titlesize": normal,
        "figure.labelsize": normal, "xtick.labelsize": small, "ytick.labelsize": small,
        "legend.fontsize": small, "legend.title_fontsize": small,
        "axes.prop_cycle": cycler(color=list(LINE_COLOURS)), "axes.formatter.useoffset": False,
        "axes.linewidth": 0.6, "axes.titlepad": 3.0, "lines.linewidth": 1.0, "lines.markersize": 3.0,
        "xtick.major.width": 0.6, "ytick.major.width": 0.6, "xtick.major.size": 2.5, "ytick.major.size": 2.5,
        "legend.framealpha": 0.85, "legend.borderpad": 0.3, "legend.handlelength": 1.5,
        "figure.dpi": DEFAULT_DPI, "savefig.dpi": DEFAULT_DPI, "image.interpolation": "nearest",
        "figure.constrained_layout.h_pad": 0.02, "figure.constrained_layout.w_pad": 0.02,
    }


def figure_style():
    """Context manager: figures made inside it take the project's style (:func:`style_params`).

    Sizes are read when an artist is made, so the figure must be made inside the context.
    """
    import matplotlib

    return matplotlib.rc_context(style_params())


def use_figure_style() -> None:
    """Apply the project's style to every later figure of this process (the notebooks' first cell)."""
    import matplotlib

    matplotlib.rcParams.update(style_params())


def printed_figure(height: float, width: float = FULL_WIDTH, nrows: int = 1, ncols: int = 1, **kwargs):
    """A figure of ``width`` x ``height`` inches, the size it is printed at, and its axes.

    Parameters
    ----------
    height, width : float
        Inches; ``width`` at most :data:`TEXT_WIDTH` (the paper includes figures at their natural size).
    nrows, ncols : int
    **kwargs
        Passed to :func:`matplotlib.pyplot.subplots` (``layout`` defaults to ``"constrained"``).

    Returns
    -------
    (matplotlib Figure, Axes or array of Axes)
    """
    import matplotlib.pyplot as plt

    if not 0 < width <= TEXT_WIDTH:
        raise ValueError(f"width {width} in does not fit the paper's text width ({TEXT_WIDTH:.2f} in)")
    kwargs.setdefault("layout", "constrained")
    return plt.subplots(nrows, ncols, figsize=(width, height), **kwargs)


def component_colours(names) -> np.ndarray:
    """Colours (uint8, shape (K, 3)) of components named ``names``, from :data:`COMPONENT_COLOURS`.

    A name without a colour of its own (``None``, ``"component 4"``) gets the first palette colour
    no named component uses, so every component of one figure is distinct.
    """
    names = list(names)
    chosen = [COMPONENT_COLOURS.get(name) for name in names]
    spare = iter(tuple(int(v) for v in c) for c in palette(len(names) + len(COMPONENT_COLOURS))
                 if tuple(int(v) for v in c) not in chosen)
    return np.array([colour if colour is not None else next(spare) for colour in chosen], dtype=np.uint8)


def palette(n_colors: int) -> np.ndarray:
    """``n_colors`` label colours (uint8, shape (n_colors, 3)), the same as :mod:`gmm.render`'s."""
    from gmm.render import make_palette

    return make_palette(n_colors)


def figure_bytes(fig, fmt: str = "png", dpi: int = DEFAULT_DPI) -> bytes:
    """The encoded figure, without run-dependent metadata (same figure, same bytes)."""
    import matplotlib

    if fmt not in STABLE_METADATA:
        raise ValueError(f"unsupported figure format {fmt!r}; use one of {sorted(STABLE_METADATA)}")
    buffer = io.BytesIO()
    # SVG element ids are random unless salted.
    with matplotlib.rc_context({"svg.hashsalt": "gmm"}):
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata=STABLE_METADATA[fmt])
    return buffer.getvalue()
