"""Random but plausible content of a red-zone play: teams, formation, camera and light.

Everything is drawn from one ``numpy.random.Generator``. Time ``t = 0`` is the moment the
quarterback, in shotgun, catches the snap while the linemen are still in their stance;
:meth:`Scene.players_at`, :meth:`Scene.ball_at` and :meth:`Scene.camera_at` give the state
``t`` seconds later (players run, the ball is thrown to a receiver, the camera pans and the
light drifts).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from gmm.data._camera import FIELD_WIDTH, Camera, look_at
from gmm.data._players import PLAYER_HEIGHT, Player

# (jersey, pants, helmet, end zone) of the home team; the visitors wear white jerseys with
# the pants and helmet of another entry.
_TEAM_COLOURS = (
    ((79, 38, 131), (222, 196, 120), (72, 34, 120), (58, 36, 104)),  # purple and gold
    ((172, 30, 44), (236, 236, 232), (165, 28, 40), (140, 36, 46)),  # red
    ((22, 38, 84), (196, 198, 204), (22, 38, 84), (30, 52, 104)),  # navy and silver
    ((238, 104, 32), (244, 244, 240), (246, 112, 38), (196, 92, 40)),  # orange
    ((0, 118, 134), (244, 244, 240), (28, 30, 36), (0, 96, 112)),  # teal and black
    ((32, 32, 36), (190, 160, 92), (190, 160, 92), (150, 126, 74)),  # black and gold
)
_WHITE_JERSEY = (236, 236, 232)
_SKIN_TONES = ((236, 190, 156), (214, 164, 128), (186, 128, 92), (150, 98, 66),
               (116, 76, 52), (86, 56, 40))
_PAINT = (236, 238, 232)
# Spots of the ball across the field: the two inbound lines (hash marks) and the middle.
_BALL_SPOTS = (70.75 / 3.0 + 0.3, FIELD_WIDTH / 2.0, FIELD_WIDTH - 70.75 / 3.0 - 0.3)
THROW_TIME, FLIGHT_TIME, ARC_HEIGHT = 0.6, 1.2, 3.0  # seconds, seconds, yards

# Formation: (yards behind the line of scrimmage, yards across from the ball, pose,
# speed in yd/s after the snap, direction of run in degrees from straight ahead).
_OFFENCE = (
    (0.55, 0.0, "crouch", 1.0, 180), (0.7, -1.1, "crouch", 1.0, 180),
    (0.7, 1.1, "crouch", 1.0, 180), (0.8, -2.2, "crouch", 1.0, 190),
    (0.8, 2.2, "crouch", 1.0, 170), (1.0, 3.4, "crouch", 4.0, 30),
    (5.0, 0.0, "stand", 1.5, 180), (6.5, -1.5, "stand", 5.0, -60),
    (1.0, -15.0, "stand", 7.0, 0), (1.2, 14.0, "stand", 7.0, 0), (1.5, -8.5, "stand", 6.0, 25),
)
# Pass rushers close on the blockers (who drop back) slowly, so the lines never cross.
_DEFENCE = (
    (1.0, -0.7, "crouch", 1.3, 0), (1.0, 0.7, "crouch", 1.3, 0),
    (1.0, -2.9, "crouch", 1.4, 15), (1.0, 2.9, "crouch", 1.4, -15),
    (4.5, -3.5, "stand", 2.0, 180), (4.5, 0.5, "stand", 2.0, 180), (4.5, 4.5, "stand", 2.0, 160),
    (6.0, -15.0, "stand", 4.0, 180), (6.0, 14.0, "stand", 4.0, 180),
    (5.5, -8.5, "stand", 3.5, 170), (9.5, 5.0, "stand", 2.5, 150),
)


@dataclass
class Scene:
    """All random choices of one synthetic broadcast scene (see module docstring)."""

    players: list
    velocities: np.ndarray
    quarterback: int
    receiver: int
    attack: float
    camera_centre: np.ndarray
    camera_target: np.ndarray
    pan_speed: float
    fov_deg: float
    turf: np.ndarray
    stripe_contrast: float
    end_zone: np.ndarray
    paint: np.ndarray
    light_axis: np.ndarray
    shadow_length: float
    shadow_factor: float
    gain: float
    gain_drift: float
    gradient: float
    gradient_angle: float
    tint: np.ndarray
    noise_sigma: float

    def camera_at(self, t: float, size) -> Camera:
        """The camera at time ``t`` (seconds), panning along the field."""
        pan = np.array([self.pan_speed * t, 0.0, 0.0])
        return look_at(self.camera_centre + pan, self.camera_target + pan, size, self.fov_deg)

    def _position(self, index: int, t: float) -> np.ndarray:
        """Feet (X, Y) of player ``index`` at time ``t``, kept within the stadium floor."""
        position = self.players[index].position + self.velocities[index] * t
        return np.clip(position, (-11.5, 0.5), (111.5, FIELD_WIDTH - 0.5))

    def players_at(self, t: float) -> list:
        """Players at time ``t``; those in a stance rise and run from 0.25 s on."""
        moved = []
        for index, player in enumerate(self.players):
            speed = np.linalg.norm(self.velocities[index])
            pose = "run" if (t > 0.25 or player.pose == "run") and speed > 0 else player.pose
            stride = player.stride + 1.8 * t * speed  # about 1.7 strides per second at 6 yd/s
            moved.append(replace(player, position=self._position(index, t), pose=pose,
                                 stride=stride))
        return moved

    def _hands(self, index: int, t: float) -> np.ndarray:
        """World (X, Y, Z) just in front of player ``index``'s chest at time ``t``."""
        x, y = self._position(index, t)
        facing = self.players[index].facing
        return np.array([x + 0.2 * facing, y, 0.55 * PLAYER_HEIGHT])

    def ball_at(self, t: float) -> tuple[np.ndarray, float]:
        """World (X, Y, Z) and heading (radians, on the ground plane) of the ball.

        The quarterback holds it until ``THROW_TIME``, then it flies in an arc to where the
        receiver will be ``FLIGHT_TIME`` later, who then carries it.
        """
        start = self._hands(self.quarterback, min(t, THROW_TIME))
        if t <= THROW_TIME:
            return start, (0.0 if self.attack > 0 else np.pi)
        catch = self._hands(self.receiver, THROW_TIME + FLIGHT_TIME)
        share = min((t - THROW_TIME) / FLIGHT_TIME, 1.0)
        if share >= 1.0:
            catch = self._hands(self.receiver, t)
        position = (1 - share) * start + share * catch
        position[2] += 4.0 * ARC_HEIGHT * share * (1 - share)
        flight = catch - start
        heading = float(np.arctan2(flight[1], flight[0]))
        return position, heading

    def light_at(self, t: float) -> float:
        """Overall exposure gain at time ``t``: a cloud drifting in over a few seconds."""
        return self.gain * (1.0 + self.gain_drift * np.tanh(t / 2.0))


