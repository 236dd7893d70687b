"""Saving the notebooks' figures: byte-stable, atomic, with declared provenance.

:func:`save_figure` encodes the figure without run-dependent metadata
(:func:`gmm.plotting.figure_bytes`), writes it atomically (:func:`gmm.outputs.atomic_write`)
and records its manifest entry (:func:`gmm.companion.provenance.declare`): the call that makes
a figure says where it came from.

Licence rule: the fox, moose and football photos may not be redistributed, and committed figures
are redistribution. A notebook run with ``show_photo=True`` draws the photo, so it saves into
:func:`output_dir`'s ``local/`` folder (outside the manifest, never committed) instead.
"""

from __future__ import annotations

import re
from pathlib import Path

from gmm.companion import provenance
from gmm.outputs import atomic_write
from gmm.plotting import DEFAULT_DPI, STABLE_METADATA, figure_bytes

_NAME = re.compile(r"^[0-9]{2}_[A-Za-z0-9_-]+$")


def figure_path(name: str, fmt: str = "png", directory: Path | None = None) -> Path:
    """Where figure ``name`` (``NN_description``) is saved."""
    if not _NAME.match(name):
        raise ValueError(
            f"figure name {name!r} must look like 'NN_description' (two digits, then letters, digits, '_' or '-')"
        )
    if fmt not in STABLE_METADATA:
        raise ValueError(f"unsupported figure format {fmt!r}; use one of {sorted(STABLE_METADATA)}")
    directory = provenance.output_root() if directory is None else Path(directory)
    return directory / f"{name}.{fmt}"


#: Formats of a figure the paper includes: the PDF for the paper (vector, text at its drawn size),
#: the PNG for the notebooks and for comparing reruns by image similarity.
PAPER_FORMATS = ("png", "pdf")


def save_figure(fig, name: str, *, fmt="png", dpi: int = DEFAULT_DPI, directory=None, close=False) -> Path:
    """Save ``fig`` as ``<figures>/<name>.<fmt>`` (one file per format) and declare its provenance.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    name : str
        ``NN_description``: ``NN`` is the notebook's number, so every file names its source.
    fmt : {"png", "pdf", "svg"} or sequence of them
        E.g. :data:`PAPER_FORMATS` for a figure of the paper: ``name.png`` and ``name.pdf``, both
        declared in the manifest.
    dpi : int
        Resolution of a PNG (at least 100).
    directory : path, optional
        Defaults to the run's figures folder (``figures/``, or the pipeline's scratch folder).
        A ``local/`` folder (:func:`output_dir`) is never recorded in the manifest.
    close : bool
        Close the figure after saving (it is then not shown inline).

    Returns
    -------
    pathlib.Path of the file written in the first format.
    """
    formats = (fmt,) if isinstance(fmt, str) else tuple(fmt)
    if not formats:
        raise ValueError("no figure format given")
    paths = [figure_path(name, one, directory) for one in formats]  # every name and format checked first
    for path, one in zip(paths, formats):
        atomic_write(path, figure_bytes(fig, one, dpi))
        if path.parent.name != "local":
            provenance.declare("figures", path.name, path, path.parent / provenance.MANIFEST_NAME)
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return paths[0]


def output_dir(show_photo: bool) -> Path | None:
    """Where a notebook saves: ``None`` (the run's figures folder) normally, its ``local/`` folder with the photo.

    Figures that show a licensed photo must never reach the committed ``figures/`` folder.
    """
    if not show_photo:
        return None
    local = provenance.output_root() / "local"
    local.mkdir(parents=True, exist_ok=True)
    return local
