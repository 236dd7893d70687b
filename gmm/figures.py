"""Plotting helpers for the notebooks and byte-stable figure files.

A figure committed to ``figures/`` must be reproducible to the byte: :func:`save_figure` drops
the metadata matplotlib stamps into each file (software version in PNG, creation date in PDF)
and writes atomically, so the same figure saved twice gives the same sha256 and a crashed run
never leaves half a file behind.

Licence rule: the fox, moose and football photos may not be redistributed, so helpers here draw
*label-derived* pictures (palette label maps, component masks, histograms, responsibility maps),
never the photo itself; :func:`show_photo_panel` is only called when a notebook is run locally
with ``show_photo=True``.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from gmm import paths

#: File formats save_figure writes, with the metadata that would otherwise change each run.
_STABLE_METADATA = {
    "png": {"Software": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
    "svg": {"Date": None, "Creator": None},
}
_NAME = re.compile(r"^[0-9]{2}_[A-Za-z0-9_-]+$")
#: Resolution of the committed PNGs: enough for the paper's column width, small in git.
DEFAULT_DPI = 100

# Default colours for up to 8 components, the first three pure red, green, blue as in the
# paper's figures. gmm.render.PALETTE is the reference when it exists; this is its fallback.
_FALLBACK_PALETTE = np.array(
    [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [255, 0, 255], [0, 255, 255],
     [255, 128, 0], [128, 0, 255]],
    dtype=np.uint8,
)


def palette(n_colors: int) -> np.ndarray:
    """``n_colors`` RGB colours (uint8, shape (n_colors, 3)) for label maps.

    Uses :data:`gmm.render.PALETTE` when that module is installed, so notebooks and the CLI
    draw components in the same colours.
    """
    try:
        from gmm.render import PALETTE as colors
    except ImportError:
        colors = _FALLBACK_PALETTE
    colors = np.asarray(colors, dtype=np.uint8)
    if n_colors > len(colors):
        raise ValueError(f"the palette has {len(colors)} colours, {n_colors} requested")
    return colors[:n_colors]


# --------------------------------------------------------------------------------------------
# Saving


def figure_path(name: str, fmt: str = "png", directory: Path | None = None) -> Path:
    """Where figure ``name`` (``NN_description``) is saved."""
    if not _NAME.match(name):
        raise ValueError(
            f"figure name {name!r} must look like 'NN_description' (two digits, then letters, digits, '_' or '-')"
        )
    if fmt not in _STABLE_METADATA:
        raise ValueError(f"unsupported figure format {fmt!r}; use one of {sorted(_STABLE_METADATA)}")
    directory = paths.figures_dir() if directory is None else Path(directory)
    return directory / f"{name}.{fmt}"


def figure_bytes(fig, fmt: str = "png", dpi: int = DEFAULT_DPI) -> bytes:
    """The encoded figure, without run-dependent metadata."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=dpi, metadata=_STABLE_METADATA[fmt])
    return buffer.getvalue()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual file mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save_figure(fig, name: str, *, fmt: str = "png", dpi: int = DEFAULT_DPI, directory=None, close=False) -> Path:
    """Save ``fig`` as ``figures/<name>.<fmt>``, byte-stable and atomically.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    name : str
        ``NN_description``: ``NN`` is the notebook's number, so every file names its source.
    fmt : {"png", "pdf", "svg"}
    dpi : int
    directory : path, optional
        Defaults to :data:`gmm.paths.FIGURES_DIR`.
    close : bool
        Close the figure after saving (it is then not shown inline).

    Returns
    -------
    pathlib.Path of the written file.
    """
    path = figure_path(name, fmt, directory)
    atomic_write_bytes(path, figure_bytes(fig, fmt, dpi))
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return path


# --------------------------------------------------------------------------------------------
# Pictures made from labels (no photo pixels)


def label_image(labels, colors=None) -> np.ndarray:
    """Label map (H, W) -> uint8 RGB image drawn in palette colours."""
    labels = np.asarray(labels)
    if labels.ndim != 2 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be an integer array of shape (H, W), got {labels.dtype} {labels.shape}")
    n = int(labels.max()) + 1
    colors = palette(n) if colors is None else np.asarray(colors, dtype=np.uint8)
    return colors[labels]


