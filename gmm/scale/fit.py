"""Count, merge, fit: one Gaussian mixture for a whole collection, exactly.

map: each batch of frames (or tile) becomes its sparse colour counts on a worker;
reduce: counts are merged in a tree on the workers (integer sums: exact, in any order);
fit: EM runs once, on one worker, on the merged distinct values weighted by their counts,
which is EM on every pixel of the collection (the identity behind :func:`gmm.fit_image`).
"""

from __future__ import annotations

import numbers
import warnings

from gmm.image import check_color_space, n_color_features, to_features
from gmm.scale import cluster
from gmm.scale.counts import ColourCounts, DenseAccumulator, count_image, merge_counts, sparse_counts
from gmm.scale.sources import INPUT_ERRORS, Tiles, plan, prepare, reason

ON_ERROR = ("raise", "skip")


class CollectionInputError(ValueError):
    """Inputs of a collection could not be read; ``errors`` lists ``(input name, reason)``."""

    def __init__(self, errors):
        self.errors = list(errors)
        shown = "; ".join(f"{name}: {why}" for name, why in self.errors[:5])
        more = f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        super().__init__(f"{len(self.errors)} input(s) could not be read: {shown}{more}. "
                         "Pass on_error='skip' to leave them out.")


class SkippedInputWarning(UserWarning):
    """An unreadable input was left out (``on_error='skip'``)."""


def check_on_error(on_error: str) -> str:
    """``on_error`` itself, or ValueError when it is not 'raise' or 'skip'."""
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
    return on_error


def report_errors(errors, on_error: str) -> None:
    """Raise :class:`CollectionInputError`, or warn once per input, naming each input."""
    if errors and on_error == "raise":
        raise CollectionInputError(errors)
    for name, why in errors:
        warnings.warn(f"skipped {name}: {why}", SkippedInputWarning, stacklevel=3)


# ------------------------------------------------------------------------- worker tasks
def count_batch(batch, color_space: str) -> ColourCounts:
    """Colour counts of one batch of frames; unreadable frames are listed in ``errors``."""
    channels = n_color_features(color_space)
    errors, n_images = [], 0
    with DenseAccumulator(channels) as acc:
        for frame in batch.frames():
            error = frame.error
            if error is None:
                try:
                    codes, counts = sparse_counts(prepare(frame.image, color_space, "the image"), channels)
                except INPUT_ERRORS as exc:
                    error = reason(exc)
            if error is not None:
                errors.append((frame.name, error))
                continue
            acc.add(codes, counts)
            n_images += 1
        codes, counts = acc.result()
    return ColourCounts(codes, counts, channels, n_images, tuple(errors))


def count_tile(block, color_space: str, name: str) -> ColourCounts:
    """Colour counts of one tile of a Dask array image."""
    return count_image(prepare(block, color_space, name), n_color_features(color_space))


def summary(counts: ColourCounts) -> dict:
    """What the client needs to know about merged counts, without their arrays."""
    return {"errors": list(counts.errors), "n_images": counts.n_images, "n_pixels": counts.n_pixels,
            "n_distinct": counts.n_distinct}


def fit_counts(counts: ColourCounts, n_components: int, color_space: str, params: dict):
    """EM on the distinct values weighted by their counts, then the canonical component order.

    The same computation as :func:`gmm.segment` on one image holding all the pixels: the
    features of the distinct values (sorted by code, i.e. lexicographically) with their counts as
    sample weights, ``init_params`` and ``random_state`` as given, components numbered by
    :func:`gmm.labels.canonical_order`.

    Returns
    -------
    model : gmm.GaussianMixture
    caught : list of (warning class, message)
        Warnings of the fit (convergence, collapse), to be re-issued on the client.
    """
    from gmm.labels import canonical_order, relabel_model
    from gmm.mixture import GaussianMixture

    if counts.n_distinct < n_components:
        raise ValueError(f"the collection has {counts.n_distinct} distinct value(s), fewer than "
                         f"n_components={n_components}")
    features = to_features(counts.values(), color_space)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = GaussianMixture(n_components, **params).fit(features, sample_weight=counts.counts)
    model = relabel_model(model, canonical_order(model, color_space))
    return model, [(w.category, str(w.message)) for w in caught]


# --------------------------------------------------------------------------- client side
def submit_counts(client, batches, color_space: str, retries: int):
    """One future of ColourCounts per batch (tiles: per tile), in plan order."""
    import dask

    futures = []
    for batch in batches:
        if isinstance(batch, Tiles):
            blocks = batch.array.to_delayed().ravel()
            tasks = [dask.delayed(count_tile, pure=True)(block, color_space, f"{batch.name} tile {i}")
                     for i, block in enumerate(blocks)]
            futures.extend(client.compute(tasks, retries=retries))
        else:
            futures.append(client.submit(count_batch, batch, color_space, retries=retries, pure=False))
    return futures


