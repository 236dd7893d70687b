"""Data against fitted densities: channel histograms with the components over them, 1-D and
2-D mixtures, and how many pixels hold each distinct value.
"""

from __future__ import annotations

import numpy as np

from gmm.plotting.style import palette


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


def plot_value_counts(ax, counts_by_name: dict):
    """Rank plot of how many pixels hold each distinct value, one line per image (log-log)."""
    for name, counts in counts_by_name.items():
        ranked = np.sort(np.asarray(counts))[::-1]
        ax.loglog(np.arange(1, ranked.size + 1), ranked, label=f"{name}: {ranked.size:,} distinct")
    ax.set_xlabel("distinct value, by rank")
    ax.set_ylabel("pixels holding it")
    ax.legend()
    return ax
