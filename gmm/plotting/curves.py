"""Curves over iterations: EM's log-likelihood, ELBO and KL gap, the t mixture's ``nu``, and
the optimisers' gap to the optimum and the log-likelihood of a collapsing component.
"""

from __future__ import annotations

import numpy as np

from gmm.plotting.style import DEFAULT_DPI, LINE_COLOURS, ROUNDING_FLOOR, figure_bytes, figure_style, palette


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
