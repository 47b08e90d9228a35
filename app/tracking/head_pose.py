"""Head yaw/pitch/roll from a face transformation matrix (canonical face -> camera).

MediaPipe's camera frame has x toward the image's right, y up and z toward the viewer; the
canonical face looks along +z with +y up. The rotation is split as yaw (about the vertical
axis), then pitch (nod), then roll (tilt in the face plane): the order of a neck.
"""
from __future__ import annotations

import math

import numpy as np


def rotation_part(matrix: np.ndarray) -> np.ndarray:
    """The nearest pure rotation to the matrix's 3x3 block (drops any scale or shear)."""
    m = np.asarray(matrix, dtype=np.float64)[:3, :3]
    u, _, vt = np.linalg.svd(m)
    r = u @ vt
    if np.linalg.det(r) < 0:
        u[:, -1] *= -1
        r = u @ vt
    return r


def ypr_from_matrix(matrix: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees, signs as in engines/posespec.py: yaw > 0 turns the face
    toward the image's right, pitch > 0 is chin up, roll > 0 tilts the head clockwise."""
    r = rotation_part(matrix)
    fwd = r[:, 2]  # where the face looks
    yaw = math.atan2(fwd[0], fwd[2])
    pitch = math.atan2(fwd[1], math.hypot(fwd[0], fwd[2]))
    # Undo yaw then pitch; what is left turns the face's up axis within its own plane.
    cy, sy = math.cos(yaw), math.sin(yaw)
    cp, sp = math.cos(pitch), math.sin(pitch)
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, sp], [0, -sp, cp]])  # pitch > 0 lifts +z toward +y
    rest = (ry @ rx).T @ r
    up = rest[:, 1]
    roll = math.atan2(up[0], up[1])  # up tipped toward +x (image right) = clockwise
    return math.degrees(yaw), math.degrees(pitch), math.degrees(roll)
