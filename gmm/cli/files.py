"""Output files: their names, the label image's encodings, and the checks before writing.

An image's outputs are all encoded before the first is written, each is written atomically
(:func:`gmm.outputs.atomic_write`), and none may replace an input file, whatever its name.
"""

from __future__ import annotations

import io
from pathlib import Path

#: Label value of a masked-out pixel in a 16-bit label image (0..K-1 are the components).
NONE_VALUE = 65535
LABEL_SUFFIXES = {"png": ".png", "tiff": ".tif", "npy": ".npy"}


class InputError(Exception):
    """A problem with one input: reported on one line, then the next input is processed."""


def output_paths(out_dir: Path, name: str, *, label_format="png", table=True, renders=(), model=False,
                 elbo=False, regions=False) -> dict:
    """Where one image's outputs go.

    Returns
    -------
    dict
        Output kind ('labels', 'table', a render kind, 'model', 'elbo', 'history_json',
        'history_csv') to Path, in the order they are written.
    """
    paths = {"labels": out_dir / f"{name}_labels{LABEL_SUFFIXES[label_format]}"}
    if table:
        paths["table"] = out_dir / f"{name}_{'regions' if regions else 'segments'}.csv"
    paths.update({kind: out_dir / f"{name}_{kind}.png" for kind in renders})
    if model:
        paths["model"] = out_dir / f"{name}_model.json"
    if elbo:
        paths.update(elbo=out_dir / f"{name}_elbo.png", history_json=out_dir / f"{name}_history.json",
                     history_csv=out_dir / f"{name}_history.csv")
    return paths


def label_image_bytes(labels, label_format: str, none_value: int = NONE_VALUE) -> bytes:
    """A label map as a file other tools read.

    Parameters
    ----------
    labels : ndarray of shape (H, W), int; -1 on masked-out pixels
    label_format : {'png', 'tiff', 'npy'}
        png and tiff: 16-bit grey, -1 written as ``none_value``; npy: the array as it is.
    none_value : int, default=65535

    Raises
    ------
    InputError
        When a label does not fit in 16 bits.
    """
    import numpy as np

    labels = np.asarray(labels)
    if label_format == "npy":
        from gmm.outputs import npy_bytes

        return npy_bytes(labels)
    limit = none_value if none_value else 65536  # none_value 0: labels 1..65535 fit
    if int(labels.max()) >= limit:
        raise InputError(f"label {int(labels.max())} does not fit in a 16-bit label image (at most {limit - 1}): "
                         "use --label-format npy")
    image = np.where(labels < 0, none_value, labels).astype(np.uint16)
    buffer = io.BytesIO()
    if label_format == "png":
        from PIL import Image

        Image.fromarray(image).save(buffer, format="PNG", compress_level=6)
    else:
        import tifffile

        # metadata=None: no tifffile JSON description, so the file is a plain baseline TIFF.
        tifffile.imwrite(buffer, image, photometric="minisblack", metadata=None)
    return buffer.getvalue()


def file_id(path: Path):
    """(device, inode) of an existing file, None otherwise: equal for every name of one file."""
    try:
        status = Path(path).stat()
    except OSError:
        return None
    return status.st_dev, status.st_ino


def check_outputs(paths: dict, inputs: frozenset, *, overwrite=False, skip_existing=False) -> dict:
    """The outputs to write: refuses inputs always and existing files unless told otherwise.

    Parameters
    ----------
    paths : dict of kind -> Path
    inputs : frozenset of (device, inode)
        The input files (:func:`file_id`).
    overwrite, skip_existing : bool
        Replace existing outputs, or keep them and write only the missing ones.

    Returns
    -------
    dict
        The entries of ``paths`` to write (empty: every output exists and is kept).

    Raises
    ------
    InputError
        An output would replace an input file, or exists and neither flag is given.
    """
    todo = {}
    for kind, path in paths.items():
        key = file_id(path)
        if key is not None and key in inputs:
            raise InputError(f"refusing to overwrite input file {path} with an output")
        if key is None or overwrite:
            todo[kind] = path
        elif not skip_existing:
            raise InputError(f"output {path} exists: pass --overwrite to replace it or --skip-existing to keep it")
    return todo
