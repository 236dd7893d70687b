"""Threads inside a fit: none for BLAS and OpenMP, and the fused kernels' blocks shared out.

EM on image data is a stream of small products (d = 3 features, a few components): BLAS and
OpenMP threads barely help them, make their reductions depend on the machine's core count (so
results would differ in the last bits between machines), and on a loaded machine their
synchronisation costs more than the arithmetic; so they get one thread (:func:`single_threaded`).
scikit-learn's k-means (used for float32 data) likewise gives the same labels bit for bit only on one thread.

The fused numba kernels (:mod:`gmm._fused`) are different: they release the GIL, work on
blocks of samples, and write each block's partial sums to its own row, which are then added
in block order. :func:`share_blocks` runs the blocks on this process's cores, like BLAS's own
threads would (a thread pool inside one call, not a scheduler of work: work beyond one machine
goes to Dask, :mod:`gmm.scale`); the result is the same bit for bit whatever the number of
threads. ``GMM_NUM_THREADS`` sets that number; otherwise ``OMP_NUM_THREADS`` does (Dask sets it
to 1 in its worker processes, which then do not oversubscribe the cores), else the cores this
process may use.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor

from threadpoolctl import ThreadpoolController

#: Default blocks per thread below which handing work to another thread (a wake-up of about
#: 0.05-0.1 ms) costs more than it saves; callers with cheap blocks ask for more.
MIN_BLOCKS_PER_THREAD = 16
THREADS_ENV = "GMM_NUM_THREADS"
_POOL = {}


@functools.cache
def _controller() -> ThreadpoolController:
    # Built once (it inspects every loaded library, ~10 ms); limiting through it is then ~20 us.
    return ThreadpoolController()


def single_threaded():
    """Context manager limiting every BLAS and OpenMP pool to one thread."""
    return _controller().limit(limits=1)


def n_threads():
    """Threads for the fused kernels: ``GMM_NUM_THREADS``, else ``OMP_NUM_THREADS``, else the
    cores this process may use."""
    value = os.environ.get(THREADS_ENV, "").strip()
    if value:
        try:
            count = int(value)
        except ValueError:
            raise ValueError(f"{THREADS_ENV} must be a positive integer, got {value!r}") from None
        if count < 1:
            raise ValueError(f"{THREADS_ENV} must be a positive integer, got {value!r}")
        return count
    omp = os.environ.get("OMP_NUM_THREADS", "").strip()
    if omp.isdigit() and int(omp) > 0:
        return int(omp)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def share_blocks(work, n_blocks, min_blocks_per_thread=MIN_BLOCKS_PER_THREAD):
    """Run ``work(start, stop)`` over the blocks ``0..n_blocks-1``, in contiguous parts on threads.

    ``work`` must release the GIL (a ``nogil`` numba kernel) and write only its own blocks'
    outputs. The calling thread runs the first part; small inputs run on it alone.
    """
    if n_blocks < 2 * min_blocks_per_thread:  # one thread whatever the count: skip the look-ups
        work(0, n_blocks)
        return
    run_parts(lambda part, start, stop: work(start, stop), block_parts(n_blocks, min_blocks_per_thread))


def block_parts(n_blocks, min_blocks_per_thread=MIN_BLOCKS_PER_THREAD):
    """Contiguous ranges ``(start, stop)`` covering ``0..n_blocks-1``, one per thread to use."""
    parts = max(1, min(n_threads(), n_blocks // min_blocks_per_thread))
    bounds = [n_blocks * p // parts for p in range(parts + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


def run_parts(work, parts):
    """Run ``work(part, start, stop)`` for each ``(start, stop)`` of ``parts``, one thread each."""
    if len(parts) == 1:
        work(0, *parts[0])
        return
    pool = _pool(len(parts) - 1)
    futures = [pool.submit(work, p, *parts[p]) for p in range(1, len(parts))]
    work(0, *parts[0])
    for future in futures:
        future.result()


def _pool(workers):
    pool = _POOL.get(workers)
    if pool is None:
        pool = _POOL[workers] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gmm-kernel")
    return pool


def _forget_pools():  # a forked child has none of its parent's threads
    _POOL.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools)
