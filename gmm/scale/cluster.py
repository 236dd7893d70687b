"""The Dask side: a client (ours or the caller's), task submission with retries, the tree merge.

Nothing here knows about images; every function takes a ``distributed.Client``. Dask is imported
inside the functions, so ``import gmm`` never imports it.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from contextlib import contextmanager

# The scheduler serves HTTP even with the dashboard off, by default on port 8787; a random local
# port keeps two clusters on one machine (other users, the tests) from colliding.
LOCAL_ANY_PORT = "127.0.0.1:0"
INSTALL_HINT = "gmm.scale needs dask.distributed: pip install 'gmm[scale]' (or 'dask[distributed]')"


def _distributed():
    try:
        import distributed
    except ImportError as error:  # the optional 'scale' extra
        raise ImportError(INSTALL_HINT) from error
    return distributed


@contextmanager
def connect(client=None, n_workers: int | None = None, processes: bool = True):
    """A ``distributed.Client`` for the duration of a ``with`` block.

    Parameters
    ----------
    client : distributed.Client, str or None
        A client is used as it is (and left open); a string is a scheduler address to connect
        to (the connection is closed afterwards); None starts a LocalCluster, closed afterwards.
    n_workers : int, optional
        Workers of the LocalCluster (one thread each); default: the machine's CPU count.
    processes : bool, default=True
        LocalCluster workers as processes (true parallelism) or threads in this process (starts
        in a fraction of a second; the counting shares one lock, see :mod:`gmm.distinct`).
    """
    distributed = _distributed()
    if isinstance(client, distributed.Client):
        yield client
        return
    if client is not None and not isinstance(client, str):
        raise ValueError(f"client must be a distributed.Client, a scheduler address or None, got {client!r}")
    if client is not None:
        with distributed.Client(client) as connected:
            yield connected
        return
    n_workers = (os.cpu_count() or 1) if n_workers is None else n_workers
    if n_workers < 1:
        raise ValueError(f"n_workers must be >= 1, got {n_workers!r}")
    with _quiet("distributed"), _quiet("asyncio", logging.CRITICAL), _collected():
        with distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=processes,
                                      dashboard_address=LOCAL_ANY_PORT, silence_logs=logging.ERROR) as cluster, \
                distributed.Client(cluster) as local:
            yield local


@contextmanager
def _collected():
    """Collect garbage on leaving: a comm future that failed while our cluster shut down is then
    freed here, where asyncio is quiet, not later in the user's code, where asyncio would print
    "Future exception was never retrieved" (seen once in notebook 09, a cell after the fit)."""
    try:
        yield
    finally:
        gc.collect()


@contextmanager
def _quiet(name: str, level: int = logging.ERROR):
    """Raise a logger's level for a ``with`` block: a cluster we start and stop is ours, and its
    routine messages (comms closed at shutdown, with their tracebacks) are not the user's."""
    logger = logging.getLogger(name)
    previous = logger.level
    logger.setLevel(max(level, previous))
    try:
        yield
    finally:
        logger.setLevel(previous)


def n_workers(client) -> int:
    """Worker threads of the cluster (at least 1)."""
    return max(1, sum(client.nthreads().values()))


def wait(futures, progress: bool | None) -> None:
    """Wait for futures, with Dask's progress bar when ``progress`` (None: when stdout is a terminal)."""
    distributed = _distributed()
    if progress is None:
        progress = sys.stdout.isatty()
    if progress:
        distributed.progress(futures)
        print(file=sys.stdout, flush=True)  # the bar leaves the cursor on its line
    distributed.wait(futures)


def tree_reduce(client, futures, merge, *, split_every: int = 8, retries: int = 2):
    """Reduce futures pairwise-and-up by ``merge(*parts)`` on the workers: one future.

    Levels are submitted at a higher priority than the leaves, so parts are merged (and freed)
    as soon as they are ready instead of piling up until every leaf is done.
    """
    if not futures:
        raise ValueError("nothing to reduce")
    if split_every < 2:
        raise ValueError(f"split_every must be >= 2, got {split_every!r}")
    level = 0
    while len(futures) > 1:
        level += 1
        futures = [client.submit(merge, *futures[i:i + split_every], retries=retries, priority=level, pure=False)
                   for i in range(0, len(futures), split_every)]
    return futures[0]