def soft_palette_image(resp, colors=None) -> np.ndarray:
    """Responsibilities (H, W, K) -> uint8 RGB blend of the palette colours, ``sum_k r_k c_k``."""
    resp = np.asarray(resp, dtype=np.float32)
    if resp.ndim != 3:
        raise ValueError(f"responsibilities must have shape (H, W, K), got {resp.shape}")
    colors = palette(resp.shape[2]) if colors is None else np.asarray(colors, dtype=np.uint8)
    blend = resp @ colors.astype(np.float32)
    return np.clip(np.rint(blend), 0, 255).astype(np.uint8)


def show_label_map(ax, labels, *, title=None, colors=None, names=None, axes_in_pixels=True):
    """Draw a palette label map on ``ax`` (with a legend of component names when given)."""
    image = label_image(labels, colors)
    ax.imshow(image, interpolation="nearest")
    if title:
        ax.set_title(title, fontsize=9)
    if not axes_in_pixels:
        ax.set_axis_off()
    if names is not None:
        from matplotlib.patches import Patch

        used = palette(len(names)) if colors is None else np.asarray(colors)
        handles = [Patch(color=used[k] / 255, label=name) for k, name in enumerate(names)]
        ax.legend(handles=handles, loc="upper right", fontsize=7, framealpha=0.8)
    return ax


def mask_grid(axes_row, masks, *, row_label=None):
    """Draw component masks (K, H, W) as white-on-black panels along ``axes_row`` (paper's Fig. 1)."""
    masks = np.asarray(masks, dtype=bool)
    if len(axes_row) != masks.shape[0]:
        raise ValueError(f"{masks.shape[0]} masks for {len(axes_row)} axes")
    for k, (ax, mask) in enumerate(zip(axes_row, masks)):
        ax.imshow(mask, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"component {k} ({100 * mask.mean():.1f}%)", fontsize=7)
    if row_label:
        axes_row[0].set_ylabel(row_label, fontsize=8)


def histogram_with_components(ax, values, counts, mixing, means, variances, *, color="k", label=None, colors=None):
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

    Each curve is ``n_pixels * pi_k * N(x; mu_k, var_k)``: with one bin per intensity level it
    sits on the histogram's scale (pixels per level), and the curves sum to the mixture's fit.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    counts = None if counts is None else np.asarray(counts, dtype=np.float64).ravel()
    total = float(values.size if counts is None else counts.sum())
    ax.hist(values, bins=256, range=(-0.5, 255.5), weights=counts, histtype="step", color=color, label=label, lw=1)
    x = np.linspace(0.0, 255.0, 511)
    colors = palette(len(mixing)) if colors is None else np.asarray(colors)
    for k, (pi, mu, var) in enumerate(zip(mixing, means, variances)):
        density = np.exp(-0.5 * (x - mu) ** 2 / var) / np.sqrt(2.0 * np.pi * var)
        ax.plot(x, total * pi * density, ls="--", lw=1, color=colors[k] / 255)
    ax.set_xlim(0, 255)
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
    ax.legend(fontsize=8)
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
    left.plot(it, history.expected_complete, "-", color="tab:blue", label=r"$E_{q_t}[\log p(y,z\mid\theta_t)]$")
    left.plot(it, history.entropy, "-", color="tab:orange", label=r"$H(q_t)$")
    left.set_xlabel("iteration")
    left.set_ylabel("nats per sample")
    left.legend(fontsize=8)
    gap = np.asarray(history.kl_m, dtype=np.float64)
    right.semilogy(it + 1, np.where(gap > 0, gap, np.nan), "o-", ms=3, color="tab:red", label="KL after M-step")
    right.set_xlabel("iteration")
    right.set_ylabel("KL gap (nats per sample)")
    right.legend(fontsize=8)
    return axes


def show_photo_panel(ax, image, title="photo (local only, not redistributed)"):
    """Draw the photo itself; notebooks call this only when run locally with ``show_photo=True``."""
    ax.imshow(image)
    ax.set_title(title, fontsize=9)
    return ax
