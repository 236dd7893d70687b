"""Synthetic broadcast frames of American football with per-pixel ground truth.

The paper's first experiment segments NFL "All-22" stills (camera high above the side of the
field, players small); no real frame comes with ground truth, so this module renders one.
A frame shows mowed turf with white yard lines, hash marks and yard numbers, an end zone,
eleven players of each team (jersey, pants, helmet and skin colours) with shadows on the
turf, and the ball in the quarterback's hands just after the snap. The image then passes
through a lighting gradient, a slight optical blur, sensor noise and JPEG compression
(quality 85, in memory).

The truth is the object each pixel shows *before* blur, noise and JPEG, one class per pixel
(names in :data:`FOOTBALL_CLASSES`, indexed by the truth value):

==  ============  ====================================================================
0   turf          grass inside and around the field (mowing stripes included)
1   line_paint    white paint: border, yard and goal lines, hash marks, numbers, arrows
2   end_zone      the coloured end zones
3   team_a        the home team's uniform (coloured jersey, pants, helmet, socks, shoes)
4   team_b        the visitors' uniform (white jersey, coloured pants and helmet)
5   skin          arms, necks and faces of all players
6   ball          the football
7   shadow        ground (turf, paint or end zone) in a player's or the ball's shadow
==  ============  ====================================================================

Everything is drawn from ``numpy.random.default_rng(seed)``: the same seed gives the same
bytes. Frame ``t`` of :func:`football_clip` shows the play ``t / 15`` s later (the ball is
thrown to a receiver, the camera pans, a cloud dims or brightens the light); its frame 0 is
:func:`football_frame` at the same size.
"""

from __future__ import annotations

import io
import numbers

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

from gmm.data import _field
from gmm.data._camera import ground_coordinates, pixel_footprint, project
from gmm.data._players import ball_polygon, draw_player, polygon_pixels, shadow_mask
from gmm.data._scene import Scene, random_scene

__all__ = ["FOOTBALL_CLASSES", "football_clip", "football_frame"]

FOOTBALL_CLASSES = ("turf", "line_paint", "end_zone", "team_a", "team_b", "skin", "ball", "shadow")
TURF, LINE_PAINT, END_ZONE, TEAM_A, TEAM_B, SKIN, BALL, SHADOW = range(len(FOOTBALL_CLASSES))

FRAME_INTERVAL = 1.0 / 15.0  # seconds between clip frames
JPEG_QUALITY = 85
MIN_SIZE, MAX_SIZE = 64, 4096
MAX_FRAMES = 150  # 10 s: the play is over by then
_BALL_COLOUR = (122, 64, 36)


# --- argument checks ---------------------------------------------------------------------


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _check_size(size) -> tuple[int, int]:
    try:
        height, width = size
        ok = all(isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in size)
    except (TypeError, ValueError):
        ok = False
    if not ok or not (MIN_SIZE <= height <= MAX_SIZE and MIN_SIZE <= width <= MAX_SIZE):
        raise ValueError(
            f"size must be (height, width), integers from {MIN_SIZE} to {MAX_SIZE}, got {size!r}"
        )
    return int(height), int(width)


# --- ground ------------------------------------------------------------------------------


def _lattice_noise(X, Y, cell: float, salt: int) -> np.ndarray:
    """Smooth value noise in [-1, 1] fixed to the ground (it moves with the field in a pan)."""
    gx, gy = X / cell, Y / cell
    ix, iy = np.floor(gx), np.floor(gy)
    fx, fy = gx - ix, gy - iy
    ix, iy = ix.astype(np.int64), iy.astype(np.int64)

    def corner(dx, dy):
        h = ((ix + dx) * 73856093) ^ ((iy + dy) * 19349663) ^ salt
        h = (h ^ (h >> 13)) * 1274126177 & 0xFFFFFFFF
        return (h & 0xFFFF) / 32767.5 - 1.0

    top = corner(0, 0) * (1 - fx) + corner(1, 0) * fx
    bottom = corner(0, 1) * (1 - fx) + corner(1, 1) * fx
    return top * (1 - fy) + bottom * fy


def _ground(scene: Scene, X, Y) -> tuple[np.ndarray, np.ndarray]:
    """Colour (H, W, 3) float and truth (H, W) uint8 of the bare field."""
    paint = _field.paint_mask(X, Y, pixel_footprint(X), pixel_footprint(Y))
    end_zone = _field.end_zone_mask(X, Y) & ~paint
    truth = np.full(X.shape, TURF, dtype=np.uint8)
    truth[end_zone], truth[paint] = END_ZONE, LINE_PAINT
    texture = 1.0 + 0.035 * _lattice_noise(X, Y, 0.3, 11) + 0.03 * _lattice_noise(X, Y, 3.0, 23)
    brightness = _field.mowing_stripes(X, Y, scene.stripe_contrast) * texture
    colour = brightness[..., None] * scene.turf
    colour[end_zone] = texture[end_zone, None] * scene.end_zone
    colour[paint] = (0.5 + 0.5 * texture[paint, None]) * scene.paint
    return colour, truth


