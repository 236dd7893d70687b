"""Field markings of an NFL field, evaluated per pixel from the ground coordinates it sees.

Dimensions follow the NFL rule book: yard lines every 5 yards, 4 in wide (the goal lines
8 in); a 6 ft solid white border; hash marks 2 ft long at every yard, 70 ft 9 in from each
sideline and just inside each sideline; yard numbers 6 ft tall and 4 ft wide whose tops are
9 yards from the sideline, read from the nearer sideline, with an arrow pointing to the
nearer goal. Digits are drawn with a seven-segment font (no font files needed).
"""

from __future__ import annotations

import numpy as np

from gmm.data._camera import FIELD_WIDTH

YARD_LINE_HALF_WIDTH = 2.0 / 36.0  # 4 in
GOAL_LINE_HALF_WIDTH = 4.0 / 36.0  # 8 in
BORDER = 2.0  # 6 ft
HASH_LENGTH = 2.0 / 3.0  # 2 ft
INBOUND_HASH = 70.75 / 3.0  # 70 ft 9 in from the sideline
NUMBER_TOP = 9.0
NUMBER_HEIGHT = 2.0  # 6 ft
DIGIT_WIDTH = 4.0 / 3.0  # 4 ft
DIGIT_GAP = 1.0 / 3.0  # from the yard line to each digit
STROKE = 0.34

# Seven segments a..g per digit (a top, b upper right, c lower right, d bottom,
# e lower left, f upper left, g middle).
_SEGMENTS = {
    0: "abcdef", 1: "bc", 2: "abdeg", 3: "abcdg", 4: "bcfg",
    5: "acdfg", 6: "acdefg", 7: "abc", 8: "abcdefg", 9: "abcdfg",
}


