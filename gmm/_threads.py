"""One thread for BLAS and OpenMP inside a fit.

EM on image data is a stream of small products (d = 3 features, a few components): threads
barely help them, make their reductions depend on the machine's core count (so results would
differ in the last bits between machines), and on a loaded machine their synchronisation costs
more than the arithmetic. k-means likewise gives the same labels bit for bit only on one thread.
"""

from __future__ import annotations

import functools

from threadpoolctl import ThreadpoolController


@functools.cache
def _controller() -> ThreadpoolController:
    # Built once (it inspects every loaded library, ~10 ms); limiting through it is then ~20 us.
    return ThreadpoolController()


def single_threaded():
    """Context manager limiting every BLAS and OpenMP pool to one thread."""
    return _controller().limit(limits=1)
