"""Curves and the 2.5D pose transform.

Shapes are dense polylines in "head space" (pixels at 512, origin at the head centre) or
"body space" (origin at the base of the neck). Every point carries a depth z (towards the
viewer). A head turn moves a point by z * sin(angle), so layers at different depths move by
different amounts (parallax), and points on the face surface are also foreshortened.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

HEAD_ORIGIN = np.array([256.0, 126.0])  # head centre on the 512 canvas at rest
NECK_PIVOT = np.array([0.0, 80.0])  # head-space point the head rolls about
BODY_ORIGIN = np.array([256.0, 215.0])  # base of the neck on the canvas
# Visual angle per pose degree: a 2D drawing turned by the full angle looks overdone.
YAW_GAIN = 0.8
PITCH_GAIN = 0.7
BODY_YAW_DEG = 22.0
Z_MID = 20.0  # the depth a Turning's spread scales about: between back hair and face surface
# How much further a generated head moves than a typical Live2D rig at the same nominal angle
# (optical flow in the head box: engines.datagen.turn_amplitude). The engine's degrees are rig
# degrees: training relabels procedural turns by these factors (train --turn-scale
# proc-=1.45,2.5,2.5), so a generated character posed at a rig angle is drawn at angle / factor.
RIG_DEGREE = {"head_yaw": 1.45, "head_pitch": 2.5, "head_roll": 2.5}


def in_rig_degrees(pose: Mapping[str, float]) -> dict[str, float]:
    """A pose whose head turns are rig degrees -> the generator's own degrees."""
    return {k: v / RIG_DEGREE.get(k, 1.0) for k, v in pose.items()}


def spline(ctrl, n: int = 8, closed: bool = False) -> np.ndarray:
    """Catmull-Rom curve through control points, n samples per segment."""
    p = np.asarray(ctrl, dtype=np.float64)
    if closed:
        p = np.concatenate([p[-1:], p, p[:2]])
    else:
        p = np.concatenate([2 * p[:1] - p[1:2], p, 2 * p[-1:] - p[-2:-1]])
    t = np.linspace(0.0, 1.0, n, endpoint=False)[:, None]
    t2, t3 = t * t, t * t * t
    segs = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        segs.append(
            0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2
                   + (-p0 + 3 * p1 - 3 * p2 + p3) * t3)
        )
    out = np.concatenate(segs)
    if not closed:
        out = np.concatenate([out, p[-2:-1]])
    return out


