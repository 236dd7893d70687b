"""Label a collection with one fitted model, on Dask: the labels ``gmm.segment`` gives.

Every pixel gets ``model.predict`` of its colour's features (the model is in canonical order
after :func:`gmm.scale.fit_collection`), as :func:`gmm.segment` labels one image; each worker
predicts each colour once (:class:`gmm.scale.labeller.Labeller`). Outputs: one label map per
frame (PNG, 8-bit for K <= 256 and 16-bit up to 65,536, or .npy with the dtype ``segment``
uses) and optionally ``gmm-segment``'s rendering, each written atomically; a Dask array image
gets a Zarr array.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from gmm.image import check_color_space, n_color_features
from gmm.outputs import atomic_write, npy_bytes, png_bytes
from gmm.scale import cluster
from gmm.scale.fit import check_on_error, report_errors
from gmm.scale.labeller import Labeller, labels_dtype
from gmm.scale.sources import INPUT_ERRORS, ImageFiles, Tiles, VideoRun, plan, prepare, reason

FORMATS = ("png", "npy")
RENDERS = ("labels", "mean", "soft", "overlay")
_Z_RLE = 3  # zlib.Z_RLE


# ------------------------------------------------------------------------- worker tasks
def encode(labels: np.ndarray, fmt: str) -> bytes:
    """A label map as PNG (8-bit grey when it fits, else 16-bit) or .npy bytes, byte-stable.

    PNGs use zlib's run-length strategy: label maps are runs of a few values, which it encodes
    about twice as fast as the default strategy and smaller (measured on 720p football labels).
    """
    if fmt == "npy":
        return npy_bytes(labels)
    import io

    from PIL import Image

    buffer = io.BytesIO()
    pixels = labels if labels.dtype == np.uint8 else labels.astype(np.uint16)
    Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="PNG", compress_level=6,
                                                       compress_type=_Z_RLE)
    return buffer.getvalue()


def output_names(stem: str, fmt: str | None, render: str | None) -> list[str]:
    """File names written for one frame: its label map, then its rendering."""
    return ([f"{stem}_labels.{fmt}"] if fmt else []) + ([f"{stem}_{render}.png"] if render else [])


def rendering(labels, image, model, color_space: str, render: str) -> np.ndarray:
    """``gmm.segment``'s rendering of a frame labelled by a shared model: (H, W, 3) uint8."""
    from gmm.segmentation import SegmentationResult

    result = SegmentationResult(labels=labels, model=model, n_components=model.n_components,
                                color_space=color_space, image=image)
    return result.render(render)


def label_batch(batch, labeller: Labeller, out_dir: str, fmt: str | None, render: str | None = None):
    """Label every frame of a batch and write its outputs; returns (written, errors).

    Each frame's outputs are encoded before the first is written, and each is written atomically.
    """
    from gmm.image import as_image

    written, errors = [], []
    for frame in batch.frames():
        error = frame.error
        if error is None:
            try:
                image = as_image(frame.image, name="the image")
                labels = labeller(prepare(image, labeller.color_space, "the image"))
            except INPUT_ERRORS as exc:
                error = reason(exc)
        if error is not None:
            errors.append((frame.name, error))
            continue
        payloads = ([encode(labels, fmt)] if fmt else []) + \
            ([png_bytes(rendering(labels, image, labeller.model, labeller.color_space, render))] if render else [])
        paths = [Path(out_dir) / name for name in output_names(frame.stem, fmt, render)]
        for path, data in zip(paths, payloads):
            atomic_write(path, data)
        written.append((frame.name, str(paths[0])))
    return written, errors


def label_tile(block, labeller: Labeller) -> np.ndarray:
    """Label map of one tile of a Dask array image."""
    return labeller(prepare(block, labeller.color_space, "tile"))


# --------------------------------------------------------------------------- client side
def _check_model(model, color_space):
    if not hasattr(model, "means_") or not hasattr(model, "predict"):
        raise ValueError("label_collection needs a fitted model (from fit_collection or gmm.GaussianMixture.fit)")
    expected = n_color_features(color_space)
    if model.means_.shape[1] != expected:
        raise ValueError(f"the model has {model.means_.shape[1]} feature(s), but color_space={color_space!r} "
                         f"gives {expected}: pass the colour space the model was fitted in")
    if model.n_components > 1 << 16:
        raise ValueError(f"at most 65,536 components can be written as label images, got {model.n_components}")


def planned_outputs(batches, out_dir: Path, fmt: str | None, render: str | None) -> dict:
    """Output path -> input it is made from, for the batches whose frame names are known up front.

    Raises
    ------
    ValueError
        Two inputs would write the same output, or an output would replace an input.
    """
    outputs, inputs = {}, set()
    for batch in batches:
        if isinstance(batch, ImageFiles):
            named = [(Path(p).stem, p) for p in batch.paths]
            inputs.update(Path(p).resolve() for p in batch.paths)
        elif isinstance(batch, VideoRun) and batch.n_frames is not None:
            stem = Path(batch.path).stem
            named = [(f"{stem}_{i:06d}", f"{batch.path}#{i}") for i in range(batch.first, batch.first + batch.n_frames)]
            inputs.add(Path(batch.path).resolve())
        else:
            continue
        for stem, name in named:
            for file_name in output_names(stem, fmt, render):
                path = (out_dir / file_name).resolve()
                if path in outputs:
                    raise ValueError(f"{outputs[path]} and {name} would both write {path}: rename one of them")
                outputs[path] = name
    for path, name in outputs.items():
        if path in inputs:
            raise ValueError(f"refusing to overwrite input file {path} with an output of {name}")
    return outputs


