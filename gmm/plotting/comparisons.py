"""Panels that compare methods: per-frame quantities and frame rates of the video modes, one
legend for several panels, and paired differences with their intervals.
"""

from __future__ import annotations

import numpy as np

from gmm.plotting.style import LINE_COLOURS


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
