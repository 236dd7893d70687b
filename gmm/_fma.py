"""Fused multiply-add for numba kernels, and the ``exp`` and ``log`` of the Potts sweep built on it.

``fma(a, b, c)`` is ``a * b + c`` rounded once: LLVM's ``llvm.fma`` intrinsic, one instruction
where the machine has FMA (and LLVM vectorises it), the C library's correctly rounded ``fma``
where it has not. Either way the result is the exactly rounded one, so kernels that use it give
the same bits on every machine, unlike letting LLVM contract ``a * b + c``
(``fastmath={"contract"}``), which it may do in one loop and not in another.

:func:`exp_nonpositive` and :func:`log_at_least_one` are :func:`gmm._fused.exp_block`'s and
:func:`gmm._fused.log_block`'s polynomials evaluated with ``fma`` (each Horner step one rounding
instead of two; within 1 ulp and 2 ulp of the C library). The Potts sweep's kernels
(:mod:`gmm._fused_potts` and its reference :mod:`gmm._fused_potts_four_pass`) both call them, so
that they give the same bits; inlined into their loops, which LLVM vectorises. numba's cache
(``cache=True``) keys each kernel on its own file only: after editing this module, delete the
callers' cached machine code (``find gmm -name '*.nbi' -delete``), or they keep the old code.
"""

from __future__ import annotations

import numba
import numpy as np
from numba.core import types
from numba.extending import intrinsic

from gmm._fused import _EXP_TAYLOR, _LN2_HI, _LN2_LO, _LOG2E, _SQRT2


@intrinsic
def fma(typingctx, a, b, c):
    """``a * b + c`` with one rounding (float64)."""
    signature = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, sig, args):
        return builder.fma(*[context.cast(builder, v, t, types.float64) for v, t in zip(args, sig.args)])

    return signature, codegen


@numba.njit(inline="always", error_model="numpy")
def exp_nonpositive(x, floor):
    """``exp(x)`` for ``x <= 0``, exactly 0 below ``floor`` (>= -708): ``2^j exp(r)`` with
    ``j = round(x / ln 2)``, the degree-13 Taylor polynomial of ``exp(r)`` (``|r| <= ln 2 / 2``)
    and ``2^j`` built from its exponent bits."""
    c = _EXP_TAYLOR
    v = max(x, floor)
    j = np.floor(fma(v, _LOG2E, 0.5))
    r = fma(j, -_LN2_LO, fma(j, -_LN2_HI, v))
    p = c[13]
    for i in range(12, -1, -1):
        p = fma(p, r, c[i])
    return p * np.int64((np.int64(j) + 1023) << 52).view(np.float64) if x >= floor else 0.0


@numba.njit(inline="always", error_model="numpy")
def log_at_least_one(t):
    """``log(t)`` for finite ``t >= 1``: ``t = 2^e m``, ``m`` in ``[sqrt(1/2), sqrt(2))`` read
    from the bits, ``log m = 2 atanh(z)``, ``z = (m - 1) / (m + 1)``, by its odd series."""
    bits = np.float64(t).view(np.int64)
    m = np.int64((bits & np.int64(0x000FFFFFFFFFFFFF)) | np.int64(0x3FF0000000000000)).view(np.float64)
    e = np.float64((bits >> 52) - 1023)
    high = m > _SQRT2  # selects, not a branch, so that LLVM vectorises the loop
    m = m * 0.5 if high else m
    e = e + 1.0 if high else e
    z = (m - 1.0) / (m + 1.0)
    z2 = z * z
    w = 1.0 / 23.0
    for i in range(21, 2, -2):
        w = fma(w, z2, 1.0 / i)
    return fma(e, _LN2_HI, 2.0 * z + fma(2.0 * z * z2, w, e * _LN2_LO))