def count_collection(sources, color_space: str = "rgb", *, client=None, batch_size=None, retries: int = 2,
                     progress=None, n_workers=None, processes: bool = True) -> ColourCounts:
    """The merged colour counts of a collection, on Dask (see :func:`fit_collection`).

    Returns
    -------
    ColourCounts
        Its ``errors`` list the inputs that could not be read (left out of the counts).
    """
    color_space = check_color_space(color_space)
    with cluster.connect(client, n_workers, processes) as client:
        merged = _merged_future(client, sources, color_space, batch_size, retries, progress)
        return merged.result()


def _merged_future(client, sources, color_space, batch_size, retries, progress):
    batches = plan(sources, batch_size, cluster.n_workers(client))
    leaves = submit_counts(client, batches, color_space, retries)
    merged = cluster.tree_reduce(client, leaves, merge_counts, retries=retries)
    cluster.wait([merged], progress)  # the bar follows every task the merge depends on
    return merged


def fit_collection(sources, n_components, client=None, color_space="rgb", *, init="kmeans", random_state=0,
                   on_error="raise", batch_size=None, retries=2, progress=None, n_workers=None, processes=True,
                   **gmm_params):
    """Fit one Gaussian mixture to every pixel of a collection of images, a video or a huge image.

    Exactly the fit :func:`gmm.segment` would make on one image holding all the pixels (same
    features, weights, start and canonical component order), whatever the number of workers
    and batches: colour counts are merged as integers before EM runs once on the distinct values.

    Parameters
    ----------
    sources : path, folder, glob, video, NumPy or Dask array, object with ``frames()``, or a list
        See :mod:`gmm.scale.sources`.
    n_components : int
    client : distributed.Client, str or None
        A client, a scheduler address, or None for a LocalCluster started for this call.
    color_space : {'rgb', 'grey', 'lab', 'hsv'}, default='rgb'
    init : str, default='kmeans'
        ``init_params`` of :class:`gmm.GaussianMixture`.
    random_state : int, default=0
    on_error : {'raise', 'skip'}, default='raise'
        An unreadable input (missing, corrupt, grey in an RGB collection) raises
        :class:`CollectionInputError` naming every such input, or is left out with a
        :class:`SkippedInputWarning` naming it.
    batch_size : int, optional
        Frames per task (see :func:`gmm.scale.sources.plan`).
    retries : int, default=2
        Dask retries of a failed task (a worker lost mid-task is rescheduled by Dask anyway).
    progress : bool, optional
        Dask's progress bar; default: when stdout is a terminal.
    n_workers, processes
        Of the LocalCluster started when ``client`` is None (see :func:`gmm.scale.cluster.connect`).
    **gmm_params
        Passed to :class:`gmm.GaussianMixture` (``tol``, ``max_iter``, ``covariance_type``, ...).

    Returns
    -------
    gmm.GaussianMixture
        Fitted, components in canonical order, with ``history_`` as usual, and ``color_space_``,
        ``n_images_``, ``n_pixels_``, ``n_distinct_`` and ``skipped_`` (``(name, reason)`` of the
        inputs left out).
    """
    color_space, on_error = check_color_space(color_space), check_on_error(on_error)
    if isinstance(n_components, bool) or not isinstance(n_components, numbers.Integral) or n_components < 1:
        raise ValueError(f"n_components must be an integer >= 1, got {n_components!r}")
    clash = {"init_params", "n_components"} & set(gmm_params)
    if clash:
        raise ValueError(f"pass {sorted(clash)} through fit_collection's own arguments (init, n_components)")
    params = dict(gmm_params, init_params=init, random_state=random_state)
    with cluster.connect(client, n_workers, processes) as client:
        merged = _merged_future(client, sources, color_space, batch_size, retries, progress)
        info = client.submit(summary, merged, pure=False, retries=retries).result()
        report_errors(info["errors"], on_error)
        if info["n_images"] == 0:
            raise ValueError("no input could be read: nothing to fit")
        model, caught = client.submit(fit_counts, merged, n_components, color_space, params,
                                      pure=False, retries=retries).result()
    for category, message in caught:
        warnings.warn(message, category, stacklevel=2)
    model.color_space_ = color_space
    model.n_images_, model.n_pixels_, model.n_distinct_ = info["n_images"], info["n_pixels"], info["n_distinct"]
    model.skipped_ = info["errors"]
    return model