# --- objects -----------------------------------------------------------------------------


def _draw_objects(scene, camera, t, colour, truth) -> None:
    """Shadows, then players and ball from far to near (painter's algorithm)."""
    players = scene.players_at(t)
    ball, heading = scene.ball_at(t)
    shadows = shadow_mask(camera, players, ball, scene.light_axis, scene.shadow_length, truth.shape)
    truth[shadows] = SHADOW
    colour[shadows] *= scene.shadow_factor
    feet = [np.array([*p.position, 0.0]) for p in players] + [np.array([*ball[:2], 0.0])]
    depth_rows = project(camera, np.stack(feet))[:, 1]
    # The ball sorts just in front of whoever holds it.
    depth_rows[-1] += 0.5
    for index in np.argsort(depth_rows, kind="stable"):
        if index < len(players):
            draw_player(colour, truth, camera, players[index], skin_label=SKIN)
        else:
            rows, cols = polygon_pixels(ball_polygon(camera, ball, heading), truth.shape)
            colour[rows, cols] = _BALL_COLOUR
            truth[rows, cols] = BALL


# --- imaging -----------------------------------------------------------------------------


def _lighting(scene: Scene, t: float, shape) -> np.ndarray:
    """Multiplicative light (H, W, 3): a linear gradient, a vignette, a colour tint."""
    height, width = shape
    rows = np.linspace(-1.0, 1.0, height)[:, None]
    cols = np.linspace(-1.0, 1.0, width)[None, :]
    along = np.cos(scene.gradient_angle) * cols + np.sin(scene.gradient_angle) * rows
    gain = scene.light_at(t) * (1.0 + scene.gradient * along) * (1.0 - 0.06 * (rows**2 + cols**2))
    return gain[..., None] * scene.tint


def _sensor(colour: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Optical blur, then signal-dependent Gaussian noise; returns uint8."""
    blurred = gaussian_filter(colour, sigma=(0.6, 0.6, 0.0))
    noise = rng.standard_normal(colour.shape, dtype=np.float32)
    noisy = blurred + noise * (sigma + 0.02 * blurred)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def _jpeg(image: np.ndarray) -> np.ndarray:
    """Encode and decode at a fixed quality in memory (deterministic)."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=JPEG_QUALITY)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return np.asarray(decoded.convert("RGB"), dtype=np.uint8).copy()


def _render(scene: Scene, seed: int, frame: int, size) -> tuple[np.ndarray, np.ndarray]:
    t = frame * FRAME_INTERVAL
    camera = scene.camera_at(t, size)
    X, Y = ground_coordinates(camera)
    colour, truth = _ground(scene, X, Y)
    _draw_objects(scene, camera, t, colour, truth)
    colour = colour.astype(np.float32) * _lighting(scene, t, size).astype(np.float32)
    noise_rng = np.random.default_rng([seed, frame, 1])
    return _jpeg(_sensor(colour, scene.noise_sigma, noise_rng)), truth


# --- public API --------------------------------------------------------------------------


def football_frame(seed: int, size=(720, 1280)) -> tuple[np.ndarray, np.ndarray]:
    """One synthetic All-22 still with ground truth.

    Parameters
    ----------
    seed : int
        Non-negative; the same seed gives identical bytes.
    size : tuple of int, default (720, 1280)
        (height, width), each from 64 to 4096.

    Returns
    -------
    image : ndarray of shape (H, W, 3), dtype uint8
        After lighting, blur, noise and JPEG.
    truth : ndarray of shape (H, W), dtype uint8
        Class of the object each pixel shows, indexing :data:`FOOTBALL_CLASSES`.
    """
    seed, size = _check_seed(seed), _check_size(size)
    scene = random_scene(np.random.default_rng(seed), TEAM_A, TEAM_B)
    return _render(scene, seed, 0, size)


def football_clip(seed: int, n_frames: int, size=(360, 640)) -> tuple[np.ndarray, np.ndarray]:
    """A short sequence from the snap: players move, the camera pans, the light changes.

    Parameters
    ----------
    seed : int
        Non-negative; the same seed gives identical bytes.
    n_frames : int
        From 1 to 150; frames are 1/15 s apart.
    size : tuple of int, default (360, 640)
        (height, width) of each frame.

    Returns
    -------
    frames : ndarray of shape (T, H, W, 3), dtype uint8
    truths : ndarray of shape (T, H, W), dtype uint8
    """
    seed, size = _check_seed(seed), _check_size(size)
    if isinstance(n_frames, bool) or not isinstance(n_frames, numbers.Integral) \
            or not 1 <= n_frames <= MAX_FRAMES:
        raise ValueError(f"n_frames must be an integer from 1 to {MAX_FRAMES}, got {n_frames!r}")
    scene = random_scene(np.random.default_rng(seed), TEAM_A, TEAM_B)
    rendered = [_render(scene, seed, frame, size) for frame in range(int(n_frames))]
    return np.stack([r[0] for r in rendered]), np.stack([r[1] for r in rendered])
