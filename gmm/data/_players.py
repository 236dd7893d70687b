"""Players, their shadows and the ball, drawn as small polygons in image space.

A player is a stick figure of joints in a local frame (``x`` towards where the player faces,
``y`` up, both in units of the player's height). Limbs become thick segments, the torso a
quadrilateral, the helmet and face ellipses. The frame is placed on the image through the
projections of the player's feet and of a point at head height, so size and lean follow the
camera's perspective.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skimage.draw import polygon as fill_polygon

from gmm.data._camera import Camera, project

PLAYER_HEIGHT = 2.05  # yards (6 ft 2 in)
BALL_LENGTH, BALL_WIDTH = 11.0 / 36.0, 6.7 / 36.0  # yards

# Joints (x forward, y up) of each pose; "run" swings the feet and arms with the stride.
_POSES = {
    "stand": {"hip": (0.0, 0.48), "shoulder": (0.01, 0.76), "head": (0.02, 0.87),
              "knee": (0.0, 0.27), "foot": (0.0, 0.0), "elbow": (0.0, 0.58),
              "hand": (0.03, 0.45)},
    "crouch": {"hip": (-0.1, 0.36), "shoulder": (0.14, 0.46), "head": (0.24, 0.5),
               "knee": (0.02, 0.18), "foot": (-0.08, 0.0), "elbow": (0.17, 0.25),
               "hand": (0.19, 0.02)},
    "run": {"hip": (0.02, 0.47), "shoulder": (0.07, 0.74), "head": (0.1, 0.85),
            "knee": (0.05, 0.26), "foot": (0.0, 0.0), "elbow": (0.05, 0.58),
            "hand": (0.1, 0.5)},
}
_SHOES = (25.0, 25.0, 28.0)


@dataclass
class Player:
    """One player on the ground plane.

    Attributes
    ----------
    position : ndarray of shape (2,)
        Feet (X, Y) in yards.
    facing : float
        +1 when facing +X (towards X = 100), -1 otherwise.
    pose : str
        Key of ``_POSES``.
    stride : float
        Phase of the running stride in radians (moves feet and arms).
    team : int
        Truth class of the uniform (jersey, pants, helmet, socks, shoes).
    jersey, pants, helmet, skin : tuple of float
        RGB colours.
    """

    position: np.ndarray
    facing: float
    pose: str
    stride: float
    team: int
    jersey: tuple
    pants: tuple
    helmet: tuple
    skin: tuple


def _segment_polygon(start, end, width):
    """Quadrilateral of a thick segment between two local points."""
    start, end = np.asarray(start, float), np.asarray(end, float)
    direction = end - start
    normal = np.array([-direction[1], direction[0]]) / (np.linalg.norm(direction) + 1e-12)
    offset = normal * width / 2.0
    return np.array([start + offset, end + offset, end - offset, start - offset])


def _ellipse_polygon(centre, rx, ry, n=14):
    angles = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    return np.column_stack([centre[0] + rx * np.cos(angles), centre[1] + ry * np.sin(angles)])


def _limb_pairs(joints, stride, pose):
    """(near, far) copies of the legs and arms, swung by the stride for running poses."""
    swing = 0.09 * np.sin(stride) if pose == "run" else 0.04
    legs, arms = [], []
    for side in (1.0, -1.0):
        foot = (joints["foot"][0] + side * swing, joints["foot"][1])
        knee = (joints["knee"][0] + side * swing * 0.6, joints["knee"][1])
        hand = (joints["hand"][0] - side * swing, joints["hand"][1])
        legs.append((joints["hip"], knee, foot))
        arms.append((joints["shoulder"], joints["elbow"], hand))
    return legs, arms


def body_parts(player: Player):
    """Polygons (local coordinates) with colour and role ('uniform' or 'skin'), far to near."""
    joints = _POSES[player.pose]
    legs, arms = _limb_pairs(joints, player.stride, player.pose)
    parts = []
    for order in (1, 0):  # the far limbs first
        hip, knee, foot = legs[order]
        toe = (foot[0] + 0.06, foot[1])
        # Socks below the knee are in the jersey colour.
        parts += [(_segment_polygon(hip, knee, 0.09), player.pants, "uniform"),
                  (_segment_polygon(knee, foot, 0.065), player.jersey, "uniform"),
                  (_segment_polygon(foot, toe, 0.04), _SHOES, "uniform")]
    hip, shoulder = np.array(joints["hip"]), np.array(joints["shoulder"])
    across = np.array([-(shoulder - hip)[1], (shoulder - hip)[0]])
    across /= np.linalg.norm(across)
    torso = np.array([hip + 0.075 * across, shoulder + 0.12 * across,
                      shoulder - 0.12 * across, hip - 0.075 * across])
    parts.append((torso, player.jersey, "uniform"))
    head = np.array(joints["head"])
    parts.append((_segment_polygon(shoulder, head, 0.05), player.skin, "skin"))
    for order in (1, 0):
        shoulder_, elbow, hand = arms[order]
        parts += [(_segment_polygon(shoulder_, elbow, 0.065), player.jersey, "uniform"),
                  (_segment_polygon(elbow, hand, 0.05), player.skin, "skin")]
    parts.append((_ellipse_polygon(head, 0.075, 0.08), player.helmet, "uniform"))
    face = _ellipse_polygon(head + (0.055, -0.02), 0.03, 0.035)
    parts.append((face, player.skin, "skin"))
    return parts


def _local_to_image(camera: Camera, player: Player, points: np.ndarray) -> np.ndarray:
    """Map local (x forward, y up) points of a player to image (u, v)."""
    feet = np.array([*player.position, 0.0])
    head = feet + (0.0, 0.0, PLAYER_HEIGHT)
    ahead = feet + (player.facing * PLAYER_HEIGHT, 0.0, 0.0)
    base, top, front = project(camera, np.stack([feet, head, ahead]))
    up = top - base
    # Forward in the image: perpendicular to ``up`` and as long (figures keep their
    # proportions), on the side the projected facing direction points to.
    side = np.array([-up[1], up[0]])  # perpendicular to ``up``, pointing to image right
    forward = side if np.dot(side, front - base) >= 0 else -side
    return base + points[:, :1] * forward + points[:, 1:2] * up


def polygon_pixels(polygon_uv, shape):
    """Rows and columns of the pixels inside a polygon given in image (u, v)."""
    return fill_polygon(polygon_uv[:, 1], polygon_uv[:, 0], shape=shape)


def draw_player(canvas, truth, camera, player: Player, skin_label: int) -> None:
    """Paint one player into ``canvas`` (H, W, 3) and ``truth`` (H, W), occluding what is there."""
    for polygon, colour, role in body_parts(player):
        rows, cols = polygon_pixels(_local_to_image(camera, player, polygon), truth.shape)
        canvas[rows, cols] = colour
        truth[rows, cols] = skin_label if role == "skin" else player.team


def ground_ellipse(camera, centre, axis, semi_major, semi_minor, n=20):
    """Image polygon of an ellipse lying on the ground (world yards)."""
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    across = np.array([-axis[1], axis[0]])
    angles = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    xy = (np.asarray(centre, float)[None, :] + np.outer(semi_major * np.cos(angles), axis)
          + np.outer(semi_minor * np.sin(angles), across))
    return project(camera, np.column_stack([xy, np.zeros(n)]))


def shadow_mask(camera, players, ball_xyz, light_axis, length, shape) -> np.ndarray:
    """Boolean (H, W) of the shadows cast on the ground by players and the ball."""
    mask = np.zeros(shape, dtype=bool)
    for player in players:
        centre = player.position + light_axis * (0.45 * length)
        outline = ground_ellipse(camera, centre, light_axis, 0.5 * length + 0.2, 0.3)
        mask[polygon_pixels(outline, shape)] = True
    ball_centre = np.asarray(ball_xyz[:2]) + light_axis * ball_xyz[2] * length / PLAYER_HEIGHT
    ball = ground_ellipse(camera, ball_centre, light_axis, BALL_LENGTH / 2, BALL_WIDTH / 2)
    mask[polygon_pixels(ball, shape)] = True
    return mask


def ball_polygon(camera, ball_xyz, heading) -> np.ndarray:
    """Image polygon of the ball (a prolate spheroid seen from the side: an ellipse)."""
    centre = np.asarray(ball_xyz, float)
    tip = centre + np.array([np.cos(heading), np.sin(heading), 0.0]) * BALL_LENGTH / 2
    side = centre + np.array([0.0, 0.0, BALL_WIDTH / 2])
    c, t, s = project(camera, np.stack([centre, tip, side]))
    major, minor = t - c, s - c
    # Seen end-on the ball looks round, not flattened.
    if np.linalg.norm(major) < np.linalg.norm(minor):
        major = major / (np.linalg.norm(major) + 1e-12) * np.linalg.norm(minor)
    angles = np.linspace(0.0, 2.0 * np.pi, 16, endpoint=False)
    return c + np.outer(np.cos(angles), major) + np.outer(np.sin(angles), minor)
