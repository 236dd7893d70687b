"""Every plot of the project: EM curves, label maps, masks, histograms, responsibilities.

The one module that draws. matplotlib is imported inside the functions, so importing the
library never imports it. :func:`figure_bytes` encodes a figure without run-dependent metadata
(the same figure gives the same bytes); files are written by :func:`gmm.outputs.atomic_write`
(the CLI) or :func:`gmm.companion.figures.save_figure` (the notebooks, with provenance).

Licence rule: the fox, moose and football photos may not be redistributed, so these helpers draw
*label-derived* pictures (palette label maps, component masks, histograms, responsibility maps),
never the photo itself; :func:`show_photo_panel` is called only when a notebook runs locally
with ``show_photo=True``.
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


# ------------------------------------------------------------------------------ style
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


# ------------------------------------------------------------------------------ encoding
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


def history_png_bytes(history, title: str) -> bytes:
    """The ELBO curve (:func:`plot_history`) of one fit as PNG bytes (for the CLI's ``--save-elbo``)."""
    from matplotlib.figure import Figure

    with figure_style():
        figure = Figure(figsize=(6, 3.5), dpi=DEFAULT_DPI)
        ax = figure.subplots()
        plot_history(history, ax=ax)
        ax.set_title(title)
        figure.tight_layout()
        return figure_bytes(figure, "png", dpi=DEFAULT_DPI)


# ------------------------------------------------------------------------------ EM curves
def plot_history(history, ax=None, *, show_kl=True):
    """Plot log-likelihood and ELBO per iteration (and the KL gap on a twin axis).

    The KL gap after each E-step is zero up to rounding: it is drawn as the line of
    :data:`ROUNDING_FLOOR` it stays under, not as the noise itself (which differs between
    machines). KL gaps after M-steps below the floor are drawn on it.

    Returns the matplotlib Axes (a list of two when ``show_kl``).
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import LogLocator, MaxNLocator

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    it = np.arange(history.n_iter)
    ax.plot(it, history.log_likelihood, "o-", ms=3, label=r"$\log p(y\mid\theta_t)$")
    ax.plot(it, history.elbo, "x", ms=5, label=r"ELBO$(q_t,\theta_t)$ after E-step")
    ax.plot(it + 1, history.elbo_m, "s", ms=3, mfc="none", label=r"ELBO$(q_t,\theta_{t+1})$ after M-step")
    ax.set_xlabel("iteration")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("mean per sample (nats)")
    ax.legend(loc="lower right")
    if not show_kl:
        return ax
    twin = ax.twinx()
    twin.plot(it + 1, np.maximum(history.kl_m, ROUNDING_FLOOR), color="k", lw=1, label="KL after M-step")
    e_step = np.abs(np.asarray(history.kl, dtype=np.float64))
    if np.nanmax(e_step) < ROUNDING_FLOOR:
        twin.axhline(ROUNDING_FLOOR, color="0.45", lw=1, ls=":",
                     label=f"|KL| after E-step < {ROUNDING_FLOOR:.0e} (rounding)")
    else:
        twin.plot(it, np.maximum(e_step, ROUNDING_FLOOR), color="0.45", lw=1, ls=":", label="|KL| after E-step")
    twin.set_yscale("log")
    twin.set_ylim(bottom=ROUNDING_FLOOR / 10)
    twin.yaxis.set_major_locator(LogLocator(base=10, numticks=5))
    twin.set_ylabel("KL gap (nats)")
    twin.legend(loc="center right")
    return [ax, twin]


# ------------------------------------------------------------------------------ label maps


def palette(n_colors: int) -> np.ndarray:
    """``n_colors`` label colours (uint8, shape (n_colors, 3)), the same as :mod:`gmm.render`'s."""
    from gmm.render import make_palette

    return make_palette(n_colors)


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


def histogram_with_components(ax, values, counts, mixing, means, variances, *, color="k", label=None, colors=None,
                              log=False):
    """Pixel-count histogram of one 0..255 channel with the fitted components' densities over it.

    Parameters
    ----------
    ax : matplotlib Axes
    values : ndarray of shape (n,)
        Channel values in 0..255 (distinct values, or every pixel).
    counts : ndarray of shape (n,) or None
        How many pixels hold each value (None: one each).
    mixing, means, variances : ndarray of shape (K,)
        Each component's weight, and its marginal mean and variance on this channel in
        intensity units (see :func:`channel_marginals`).
    color : histogram colour; ``colors`` : (K, 3) uint8 component colours (palette by default).
    log : bool
        Logarithmic pixel counts (from 1), so that small peaks and the tails show.

    Each curve is ``n_pixels * pi_k * N(x; mu_k, var_k)``: with one bin per intensity level it
    sits on the histogram's scale (pixels per level), and the curves sum to the mixture's fit.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    counts = None if counts is None else np.asarray(counts, dtype=np.float64).ravel()
    total = float(values.size if counts is None else counts.sum())
    heights, _, _ = ax.hist(values, bins=256, range=(-0.5, 255.5), weights=counts, histtype="step", color=color,
                            label=label, lw=1)
    x = np.linspace(0.0, 255.0, 511)
    colors = palette(len(mixing)) if colors is None else np.asarray(colors)
    for k, (pi, mu, var) in enumerate(zip(mixing, means, variances)):
        density = np.exp(-0.5 * (x - mu) ** 2 / var) / np.sqrt(2.0 * np.pi * var)
        ax.plot(x, total * pi * density, ls="--", lw=1, color=colors[k] / 255)
    ax.set_xlim(0, 255)
    # The histogram sets the scale: a component narrower than one level would peak far above it.
    if log:
        ax.set_yscale("log")
        ax.set_ylim(1, 3 * heights.max())
    else:
        ax.set_ylim(0, 1.1 * heights.max())
    ax.set_xlabel("intensity")
    ax.set_ylabel("pixels")
    return ax


def channel_marginals(model, channel: int, scale: float = 1.0):
    """Weights, means and variances of every component on one feature, in intensity units.

    ``scale`` is feature units per intensity level (e.g. ``1/255`` for features in [0, 1]);
    works for every ``covariance_type``.
    """
    kind = model.covariance_type
    cov = np.asarray(model.covariances_)
    if kind == "full":
        variances = cov[:, channel, channel]
    elif kind == "tied":
        variances = np.full(model.n_components, cov[channel, channel])
    elif kind == "diag":
        variances = cov[:, channel]
    else:
        variances = cov
    return model.weights_, model.means_[:, channel] / scale, variances / scale**2


def plot_mixture_1d(ax, x, model, *, bins=60):
    """Histogram of 1-D samples (as a density) with each weighted component and their sum."""
    x = np.asarray(x, dtype=np.float64).ravel()
    ax.hist(x, bins=bins, density=True, color="0.8", label="data")
    grid = np.linspace(x.min() - 1.0, x.max() + 1.0, 400)
    total = np.zeros_like(grid)
    colors = palette(model.n_components)
    mixing, mean, var = channel_marginals(model, 0)
    for k in range(model.n_components):
        density = mixing[k] * np.exp(-0.5 * (grid - mean[k]) ** 2 / var[k]) / np.sqrt(2 * np.pi * var[k])
        total += density
        ax.plot(grid, density, "--", color=colors[k] / 255, lw=1)
    ax.plot(grid, total, "k-", lw=1, label="mixture")
    ax.set_xlabel("y")
    ax.set_ylabel("density")
    ax.legend()
    return ax


def plot_mixture_2d(ax, X, model, *, labels=None, n_std=2.0):
    """2-D samples coloured by component with each component's ``n_std`` covariance ellipse."""
    from matplotlib.patches import Ellipse

    X = np.asarray(X, dtype=np.float64)
    labels = model.predict(X) if labels is None else labels
    colors = palette(model.n_components) / 255
    ax.scatter(X[:, 0], X[:, 1], s=4, c=colors[labels], alpha=0.5, linewidths=0)
    for k in range(model.n_components):
        cov = _full_covariance(model, k)
        eigval, eigvec = np.linalg.eigh(cov)
        angle = np.degrees(np.arctan2(eigvec[1, -1], eigvec[0, -1]))
        width, height = 2 * n_std * np.sqrt(eigval[::-1])
        ax.add_patch(Ellipse(model.means_[k], width, height, angle=angle, fill=False, color="k", lw=1))
    ax.set_aspect("equal", adjustable="datalim")
    return ax


def _full_covariance(model, k):
    cov = np.asarray(model.covariances_)
    n = model.means_.shape[1]
    kind = model.covariance_type
    if kind == "full":
        return cov[k]
    if kind == "tied":
        return cov
    return np.diag(cov[k]) if kind == "diag" else np.eye(n) * cov[k]


def plot_elbo_terms(axes, history):
    """The ELBO's parts per iteration (left) and the KL gap opened by each M-step (right).

    Left: ``log p(y|theta_t)``, ``E_q[log p(y,z|theta_t)]`` and ``H(q_t)`` after each E-step
    (their sum is the ELBO, equal to the log-likelihood). Right: ``KL`` after the M-step, on a
    log scale: positive, closed again by the next E-step.
    """
    left, right = axes
    it = np.arange(history.n_iter)
    left.plot(it, history.log_likelihood, "k-", label=r"$\log p(y\mid\theta_t)$")
    left.plot(it, history.expected_complete, "-", color=LINE_COLOURS[0], label=r"$E_{q_t}[\log p(y,z\mid\theta_t)]$")
    left.plot(it, history.entropy, "-", color=LINE_COLOURS[3], label=r"$H(q_t)$")
    left.set_xlabel("iteration")
    left.set_ylabel("nats per sample")
    left.legend(loc="center right")  # the band between H(q) and the log-likelihoods is empty
    gap = np.asarray(history.kl_m, dtype=np.float64)
    right.semilogy(it + 1, np.where(gap > 0, gap, np.nan), "o-", ms=3, color=LINE_COLOURS[1], label="KL after M-step")
    right.set_xlabel("iteration")
    right.set_ylabel("KL gap (nats per sample)")
    right.legend()
    return axes


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


def plot_channel_histograms(axes, image, rgb_model, grey_model, *, scale=1.0 / 255.0, log=True):
    """The paper's Figure 1 histograms with the fitted components' densities drawn over them.

    ``axes``: four Axes for the red, green, blue and grey histograms. ``rgb_model`` was fitted
    on RGB features and ``grey_model`` on grey features, both ``scale`` feature units per
    intensity level (``gmm.image.to_features`` uses 1/255). Each channel shows the RGB
    components' marginals on that channel; the grey panel the grey model's components.
    """
    from gmm.distinct import distinct_pixels
    from gmm.image import to_grey

    colour = distinct_pixels(image)
    for channel, (ax, name) in enumerate(zip(axes[:3], ("red", "green", "blue"))):
        mixing, means, variances = channel_marginals(rgb_model, channel, scale)
        histogram_with_components(ax, colour.values[:, channel], colour.counts, mixing, means, variances,
                                  color="k", log=log)
        ax.set_title(f"{name} channel, RGB model components")
    grey = distinct_pixels(to_grey(image))
    mixing, means, variances = channel_marginals(grey_model, 0, scale)
    histogram_with_components(axes[3], grey.values[:, 0], grey.counts, mixing, means, variances, color="k", log=log)
    axes[3].set_title("grey level, grey model components")
    return axes


def show_photo_panel(ax, image, title="photo (local only, not redistributed)"):
    """Draw the photo itself; notebooks call this only when run locally with ``show_photo=True``."""
    ax.imshow(image)
    ax.set_title(title)
    return ax


def plot_value_counts(ax, counts_by_name: dict):
    """Rank plot of how many pixels hold each distinct value, one line per image (log-log)."""
    for name, counts in counts_by_name.items():
        ranked = np.sort(np.asarray(counts))[::-1]
        ax.loglog(np.arange(1, ranked.size + 1), ranked, label=f"{name}: {ranked.size:,} distinct")
    ax.set_xlabel("distinct value, by rank")
    ax.set_ylabel("pixels holding it")
    ax.legend()
    return ax


# ------------------------------------------------------------------------------ video
def plot_per_frame(ax, series_by_name: dict, *, ylabel, clip_starts=(), log=False, legend=True):
    """A per-frame quantity (flicker, accuracy, seconds) against the frame number, one line per name.

    Parameters
    ----------
    series_by_name : dict of name -> array of shape (n_frames,)
        NaN where the quantity is undefined (the flicker of a clip's first frame).
    clip_starts : sequence of int
        Frames where a new clip starts, drawn as dotted lines.
    legend : bool
        False when the figure has one legend for all its panels (:func:`figure_legend`).
    """
    for name, values in series_by_name.items():
        values = np.asarray(values, dtype=float)
        ax.plot(np.arange(values.size), values, lw=1, label=name)
    for start in clip_starts:
        ax.axvline(start, color="0.5", ls=":", lw=1)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("frame")
    ax.set_ylabel(ylabel)
    if legend:
        ax.legend()
    return ax


def plot_frame_rates(ax, rates_by_name: dict, targets: dict | None = None, legend=True):
    """Horizontal bars of frames per second, one per name, with dashed lines at ``targets`` {label: fps}."""
    names = list(rates_by_name)
    rates = [rates_by_name[name] for name in names]
    ax.barh(np.arange(len(names)), rates, color=LINE_COLOURS[0])
    for y, rate in enumerate(rates):
        ax.text(rate, y, f" {rate:.0f}", va="center")
    for k, (label, value) in enumerate((targets or {}).items()):  # grey: the colours name modes elsewhere
        ax.axvline(value, color="0.25", ls=("--", ":", "-.")[k % 3], lw=1, label=label)
    ax.set_xlim(0, 1.2 * max(max(rates), *(targets or {0: 0}).values()))  # room for the numbers
    ax.set_yticks(np.arange(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel("frames per second")
    if targets and legend:
        ax.legend(loc="lower right")
    return ax


def figure_legend(fig, axes, ncols=3):
    """One legend below all panels: every labelled artist of ``axes``, each label once."""
    handles, labels = [], []
    for ax in np.ravel(axes):
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    return fig.legend(handles, labels, loc="outside lower center", ncols=ncols)


# ------------------------------------------------------------------------------ Student-t mixture
def plot_dof_history(ax, dof, names=None, *, colors=None, linestyle="-", label=None):
    """Degrees of freedom ``nu_k`` per iteration, one line per component, on a log scale.

    Parameters
    ----------
    ax : matplotlib Axes
    dof : ndarray of shape (n_iter, K)
        E.g. ``StudentTMixture.history_.degrees_of_freedom``, its columns in the order of ``names``.
    names : list of K str, optional
        Component names for the legend (default ``component k``).
    colors : (K, 3) uint8, optional
        Component colours (the palette by default).
    linestyle : str
        To tell fits apart on one axis.
    label : str, optional
        Appended to each legend entry, e.g. the start ``nu = 10``.
    """
    dof = np.asarray(dof, dtype=np.float64)
    if dof.ndim != 2:
        raise ValueError(f"dof must have shape (n_iter, K), got {dof.shape}")
    k = dof.shape[1]
    names = [f"component {i}" for i in range(k)] if names is None else list(names)
    colors = palette(k) if colors is None else np.asarray(colors)
    if len(names) != k or len(colors) < k:
        raise ValueError(f"{k} components for {len(names)} names and {len(colors)} colours")
    for i in range(k):
        ax.plot(np.arange(dof.shape[0]), dof[:, i], ls=linestyle, lw=1.2, color=colors[i] / 255,
                label=names[i] if label is None else f"{names[i]}, {label}")
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel(r"degrees of freedom $\nu_k$")
    ax.legend()
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


def plot_gap_to_optimum(ax, traces: dict, optimum: float, *, x="evaluations", target=None):
    """How far each optimiser is below an optimum, per iteration, on a log scale.

    ``traces``: name -> :class:`gmm.gradient.OptimiserTrace` (anything with ``log_likelihood`` and
    the ``x`` attribute: ``"evaluations"``, passes over the data, or ``"seconds"``, wall time).
    Gaps under :data:`ROUNDING_FLOOR` are drawn at it; ``target`` adds a dotted line at that gap.
    """
    if x not in ("evaluations", "seconds"):
        raise ValueError(f"x must be 'evaluations' or 'seconds', got {x!r}")
    for name, trace in traces.items():
        gap = np.maximum(optimum - np.asarray(trace.log_likelihood, dtype=np.float64), ROUNDING_FLOOR)
        ax.semilogy(np.asarray(getattr(trace, x)), gap, lw=1.2, label=name)
    if target is not None:
        ax.axhline(target, color="k", ls=":", lw=0.8, label=f"{target:g} below")
    ax.set_xlabel("passes over the data (evaluations)" if x == "evaluations" else "wall time (s)")
    ax.set_ylabel("gap to the optimum (nats per pixel)")
    ax.legend()
    return ax


def plot_collapse(ax, spreads, log_likelihood, *, slope=None, reference=None, xlabel="spread",
                  reference_label="reference", label=None):
    """Mean log-likelihood as a component's spread shrinks (log x axis, shrinking to the right).

    ``slope`` (nats per decade of spread) draws the predicted asymptote through the point of the
    smallest spread; ``reference`` a horizontal line (e.g. a proper fit's log-likelihood).
    """
    spreads, values = np.asarray(spreads, dtype=np.float64), np.asarray(log_likelihood, dtype=np.float64)
    ax.semilogx(spreads, values, "o-", ms=3, lw=1.2, label=label)
    if slope is not None:
        smallest = int(np.argmin(spreads))
        ax.semilogx(spreads, values[smallest] + slope * (np.log10(spreads[smallest]) - np.log10(spreads)), "k--",
                    lw=0.8, label=f"{slope:.3g} nats per decade")
    if reference is not None:
        ax.axhline(reference, color=LINE_COLOURS[1], ls=":", lw=0.8, label=reference_label)
    if not ax.xaxis_inverted():
        ax.invert_xaxis()
    ax.set_xlabel(xlabel)
    ax.set_ylabel("mean log-likelihood (nats per pixel)")
    ax.legend()
    return ax


def plot_paired_differences(ax, differences: dict, intervals: dict, *, xlabel="colour minus grey"):
    """Per-unit paired differences (dots) and the interval of their mean (bar), one row per metric.

    ``differences``: metric name -> array of differences (one per frame); ``intervals``: metric name
    -> (mean, low, high). A dotted line marks zero: an interval that crosses it does not decide.
    """
    names = list(differences)
    for row, name in enumerate(names):
        d = np.asarray(differences[name], dtype=np.float64)
        # Deterministic vertical spread of the dots, so that equal values stay visible.
        ax.plot(d, row + np.linspace(-0.18, 0.18, d.size), "o", ms=2.5, alpha=0.5, color=LINE_COLOURS[0])
        mean, low, high = intervals[name]
        ax.errorbar([mean], [row], xerr=[[mean - low], [high - mean]], fmt="s", ms=4, capsize=3,
                    color=LINE_COLOURS[1], lw=1.2)
    ax.axvline(0.0, color="k", ls=":", lw=0.8)
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.set_xlabel(xlabel)
    return ax