def _segment_masks(a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
    """Which of the seven segments contain the digit-cell point (a across, b up), in yards."""
    w, h, s = DIGIT_WIDTH, NUMBER_HEIGHT, STROKE
    left, right = a < s, a > w - s
    upper, lower = b >= h / 2, b < h / 2
    return {
        "a": b > h - s, "b": right & upper, "c": right & lower, "d": b < s,
        "e": left & lower, "f": left & upper, "g": np.abs(b - h / 2) < s / 2,
    }


def _digits_mask(a: np.ndarray, b: np.ndarray, digits: np.ndarray) -> np.ndarray:
    """Points of each cell painted for its digit; cells span a in [0, DIGIT_WIDTH], b in [0, 2]."""
    inside = (a >= 0) & (a <= DIGIT_WIDTH) & (b >= 0) & (b <= NUMBER_HEIGHT)
    segments = _segment_masks(a, b)
    painted = np.zeros(a.shape, dtype=bool)
    for name, mask in segments.items():
        uses = np.array([name in _SEGMENTS[d] for d in range(10)])
        painted |= mask & uses[digits]
    return painted & inside


def _numbers_in_band(X: np.ndarray, reading: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Yard numbers and arrows for points of one band.

    ``reading`` is the coordinate along the reading direction relative to the nearest
    10-yard line, ``up`` the height above the numbers' base line (both in yards).
    """
    line = 10.0 * np.round(X / 10.0)
    value = np.minimum(line, 100.0 - line).astype(int)
    numbered = (line >= 10) & (line <= 90)
    first = _digits_mask(reading + DIGIT_GAP + DIGIT_WIDTH, up, np.clip(value // 10, 0, 9))
    second = _digits_mask(reading - DIGIT_GAP, up, np.zeros_like(value))
    # Arrow: a triangle beside the number, pointing to the nearer goal, on the goal side.
    toward = np.where(line < 50, -1.0, 1.0)
    outer = DIGIT_GAP + DIGIT_WIDTH + 0.3
    depth = toward * (X - line) - outer  # 0 at the arrow's base, 0.9 at its tip
    half = 0.45 * (1.0 - depth / 0.9)
    arrow = (line != 50) & (depth >= 0) & (depth <= 0.9) & (np.abs(up - 1.0) <= half)
    return numbered & (first | second | arrow)


def numbers_mask(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Painted yard numbers and arrows, boolean like ``X``."""
    painted = np.zeros(X.shape, dtype=bool)
    near = (Y >= NUMBER_TOP - NUMBER_HEIGHT) & (Y <= NUMBER_TOP) & (X > 5) & (X < 95)
    far_base = FIELD_WIDTH - NUMBER_TOP + NUMBER_HEIGHT  # numbers read from the far side
    far = (Y >= FIELD_WIDTH - NUMBER_TOP) & (Y <= far_base) & (X > 5) & (X < 95)
    for band, sign, base in ((near, 1.0, NUMBER_TOP - NUMBER_HEIGHT), (far, -1.0, far_base)):
        x, y = X[band], Y[band]
        line = 10.0 * np.round(x / 10.0)
        painted[band] = _numbers_in_band(x, sign * (x - line), sign * (y - base))
    return painted


def _line_half_width(X: np.ndarray, footprint_x: np.ndarray) -> np.ndarray:
    """Half-width of the yard line nearest each point, at least 0.6 px so far lines stay whole."""
    nearest = 5.0 * np.round(X / 5.0)
    goal = (nearest == 0) | (nearest == 100)
    real = np.where(goal, GOAL_LINE_HALF_WIDTH, YARD_LINE_HALF_WIDTH)
    return np.maximum(real, 0.6 * footprint_x)


def paint_mask(X, Y, footprint_x, footprint_y) -> np.ndarray:
    """Every white marking: border, yard and goal lines, hash marks, numbers and arrows."""
    in_width = (Y >= 0) & (Y <= FIELD_WIDTH)
    in_length = (X >= -10) & (X <= 110)
    outer = (Y >= -BORDER) & (Y <= FIELD_WIDTH + BORDER) & (X >= -10 - BORDER) & (X <= 110 + BORDER)
    border = outer & ~(in_width & in_length)
    near_line = np.abs(X - 5.0 * np.round(X / 5.0)) <= _line_half_width(X, footprint_x)
    yard_lines = in_width & (X >= -1) & (X <= 101) & near_line
    # Hash marks at every whole yard between the goal lines.
    near_yard = np.abs(X - np.round(X)) <= np.maximum(YARD_LINE_HALF_WIDTH, 0.6 * footprint_x)
    y_pad = 0.5 * footprint_y
    hash_rows = np.zeros(X.shape, dtype=bool)
    for start in (0.12, INBOUND_HASH, FIELD_WIDTH - INBOUND_HASH - HASH_LENGTH,
                  FIELD_WIDTH - 0.12 - HASH_LENGTH):
        hash_rows |= (Y >= start - y_pad) & (Y <= start + HASH_LENGTH + y_pad)
    hashes = near_yard & hash_rows & (X > 0.5) & (X < 99.5)
    return border | yard_lines | hashes | numbers_mask(X, Y)


def end_zone_mask(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """The two end zones (between goal line and end line), boolean like ``X``."""
    in_width = (Y >= 0) & (Y <= FIELD_WIDTH)
    return in_width & (((X >= -10) & (X < 0)) | ((X > 100) & (X <= 110)))


def mowing_stripes(X: np.ndarray, Y: np.ndarray, contrast: float) -> np.ndarray:
    """Brightness of the turf: 5-yard mowing bands on the field, duller grass beyond the border."""
    band = np.floor(X / 5.0).astype(np.int64) % 2
    factor = 1.0 + contrast * (2 * band - 1)
    playing = (Y >= 0) & (Y <= FIELD_WIDTH) & (X >= 0) & (X <= 100)
    outside = (Y < -BORDER) | (Y > FIELD_WIDTH + BORDER) | (X < -10 - BORDER) | (X > 110 + BORDER)
    return np.where(playing, factor, np.where(outside, 0.88, 1.0))
