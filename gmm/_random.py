"""The random state of a fit: scikit-learn's ``check_random_state``, without its cost for an int seed.

``numpy.random.RandomState(seed)`` seeds a new generator from the operating system's entropy and
then again from ``seed``: about 90 us, more than the EM iterations of a grey photo's fit take
(the fox's 246 grey levels: five iterations in about 60 us). Seeding an existing ``RandomState``
again costs about 1.5 us and leaves it in the state a new ``RandomState(seed)`` starts in, bit
for bit (its Gaussian cache included). :func:`random_state_for_fit` lends a fit one such
generator per thread, for the duration of the fit, and makes a new one where that is already
lent (a fit inside a fit). Nothing outside the fit holds it afterwards, so no two fits share
draws.
"""

from __future__ import annotations

import numbers
import threading
from contextlib import contextmanager

import numpy as np
from sklearn.utils import check_random_state

_SPARE = threading.local()


@contextmanager
def random_state_for_fit(seed):
    """``check_random_state(seed)`` for the duration of a ``with`` block.

    An int seed gives a generator in the state of ``RandomState(seed)``, and the same error for an
    invalid seed (numpy's own check); ``None``, ``np.random`` and a ``RandomState`` give what
    scikit-learn's ``check_random_state`` gives (the global generator, the instance itself).
    """
    if not isinstance(seed, numbers.Integral):
        yield check_random_state(seed)
        return
    state = getattr(_SPARE, "state", None)
    _SPARE.state = None  # lent: a fit inside this one makes its own
    if state is None:
        state = np.random.RandomState(0)
    try:
        state.seed(seed)
        yield state
    finally:
        _SPARE.state = state
