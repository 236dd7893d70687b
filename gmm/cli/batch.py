"""Many images: run the jobs here or in Dask worker processes, and tell the user as they finish.

On a terminal a progress bar shows on stderr; otherwise each image gets one line on stdout as it
finishes. Errors and warnings always go to stderr, one line each, and a summary ends the run.
``--jobs N`` runs the images on a ``dask.bag`` with the processes scheduler: one task per image,
handed out one at a time, each writing its own outputs, so finished outputs stay on disk
whatever happens to the rest. ``--scheduler ADDRESS`` submits the same tasks to an existing
``dask.distributed`` cluster (through :func:`gmm.scale.connect`).
"""

from __future__ import annotations

import signal
import sys
import time
from collections import Counter

from gmm.cli.options import PROG


class Reporter:
    """Prints what happens to each input, counts outcomes, draws the progress bar on a terminal."""

    def __init__(self, total: int, unit: str = "image"):
        from tqdm import tqdm

        self.total, self.unit, self.counts, self.start = total, unit, Counter(), time.perf_counter()
        self.bar = tqdm(total=total, desc=PROG, unit=unit, file=sys.stderr, disable=not sys.stderr.isatty())
        self.lines = self.bar.disable  # one line per input when no bar is drawn

    def message(self, kind: str, path, text: str) -> None:
        """One line on stderr: 'gmm-segment: KIND: PATH: TEXT' (clear of the bar)."""
        from tqdm import tqdm

        tqdm.write(f"{PROG}: {kind}: {path}: {text}", file=sys.stderr)

    def failed(self, path, text: str) -> None:
        """An input that failed before any work (missing, an empty folder)."""
        self.message("error", path, text)
        self.counts["failed"] += 1
        self.bar.update(1)

    def outcome(self, outcome) -> None:
        """Report one image's Outcome."""
        for kind, text in outcome.messages:
            self.message(kind, outcome.path, text)
        self.counts[outcome.status] += 1
        if self.lines and outcome.status == "done" and outcome.written:
            print(f"{outcome.path} -> {', '.join(outcome.written)} ({outcome.detail}, {outcome.seconds:.2f} s)", flush=True)
        elif self.lines and outcome.status == "done":
            print(f"{outcome.path}: {outcome.detail} ({outcome.seconds:.2f} s)", flush=True)
        elif self.lines and outcome.status == "skipped":
            print(f"{outcome.path}: skipped, its outputs exist ({outcome.detail})", flush=True)
        self.bar.update(1)

    def summary(self) -> str:
        """'N images: a written, b skipped, c failed (t s)'."""
        c = self.counts
        return (f"{PROG}: {self.total} {self.unit}{'s' if self.total != 1 else ''}: {c['done']} written, "
                f"{c['skipped']} skipped, {c['failed']} failed ({time.perf_counter() - self.start:.1f} s)")

    def close(self) -> None:
        self.bar.close()


def interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` is Ctrl-C, or an error that Ctrl-C caused (compiled code, e.g. numba,
    wraps a KeyboardInterrupt raised inside it in a SystemError)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def silence_leftovers() -> None:
    """After Ctrl-C, on the way out: objects the interrupt left half-built (e.g. an image
    decoder stopped inside its constructor) may fail in their finalisers; say nothing of it."""
    import gc

    sys.unraisablehook = lambda unraisable: None
    gc.collect()


def quiet_worker() -> None:
    """Worker processes ignore Ctrl-C: the main process stops the batch, and a worker finishes
    (and writes, atomically) the image it holds instead of printing a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_jobs(task, jobs, settings, n_jobs: int, handle, scheduler=None) -> None:
    """Run ``task(job, settings)`` for every job and pass each result to ``handle`` as it arrives.

    With ``n_jobs > 1`` the tasks run in Dask worker processes, with ``scheduler`` (an address)
    on that Dask cluster; results then arrive in order of completion, and ``task`` must be a
    module-level function with picklable results.
    """
    if scheduler is not None:
        from gmm.scale import connect

        with connect(scheduler) as client:
            for result in on_cluster(client, client.map(task, jobs, settings=settings, pure=False, retries=1)):
                handle(result)
        return
    if n_jobs <= 1 or len(jobs) <= 1:
        for job in jobs:
            handle(task(job, settings))
        return
    import dask.bag
    from dask.callbacks import Callback

    bag = dask.bag.from_sequence(jobs, npartitions=len(jobs)).map(task, settings)

    class Progress(Callback):
        """Reports each image when its task finishes (callbacks run in this process)."""

        def _posttask(self, key, result, dsk, state, worker_id):
            # Only the map's tasks: the bag's final task gathers all their results again.
            if isinstance(key, tuple) and key[0] == bag.name:
                for outcome in result:
                    handle(outcome)

    with Progress():
        bag.compute(scheduler="processes", num_workers=min(n_jobs, len(jobs)), chunksize=1,
                    initializer=quiet_worker)


def on_cluster(client, futures):
    """The futures' results as they complete; on Ctrl-C (or any error) the rest are cancelled."""
    from distributed import as_completed

    try:
        for future in as_completed(futures):
            yield future.result()
    except BaseException:
        client.cancel(futures)
        raise
