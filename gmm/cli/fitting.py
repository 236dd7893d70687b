"""``gmm-segment fit``: one model for all the pixels of one or more images.

Each image is reduced to the distinct values of its used pixels and their counts (in Dask
worker processes with ``--jobs``, on a Dask cluster with ``--scheduler``); the counts are merged
as integers and EM runs once on the merged distinct values weighted by their counts, which is EM
on every pixel of every image. On one image it is exactly the fit ``gmm-segment`` makes (same
values, counts, start and order). On a cluster the counts are merged on the workers, in a tree
(:func:`gmm.scale.cluster.tree_reduce`), grey and colour images apart until the colour space is
known; only the merged counts come back, and the model is the same bit for bit.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np

from gmm.cli.files import InputError, check_outputs, file_id
from gmm.cli.work import Outcome, _warnings, is_grey, load, reason


@dataclass(frozen=True)
class Counted(Outcome):
    """One image's distinct used values (uint8, 1 or 3 channels) and their counts."""

    values: np.ndarray | None = None
    counts: np.ndarray | None = None


def count_job(job, settings) -> Counted:
    """Distinct values and counts of one image's used pixels (a failure: status 'failed')."""
    from gmm.distinct import distinct_pixels

    alpha, mask_template = settings
    start = time.perf_counter()
    try:
        image, mask = load(job.path, alpha, mask_template)
        if is_grey(image):
            image = image if image.ndim == 2 else image[:, :, 0]
        used = image if mask is None else image[mask][:, np.newaxis]
        pixels = distinct_pixels(used)
    except (InputError, OSError, ValueError) as exc:
        return Counted(job.index, str(job.path), "failed", messages=(("error", reason(exc)),))
    detail = f"{pixels.n_pixels:,} pixels, {len(pixels.counts):,} distinct {'grey levels' if pixels.values.shape[1] == 1 else 'colours'}"
    return Counted(job.index, str(job.path), "done", detail=detail, seconds=time.perf_counter() - start,
                   values=pixels.values, counts=pixels.counts)


def without_counts(counted: Counted) -> Counted:
    """What the client reports of one image: its outcome, not its arrays."""
    return Counted(counted.index, counted.path, counted.status, detail=counted.detail, seconds=counted.seconds,
                   messages=counted.messages)


def merge_by_channels(*parts) -> tuple:
    """Exact merge of counted images (or of earlier merges) on a worker, grey and colour apart.

    Returns
    -------
    tuple of Counted
        At most two: the merged grey images and the merged colour images (``index`` -1).
    """
    groups = {}
    for part in parts:
        for counted in (part if isinstance(part, tuple) else (part,)):
            if counted.status == "done":
                groups.setdefault(counted.values.shape[1], []).append(counted)
    merged = []
    for channels in sorted(groups):
        _, values, counts = merge_counts(groups[channels], "grey" if channels == 1 else "rgb")
        merged.append(Counted(-1, "", "done", values=values, counts=counts))
    return tuple(merged)


def count_on_cluster(jobs, settings, scheduler, handle) -> list:
    """Count every image on the Dask cluster at ``scheduler``, report each, merge on the workers.

    Returns the merged parts (see :func:`merge_by_channels`), empty when no image was read.
    """
    from gmm.cli.batch import on_cluster
    from gmm.scale import connect
    from gmm.scale.cluster import tree_reduce

    with connect(scheduler) as client:
        counted = client.map(count_job, jobs, settings=settings, pure=False, retries=1)
        merged = tree_reduce(client, counted, merge_by_channels, retries=1)
        for outcome in on_cluster(client, client.map(without_counts, counted, pure=False)):
            handle(outcome)
        return list(merged.result())


