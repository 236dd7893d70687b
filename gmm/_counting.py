"""Numba kernels of the pixel counters: distinct grey levels or 24-bit colours, their counts and
the inverse index, and the gather of per-value labels back to the pixels.

Each kernel takes a range of pixels, so that :mod:`gmm.distinct` can share an image out over
threads; the counts are integers, the same however the pixels were shared. Imported only when
:mod:`gmm.distinct` first counts a uint8 image, so ``import gmm`` does not load numba;
``cache=True`` stores the machine code beside this file.
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
def mark_rgb(pixels, start, stop, words, summary):
    """Set the bit of each colour of pixels ``start..stop-1`` in a bitmap of 2**24 bits, and the
    bit of its word in ``summary`` (2**18 bits), so that later passes skip the empty words."""
    one = np.uint64(1)
    for p in range(start, stop):
        code = _code(pixels, p)
        w = code >> 6
        words[w] |= one << np.uint64(code & 63)
        summary[w >> 6] |= one << np.uint64(w & 63)


@numba.njit(cache=True, nogil=True)
def present_rgb(bitmaps, summaries, before):
    """Merge per-thread bitmaps (T, 2**18) and summaries (T, 2**12) into the first; fills
    ``before`` (2**18,) int32 and returns the present colours' codes, sorted.

    ``before[w]`` is the number of set bits in the words before word ``w`` (written for the
    words that hold a colour, the only ones a pixel asks about); a colour's index among the
    present ones is then ``before`` plus the set bits below it in its word (a rank query on a
    succinct bitmap). Linear in the colours present: the summary names the non-empty words.
    """
    one = np.uint64(1)
    words, summary = bitmaps[0], summaries[0]  # merged in place
    for t in range(1, bitmaps.shape[0]):
        for s in range(summary.shape[0]):
            bits = summaries[t, s]
            summary[s] |= bits
            while bits:
                w = (s << 6) | _popcount((bits & (~bits + one)) - one)  # the lowest set bit
                words[w] |= bitmaps[t, w]
                bits &= bits - one
    n_present = 0
    for s in range(summary.shape[0]):
        bits = summary[s]
        while bits:
            w = (s << 6) | _popcount((bits & (~bits + one)) - one)
            before[w] = n_present
            n_present += _popcount(words[w])
            bits &= bits - one
    present = np.empty(n_present, dtype=np.uint32)
    j = 0
    for s in range(summary.shape[0]):
        marks = summary[s]
        while marks:
            w = (s << 6) | _popcount((marks & (~marks + one)) - one)
            bits = words[w]
            while bits:
                present[j] = (w << 6) | _popcount((bits & (~bits + one)) - one)
                bits &= bits - one
                j += 1
            marks &= marks - one
    return present


@numba.njit(cache=True, nogil=True)
def clear_rgb(bitmaps, summaries):
    """Zero the words that :func:`mark_rgb` set and the summaries that name them, so that the
    bitmaps can count the next image: linear in the colours, not in the 2 MiB."""
    one = np.uint64(1)
    for t in range(bitmaps.shape[0]):
        for s in range(summaries.shape[1]):
            bits = summaries[t, s]
            while bits:
                bitmaps[t, (s << 6) | _popcount((bits & (~bits + one)) - one)] = 0
                bits &= bits - one
            summaries[t, s] = 0


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
def histogram_grey(pixels, start, stop, histogram):
    """Add the levels of uint8 grey pixels ``start..stop-1`` to ``histogram`` (256,) int64.

    Four interleaved histograms, summed at the end: neighbouring pixels often share a level,
    and one histogram would make each increment wait for the previous one.
    """
    split = np.zeros((4, 256), dtype=np.int64)
    p = start
    while p + 4 <= stop:
        split[0, pixels[p]] += 1
        split[1, pixels[p + 1]] += 1
        split[2, pixels[p + 2]] += 1
        split[3, pixels[p + 3]] += 1
        p += 4
    while p < stop:
        split[0, pixels[p]] += 1
        p += 1
    for level in range(256):
        histogram[level] += (split[0, level] + split[1, level]) + (split[2, level] + split[3, level])


@numba.njit(cache=True, nogil=True)
def present_grey(histogram):
    """The levels present (sorted), their counts, and each level's rank among them (256,) int32."""
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
    return present, counts, rank


@numba.njit(cache=True, nogil=True)
def rank_grey(pixels, start, stop, rank, index):
    """``index[p] = rank[pixels[p]]`` for pixels ``start..stop-1``."""
    for p in range(start, stop):
        index[p] = rank[pixels[p]]


@numba.njit(cache=True, nogil=True)
def take(values, index, out, start, stop):
    """``out[i] = values[index[i]]`` for ``i`` in ``start..stop-1`` (a per-value label to pixels).

    Unsigned indices, clamped to the table: numba wraps a signed index around with a select per
    load, which doubles the time (the fox's 427k pixels: 370 us against 185 us); and an index
    outside the table (a hand-made ``DistinctPixels``) reads its last entry, never other memory.
    """
    last = np.uint64(values.shape[0] - 1)
    for i in range(start, stop):
        u = np.uint64(i)
        out[u] = values[min(np.uint64(index[u]), last)]



@numba.njit(cache=True, nogil=True)
def take_levels(table, levels, out, start, stop):
    """``out[p] = table[levels[p]]`` for pixels ``start..stop-1``: uint8 levels into a table of 256.

    Unsigned indices: a level is always inside the table, and numba would wrap a signed index
    around with a select per load (twice the time of :func:`take`).
    """
    for p in range(start, stop):
        u = np.uint64(p)
        out[u] = table[np.uint64(levels[u])]


#: Pixels per block of :func:`expand_steps`: the block's levels and labels stay in L1.
STEP_BLOCK = 1 << 13


@numba.njit(cache=True, nogil=True)
def expand_steps(levels, first, steps, rises, out, start, stop):
    """``out[p] = first + sum(rises[j] for steps[j] <= levels[p])`` for pixels ``start..stop-1``.

    A per-level table with few steps (a 1-D mixture's labels change at a few levels) as one
    compare and add per step over a block, which LLVM vectorises 64 pixels at a time: a byte
    gather is one pixel at a time. ``levels``, ``steps``: uint8; ``rises``: out's dtype (1 byte),
    adding modulo 256.
    """
    zero = first - first
    for b in range(start, stop, STEP_BLOCK):
        e = min(b + STEP_BLOCK, stop)
        for p in range(b, e):
            out[np.uint64(p)] = first
        for j in range(steps.shape[0]):
            step, rise = steps[j], rises[j]
            for p in range(b, e):
                u = np.uint64(p)
                out[u] += rise if levels[u] >= step else zero
