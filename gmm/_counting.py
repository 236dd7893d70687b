"""Numba kernel of the colour counter: distinct 24-bit colours, their counts and the inverse index.

Imported only when :mod:`gmm.distinct` first counts a uint8 RGB image, so ``import gmm`` does
not load numba; ``cache=True`` stores the machine code beside this file.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _popcount(x):  # LLVM turns this idiom into one popcnt instruction
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return (x * np.uint64(0x0101010101010101)) >> np.uint64(56)


@numba.njit(cache=True)
def _code(pixels, p):
    return (np.int64(pixels[p, 0]) << 16) | (np.int64(pixels[p, 1]) << 8) | np.int64(pixels[p, 2])


@numba.njit(cache=True, nogil=True)
def mark_rgb(pixels, start, stop, words):
    """Set the bit of each colour of pixels ``start..stop-1`` in a bitmap of 2**24 bits."""
    one = np.uint64(1)
    for p in range(start, stop):
        code = _code(pixels, p)
        words[code >> 6] |= one << np.uint64(code & 63)


@numba.njit(cache=True, nogil=True)
def present_rgb(bitmaps):
    """Merge per-thread bitmaps (T, 2**18) into the first; returns ``before`` and the present
    colours' codes, sorted.

    ``before[w]`` is the number of set bits in the words before word ``w``; a colour's index
    among the present ones is then ``before`` plus the set bits below it in its word (a rank
    query on a succinct bitmap). Linear time, no sort.
    """
    words = bitmaps[0]  # merged in place
    for t in range(1, bitmaps.shape[0]):
        other = bitmaps[t]
        for w in range(words.shape[0]):
            words[w] |= other[w]
    before = np.empty(words.shape[0], dtype=np.int32)  # < 2**24 colours: int32 halves its pages
    n_present = 0
    for w in range(words.shape[0]):
        before[w] = n_present
        n_present += _popcount(words[w])
    present = np.empty(n_present, dtype=np.uint32)
    one = np.uint64(1)
    j = 0
    for w in range(words.shape[0]):
        bits = words[w]
        if bits == 0:
            continue
        while bits:
            present[j] = (w << 6) | _popcount((bits & (~bits + one)) - one)  # the lowest set bit
            bits &= bits - one
            j += 1
    return before, present


@numba.njit(cache=True, nogil=True)
def rank_rgb(pixels, start, stop, words, before, index, counts):
    """Index of each of pixels ``start..stop-1`` among the present colours (``words`` and
    ``before`` of :func:`present_rgb`); adds to ``counts``."""
    one = np.uint64(1)
    for p in range(start, stop):
        code = _code(pixels, p)
        w = code >> 6
        rank = np.int64(before[w]) + np.int64(_popcount(words[w] & ((one << np.uint64(code & 63)) - one)))
        index[p] = rank
        counts[rank] += 1


@numba.njit(cache=True, nogil=True)
def count_grey(pixels, index):
    """Distinct levels of uint8 grey pixels (n,): the levels present (sorted), their counts, and
    each pixel's index into them in ``index`` (n,) int32. Two passes, no sort."""
    histogram = np.zeros(256, dtype=np.int64)
    for p in range(pixels.shape[0]):
        histogram[pixels[p]] += 1
    rank = np.zeros(256, dtype=np.int32)
    n_present = 0
    for level in range(256):
        rank[level] = n_present
        n_present += histogram[level] > 0
    present = np.empty(n_present, dtype=np.uint8)
    counts = np.empty(n_present, dtype=np.int64)
    for level in range(256):
        if histogram[level] > 0:
            present[rank[level]] = level
            counts[rank[level]] = histogram[level]
    for p in range(pixels.shape[0]):
        index[p] = rank[pixels[p]]
    return present, counts


@numba.njit(cache=True, nogil=True)
def take(values, index, out, start, stop):
    """``out[i] = values[index[i]]`` for ``i`` in ``start..stop-1`` (a per-value label to pixels)."""
    for i in range(start, stop):
        out[i] = values[index[i]]