def bezier(p0, c, p1, n: int = 10) -> np.ndarray:
    """Quadratic Bezier from p0 to p1 with control c (n points, both ends included)."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    p0, c, p1 = (np.asarray(v, dtype=np.float64) for v in (p0, c, p1))
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * c + t * t * p1


def ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 32, rot: float = 0.0) -> np.ndarray:
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    x, y = rx * np.cos(a), ry * np.sin(a)
    c, s = math.cos(rot), math.sin(rot)
    return np.stack([cx + c * x - s * y, cy + s * x + c * y], -1)


def band(curve: np.ndarray, w0: float, w1: float, wmid: float | None = None) -> np.ndarray:
    """A filled stroke along `curve` whose width goes w0 -> (wmid) -> w1: brush-like lines."""
    c = np.asarray(curve, dtype=np.float64)
    d = np.gradient(c, axis=0)
    nrm = np.stack([-d[:, 1], d[:, 0]], -1)
    nrm /= np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-9)
    t = np.linspace(0, 1, len(c))
    if wmid is None:
        w = w0 + (w1 - w0) * t
    else:
        w = np.where(t < 0.5, w0 + (wmid - w0) * t * 2, wmid + (w1 - wmid) * (t - 0.5) * 2)
    half = (w / 2)[:, None] * nrm
    return np.concatenate([c + half, (c - half)[::-1]])


def face_depth(pts: np.ndarray, rx: float = 62.0, ry: float = 85.0, d: float = 52.0) -> np.ndarray:
    """Depth of the face surface (an ellipsoid) under head-space points."""
    x, y = pts[:, 0], pts[:, 1] - 5.0
    return d * np.sqrt(np.clip(1.0 - (x / rx) ** 2 - (y / ry) ** 2, 0.04, 1.0))


@dataclass(frozen=True)
class Turning:
    """How one character's parts follow a head turn. Artists rig this differently (at the same
    angle a Live2D face moves 9-30 px, fringes and back hair by their own amounts), and the
    rotator has to learn turning, not one layout of depths; the defaults are the generator's
    own layout."""

    depth: float = 1.0  # scales every depth: how far the head moves per degree of yaw and pitch
    spread: float = 1.0  # scales depths about Z_MID: parallax between back hair, face and fringe
    fore: float = 1.0  # scales the foreshortening of the face surface
    pivot_dy: float = 0.0  # moves the point the head rolls about down (+) or up, head-space px


def sample_turning(rng: np.random.Generator) -> Turning:
    """A random way of turning around the generator's own (log-uniform factors). Depth times
    spread stays at most 1.15: further, the face slides off the skull at full yaw and shows
    the scalp behind it, which no artist draws."""
    spread = float(np.exp(rng.uniform(np.log(0.5), np.log(1.35))))
    depth_hi = min(1.3, 1.15 / spread)
    return Turning(
        depth=float(np.exp(rng.uniform(np.log(0.75), np.log(depth_hi)))),
        spread=spread,
        fore=float(rng.uniform(0.5, 1.4)),
        pivot_dy=float(rng.uniform(-30.0, 30.0)),
    )


@dataclass
class Xform:
    """Head and body transforms of one pose (plain floats: flow.RecordingXform copies them)."""

    yaw: float
    pitch: float
    roll: float
    body: float
    breath: float
    depth: float = 1.0
    spread: float = 1.0
    fore: float = 1.0
    pivot_dy: float = 0.0

    @classmethod
    def from_pose(cls, pose: Mapping[str, float], turning: Turning | None = None) -> "Xform":
        t = turning or Turning()
        return cls(
            yaw=math.radians(pose.get("head_yaw", 0.0) * YAW_GAIN),
            pitch=math.radians(pose.get("head_pitch", 0.0) * PITCH_GAIN),
            roll=math.radians(pose.get("head_roll", 0.0)),
            body=math.radians(pose.get("body_yaw", 0.0) * BODY_YAW_DEG),
            breath=float(pose.get("breathing", 0.0)),
            depth=t.depth, spread=t.spread, fore=t.fore, pivot_dy=t.pivot_dy,
        )

    def head(self, pts, z=0.0, f: float = 0.0, hang: bool = False) -> np.ndarray:
        """Head-space points at depth z to canvas. f: 1 = foreshortened with the surface.

        hang: long hair below the head follows the roll less (it hangs under gravity).
        """
        p = np.asarray(pts, dtype=np.float64)
        x, y = p[:, 0], p[:, 1]
        z = np.broadcast_to(np.asarray(z, dtype=np.float64), x.shape)
        if self.depth != 1.0 or self.spread != 1.0:
            z = self.depth * (Z_MID + self.spread * (z - Z_MID))
        f = f * self.fore
        sa, ca = math.sin(self.yaw), math.cos(self.yaw)
        sp, cp = math.sin(self.pitch), math.cos(self.pitch)
        x1 = x * (1 - f * (1 - ca)) + z * sa
        z1 = z * ca - x * sa * f
        # Chin up (pitch > 0) lifts the front of the face more than the silhouette.
        y1 = y * (1 - f * (1 - cp)) - z1 * sp
        # Roll about the neck pivot; positive = clockwise on screen (y points down).
        px, py = NECK_PIVOT[0], NECK_PIVOT[1] + self.pivot_dy
        dx, dy = x1 - px, y1 - py
        roll = self.roll * np.clip(1.0 - (y - 40.0) / 220.0, 0.3, 1.0) if hang else self.roll
        sr, cr = np.sin(roll), np.cos(roll)
        xr = px + dx * cr - dy * sr
        yr = py + dx * sr + dy * cr
        shift_x = math.sin(self.body) * 6.0
        shift_y = -1.8 * self.breath
        return np.stack([xr + HEAD_ORIGIN[0] + shift_x, yr + HEAD_ORIGIN[1] + shift_y], -1)

    def bodyp(self, pts, z=0.0) -> np.ndarray:
        """Body-space points at depth z to canvas (body turn and breathing)."""
        p = np.asarray(pts, dtype=np.float64)
        x, y = p[:, 0], p[:, 1]
        z = np.broadcast_to(np.asarray(z, dtype=np.float64), x.shape)
        sb, cb = math.sin(self.body), math.cos(self.body)
        x1 = x * cb + z * sb
        # Breathing lifts the shoulders and chest most, the bottom edge not at all.
        lift = 3.2 * self.breath * np.clip(1.0 - y / 260.0, 0.0, 1.0)
        return np.stack([x1 + BODY_ORIGIN[0], y - lift + BODY_ORIGIN[1]], -1)
