"""The one atomic writer, and byte-stable encoders: PNG, .npy, the ELBO history as JSON/CSV.

Every encoder returns bytes, so a caller can prepare all of its outputs before writing the first,
and :func:`atomic_write` puts each in place by a rename: a failure leaves no half-written file.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from pathlib import Path


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file in the destination folder, then rename it into place.

    ``os.replace`` within one folder is an atomic rename: the destination holds either its old
    content or the complete new one, never a partial file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes files private; outputs are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def png_bytes(rgb) -> bytes:
    """Encode a uint8 RGB array as PNG with no metadata, so equal arrays give equal bytes."""
    import numpy as np
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)).save(
        buffer, format="PNG", compress_level=6
    )
    return buffer.getvalue()


def _finite_or_none(value):
    value = float(value)
    return value if math.isfinite(value) else None


def history_json_bytes(model, meta: dict) -> bytes:
    """The fit's summary and per-iteration history as JSON (NaN written as null)."""
    columns = model.history_.as_dict()
    document = {
        **meta,
        "converged": bool(model.converged_),
        "n_iter": int(model.n_iter_),
        "lower_bound": _finite_or_none(model.lower_bound_),
        "history": {name: [_finite_or_none(v) for v in values] for name, values in columns.items()},
    }
    return (json.dumps(document, indent=2) + "\n").encode()


def history_csv_bytes(history) -> bytes:
    """The per-iteration history as CSV: one row per iteration, NaN written as an empty cell."""
    columns = history.as_dict()
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["iteration", *columns])
    for i in range(history.n_iter):
        cells = [_finite_or_none(values[i]) for values in columns.values()]
        writer.writerow([i, *("" if c is None else repr(c) for c in cells)])
    return text.getvalue().encode()


def npy_bytes(array) -> bytes:
    """An array in NumPy's .npy format."""
    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array))
    return buffer.getvalue()
