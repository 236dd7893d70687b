"""A pinhole camera high above the side of an American football field (NFL "All-22" view).

World coordinates are in yards: ``X`` runs along the field (0 and 100 are the goal lines,
-10 and 110 the end lines), ``Y`` across it (0 is the near sideline, 53.33 the far one) and
``Z`` up. Image coordinates are (column ``u``, row ``v``) in pixels, rows growing downwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FIELD_WIDTH = 160.0 / 3.0  # 53 1/3 yards

#: Lowest angle below the horizon that the top image row may look at, so every pixel sees turf.
_MIN_DEPRESSION = np.deg2rad(8.0)


@dataclass(frozen=True)
class Camera:
    """Camera centre, orientation and focal length.

    Attributes
    ----------
    centre : ndarray of shape (3,)
        Position in world yards.
    forward, right, down : ndarray of shape (3,)
        Orthonormal axes: optical axis, image +u and image +v directions.
    focal : float
        Focal length in pixels.
    size : tuple of int
        Image (height, width).
    """

    centre: np.ndarray
    forward: np.ndarray
    right: np.ndarray
    down: np.ndarray
    focal: float
    size: tuple[int, int]

    @property
    def principal_point(self) -> tuple[float, float]:
        height, width = self.size
        return (width - 1) / 2.0, (height - 1) / 2.0


def look_at(centre, target, size, horizontal_fov_deg: float) -> Camera:
    """A level camera (no roll) at ``centre`` aimed at ``target``.

    The focal length gives ``horizontal_fov_deg`` across the width, lengthened if needed so
    that even the top row looks down at the ground (no sky in any aspect ratio).
    """
    centre = np.asarray(centre, dtype=float)
    forward = np.asarray(target, dtype=float) - centre
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    height, width = size
    focal = (width / 2.0) / np.tan(np.deg2rad(horizontal_fov_deg) / 2.0)
    depression = -np.arcsin(forward[2])
    if depression <= _MIN_DEPRESSION:
        raise ValueError("the camera must look down at the field")
    focal = max(focal, (height / 2.0) / np.tan(depression - _MIN_DEPRESSION))
    return Camera(centre, forward, right, down, float(focal), (int(height), int(width)))


def ground_coordinates(camera: Camera) -> tuple[np.ndarray, np.ndarray]:
    """World (X, Y) on the ground plane seen by every pixel.

    Returns
    -------
    X, Y : ndarray of shape (H, W), dtype float64
    """
    height, width = camera.size
    cu, cv = camera.principal_point
    u = (np.arange(width) - cu) / camera.focal
    v = (np.arange(height) - cv) / camera.focal
    # ray(u, v) = forward + u right + v down; its height component does not depend on u
    # because ``right`` is horizontal.
    ray_z = camera.forward[2] + v * camera.down[2]
    scale = -camera.centre[2] / ray_z  # (H,)
    rays = [
        camera.forward[k] + u[None, :] * camera.right[k] + v[:, None] * camera.down[k]
        for k in (0, 1)
    ]
    X = camera.centre[0] + scale[:, None] * rays[0]
    Y = camera.centre[1] + scale[:, None] * rays[1]
    return X, Y


def project(camera: Camera, points) -> np.ndarray:
    """Image (u, v) of world points.

    Parameters
    ----------
    points : array-like of shape (..., 3)

    Returns
    -------
    uv : ndarray of shape (..., 2)
    """
    offset = np.asarray(points, dtype=float) - camera.centre
    depth = offset @ camera.forward
    cu, cv = camera.principal_point
    u = cu + camera.focal * (offset @ camera.right) / depth
    v = cv + camera.focal * (offset @ camera.down) / depth
    return np.stack([u, v], axis=-1)


def pixel_footprint(values: np.ndarray) -> np.ndarray:
    """Change of a world coordinate across one pixel, (H, W), for anti-aliasing thin lines."""
    d_row, d_col = np.gradient(values)
    return np.hypot(d_row, d_col)
