"""Byte-stable figure files for the notebooks (the plotting helpers are in :mod:`gmm.plotting`).

A figure committed to ``figures/`` must be reproducible to the byte: :func:`save_figure` drops
the metadata matplotlib stamps into each file (software version in PNG, creation date in PDF,
random ids in SVG) and writes atomically, so the same figure saved twice gives the same sha256
and a crashed run never leaves half a file behind.

Licence rule: the fox, moose and football photos may not be redistributed, and committed figures
are redistribution. A notebook run with ``show_photo=True`` draws the photo, so it saves into
:func:`output_dir`'s ``figures/local/`` (git-ignored, outside the manifest) instead.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from gmm import paths
from gmm.outputs import atomic_write

#: File formats save_figure writes, with the metadata that would otherwise change each run.
_STABLE_METADATA = {
    "png": {"Software": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
    "svg": {"Date": None, "Creator": None},
}
_NAME = re.compile(r"^[0-9]{2}_[A-Za-z0-9_-]+$")
#: Resolution of the committed PNGs: enough for the paper's column width, small in git.
DEFAULT_DPI = 100

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
    import matplotlib

    buffer = io.BytesIO()
    # SVG element ids are random unless salted.
    with matplotlib.rc_context({"svg.hashsalt": "gmm"}):
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata=_STABLE_METADATA[fmt])
    return buffer.getvalue()


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
    atomic_write(path, figure_bytes(fig, fmt, dpi))
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return path


def output_dir(show_photo: bool) -> Path | None:
    """Where a notebook saves: ``None`` (``figures/``) normally, ``figures/local/`` with the photo shown.

    Figures that show a licensed photo must never reach the committed ``figures/`` folder.
    """
    if not show_photo:
        return None
    local = paths.figures_dir() / "local"
    local.mkdir(exist_ok=True)
    return local