def _write_tiles(client, batch: Tiles, labeller: Labeller, out_dir: Path, retries):
    """Start writing the labels of a tiled image to ``.<name>_labels.zarr.partial``; (future, partial, final)."""
    try:
        import zarr  # noqa: F401  (to_zarr needs it; fail before any work)
    except ImportError as error:
        raise ImportError("labelling a Dask array writes a Zarr array: pip install zarr") from error
    import dask.array as da

    array = batch.array.rechunk(batch.array.chunksize)  # Zarr needs regular chunks
    drop = {"drop_axis": 2} if array.ndim == 3 else {}
    labels = da.map_blocks(label_tile, array, labeller, dtype=labels_dtype(labeller.model.n_components),
                           chunks=array.chunks[:2], **drop)
    final = out_dir / f"{batch.name}_labels.zarr"
    partial = out_dir / f".{batch.name}_labels.zarr.partial"
    shutil.rmtree(partial, ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    store = labels.to_zarr(str(partial), compute=False)
    return client.compute(store, retries=retries), partial, final


def label_collection(model, sources, out, client=None, *, color_space=None, format="png", render=None,
                     on_error="raise", batch_size=None, retries=2, progress=None, n_workers=None, processes=True):
    """Write the label map of every frame of a collection, with one fitted model.

    Parameters
    ----------
    model : fitted gmm.GaussianMixture
        Typically from :func:`gmm.scale.fit_collection` (canonical order); labels are
        ``model.predict`` of each pixel's features, as :func:`gmm.segment` makes them.
    sources : as for :func:`gmm.scale.fit_collection`
    out : path
        Output folder (created): ``<stem>_labels.png`` per image file, ``<video stem>_<frame
        index, 6 digits>_labels.png`` per video frame, ``<name>_labels.png`` for arrays and
        ``frames()`` objects, ``array_<i>_labels.zarr`` for a Dask array image.
    client : distributed.Client, str or None
    color_space : str, optional
        Default: the model's ``color_space_`` (set by fit_collection), else 'rgb'.
    format : {'png', 'npy'} or None, default='png'
        Of the label maps (None: none written, e.g. with ``render``).
    render : {'labels', 'mean', 'soft', 'overlay'}, optional
        Also write ``<stem>_<render>.png``, the rendering of ``gmm-segment --render`` (see
        :meth:`gmm.SegmentationResult.render`), for image files, video frames and arrays.
    on_error : {'raise', 'skip'}, default='raise'
        Unreadable inputs are reported by name once every other output is written.
    batch_size, retries, progress, n_workers, processes
        As for :func:`gmm.scale.fit_collection`.

    Returns
    -------
    dict
        Input name (path, ``video#index``, array name) -> its first written output, in source order.
    """
    color_space = check_color_space(color_space or getattr(model, "color_space_", "rgb"))
    on_error = check_on_error(on_error)
    if format not in FORMATS and format is not None:
        raise ValueError(f"format must be one of {FORMATS} or None, got {format!r}")
    if render is not None and render not in RENDERS:
        raise ValueError(f"render must be one of {RENDERS} or None, got {render!r}")
    if format is None and render is None:
        raise ValueError("nothing to write: give a format for the label maps, a render, or both")
    if format == "png" and render == "labels":
        raise ValueError("the label maps and render='labels' would both be <stem>_labels.png: "
                         "use format='npy' or format=None with render='labels'")
    _check_model(model, color_space)
    out = Path(out)
    with cluster.connect(client, n_workers, processes) as client:
        batches = plan(sources, batch_size, cluster.n_workers(client))
        planned_outputs(batches, out, format, render)
        out.mkdir(parents=True, exist_ok=True)
        # Each task carries the (small) model rather than a scattered copy, which would be lost
        # with the worker holding it; the workers' label tables are found by the labeller's uid.
        labeller = Labeller(model, color_space)
        jobs, tiled = [], []
        for batch in batches:
            if isinstance(batch, Tiles):
                tiled.append((batch.name, *_write_tiles(client, batch, labeller, out, retries)))
            else:
                jobs.append(client.submit(label_batch, batch, labeller, str(out), format, render, retries=retries,
                                          pure=False))
        cluster.wait(jobs + [t[1] for t in tiled], progress)
        results = client.gather(jobs)
        for _, future, partial, final in tiled:
            future.result()
            shutil.rmtree(final, ignore_errors=True)  # a Zarr array is a folder: no atomic replace
            partial.rename(final)
    written, errors = {}, []
    for done, failed in results:
        written.update(done)
        errors.extend(failed)
    for name, _, _, final in tiled:
        written[name] = str(final)
    report_errors(errors, on_error)
    return written