def _uniforms(rng):
    """(jersey, pants, helmet) of the home (team A) and visiting (team B) teams, end zone colour."""
    home, away = rng.choice(len(_TEAM_COLOURS), size=2, replace=False)
    jersey_a, pants_a, helmet_a, end_zone = _TEAM_COLOURS[home]
    _, pants_b, helmet_b, _ = _TEAM_COLOURS[away]
    return (jersey_a, pants_a, helmet_a), (_WHITE_JERSEY, pants_b, helmet_b), end_zone


def _team(rng, formation, uniform, label, los, ball_y, facing):
    """Players of one side with their velocities after the snap."""
    players, velocities = [], []
    for behind, across, pose, speed, angle in formation:
        jitter = rng.normal(0.0, (0.15, 0.25)) * (1.0 if behind < 2 else 3.0)
        x = los - facing * (behind + jitter[0])
        y = np.clip(ball_y + across + jitter[1], 1.0, FIELD_WIDTH - 1.0)
        skin = _SKIN_TONES[rng.integers(len(_SKIN_TONES))]
        players.append(Player(np.array([x, y]), facing, pose, rng.uniform(0, 2 * np.pi), label,
                              *uniform, skin))
        heading = np.deg2rad(angle + rng.normal(0, 10))
        direction = np.array([facing * np.cos(heading), np.sin(heading)])
        velocities.append(speed * rng.uniform(0.8, 1.2) * direction)
    return players, velocities


def random_scene(rng: np.random.Generator, team_a: int, team_b: int) -> Scene:
    """Draw a scene; ``team_a`` and ``team_b`` are the truth classes of the two uniforms."""
    attack = float(rng.choice([-1.0, 1.0]))
    goal = 0.0 if attack < 0 else 100.0
    los = goal - attack * rng.uniform(4.0, 15.0)  # a red-zone snap
    ball_y = rng.choice(_BALL_SPOTS) + rng.normal(0, 0.3)
    uniform_a, uniform_b, end_zone = _uniforms(rng)
    offence, v_off = _team(rng, _OFFENCE, uniform_a, team_a, los, ball_y, attack)
    defence, v_def = _team(rng, _DEFENCE, uniform_b, team_b, los, ball_y, -attack)
    target_x = los + attack * rng.uniform(0.0, 4.0)
    # High in the stands, somewhat back towards midfield, as the All-22 camera is.
    centre = (target_x - attack * rng.uniform(8.0, 20.0), -rng.uniform(34.0, 42.0),
              rng.uniform(30.0, 38.0))
    turf = np.array([88.0, 134.0, 66.0]) * rng.uniform(0.9, 1.1) + rng.normal(0, 4.0, 3)
    angle = rng.uniform(0, 2 * np.pi)
    return Scene(
        players=offence + defence,
        velocities=np.array(v_off + v_def),
        quarterback=6,
        receiver=int(rng.choice([5, 8, 9, 10])),
        attack=attack,
        camera_centre=np.array(centre),
        camera_target=np.array([target_x, rng.uniform(24.0, 28.0), 0.0]),
        pan_speed=attack * rng.uniform(1.0, 3.0),
        fov_deg=rng.uniform(28.0, 32.0),
        turf=turf,
        stripe_contrast=rng.uniform(0.025, 0.05),
        end_zone=np.array(end_zone, float),
        paint=np.array(_PAINT, float),
        light_axis=np.array([np.cos(angle), np.sin(angle)]),
        shadow_length=rng.uniform(0.9, 1.8),
        shadow_factor=rng.uniform(0.5, 0.65),
        gain=rng.uniform(0.92, 1.05),
        gain_drift=rng.uniform(-0.25, 0.25),
        gradient=rng.uniform(0.08, 0.16),
        gradient_angle=rng.uniform(0, 2 * np.pi),
        tint=1.0 + rng.normal(0, 0.02, 3),
        noise_sigma=rng.uniform(2.0, 3.5),
    )