def merge_counts(parts, space: str):
    """The distinct values of all parts in ``space``'s channels, with summed counts.

    Parameters
    ----------
    parts : list of Counted (status 'done')
    space : {'auto', 'rgb', 'grey', 'lab', 'hsv'}
        'auto': grey when every part is grey, else rgb.

    Returns
    -------
    space : str
    values : ndarray of shape (m, 1) or (m, 3), uint8, sorted
    counts : ndarray of shape (m,), int64
    """
    from gmm.distinct import distinct_pixels
    from gmm.image import luma

    if space == "auto":
        space = "grey" if all(part.values.shape[1] == 1 for part in parts) else "rgb"
    converted = []
    for part in parts:
        values = part.values
        if space == "grey" and values.shape[1] == 3:
            values = luma(values)[:, np.newaxis]
        elif space != "grey" and values.shape[1] == 1:
            values = np.repeat(values, 3, axis=1)  # a grey pixel is the colour (v, v, v)
        converted.append(values)
    merged = distinct_pixels(np.concatenate(converted)[:, np.newaxis, :])
    weights = np.concatenate([part.counts for part in parts]).astype(np.float64)
    # float64 sums of integers are exact below 2**53 pixels.
    counts = np.rint(np.bincount(merged.index.ravel(), weights=weights)).astype(np.int64)
    return space, merged.values, counts


def fit_counts(values, counts, space: str, args):
    """EM on the distinct values weighted by their counts, components in canonical order.

    Returns
    -------
    model : gmm.GaussianMixture
    caught : list of warning messages (one line each)
    """
    from gmm.image import to_features
    from gmm.labels import canonical_order, relabel_model
    from gmm.mixture import GaussianMixture

    k = args.n_components
    if k != "auto" and len(values) < k:
        raise InputError(f"the images hold {len(values)} distinct value(s), fewer than -k {k}")
    features = to_features(values, space)
    params = dict(init_params=args.init, random_state=args.seed, tol=args.tol, max_iter=args.max_iter,
                  reg_covar=args.reg_covar)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if k == "auto":  # as gmm.segment(n_components="auto") does, on the merged counts
            from gmm.model_selection import select_n_components

            k = select_n_components(features, counts, **params).n_components
        model = GaussianMixture(k, **params).fit(features, sample_weight=counts)
    model = relabel_model(model, canonical_order(model, space), copy=False)
    return model, [text for _, text in _warnings(caught)]


def run_fit(args, jobs, problems, reporter) -> int:
    """Count, merge, fit, write the model file; returns the exit status."""
    from gmm.cli.batch import run_jobs
    from gmm.model_io import model_json_bytes
    from gmm.outputs import atomic_write

    inputs = frozenset(key for key in (file_id(job.path) for job in jobs) if key is not None)
    try:
        todo = check_outputs({"model": args.output}, inputs, overwrite=args.overwrite,
                             skip_existing=args.skip_existing)
    except InputError as exc:
        reporter.message("error", args.output, str(exc))
        return 1
    if not todo:
        print(f"{args.output}: exists, kept (--skip-existing)")
        return 0
    for problem in problems:
        reporter.failed(problem.path, problem.reason)
    parts = []

    def handle(outcome):
        reporter.outcome(outcome)
        if outcome.status == "done":
            parts.append(outcome)

    settings = (args.alpha, args.mask)
    if args.scheduler is None:
        run_jobs(count_job, jobs, settings, args.jobs, handle)
        n_images = len(parts)
    else:  # parts: the workers' merges; handle() saw only outcomes
        parts = count_on_cluster(jobs, settings, args.scheduler, reporter.outcome)
        n_images = reporter.counts["done"]
    reporter.close()
    if not parts:
        reporter.message("error", args.output, "no image could be read: no model written")
        return 1
    parts.sort(key=lambda part: part.index)  # the merge is order-free; sorted for clarity
    space, values, counts = merge_counts(parts, args.space)
    try:
        model, caught = fit_counts(values, counts, space, args)
        info = {"n_images": n_images, "n_pixels": int(counts.sum()), "n_distinct": int(len(values))}
        atomic_write(args.output, model_json_bytes(model, space, args.names, info))
    except (InputError, ValueError, OSError) as exc:
        reporter.message("error", args.output, reason(exc))
        return 1
    for text in caught:
        reporter.message("warning", args.output, text)
    print(f"{args.output}: K={model.n_components}{' (auto)' if args.n_components == 'auto' else ''}, {space}, fitted on {n_images} image(s), "
          f"{int(counts.sum()):,} pixels, {len(values):,} distinct values, {model.n_iter_} EM iterations")
    return 1 if reporter.counts["failed"] else 0
