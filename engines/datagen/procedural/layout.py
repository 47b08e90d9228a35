"""Where the parts of a face sit (head-space pixels at 512), derived from an Identity."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engines.datagen.procedural.geometry import spline
from engines.datagen.procedural.identity import Identity


@dataclass
class Layout:
    rw: float  # half width of the face at the cheekbones
    chin_y: float
    eye_y: float
    eye_dx: float  # distance of each eye centre from the midline
    eye_w: float
    eye_h: float
    brow_y: float
    nose_y: float
    mouth_y: float
    hair_rx: float  # hair cap half width
    hair_top: float  # y of the top of the hair
    bang_y: float  # baseline of the bang tips


def layout_of(ident: Identity) -> Layout:
    rw = 49.0 * ident.face_width
    chin_y = 60.0 + ident.chin
    eye_y = 12.0 + ident.eye_y
    eye_h = ident.eye_h
    brow_y = eye_y - 1.15 * eye_h - 6.0 - ident.brow_gap
    nose_y = eye_y + 0.85 * eye_h + (chin_y - eye_y - 0.85 * eye_h) * 0.3
    mouth_y = nose_y + (chin_y - nose_y) * 0.45
    vol = ident.hair_volume
    eye_top = eye_y - 1.15 * eye_h
    # Bang tips from high on the forehead down to just above the eyes, never over them.
    bang_y = min(brow_y - 16.0 + 22.0 * ident.bang_len, eye_top - 3.0)
    return Layout(
        rw=rw,
        chin_y=chin_y,
        eye_y=eye_y,
        eye_dx=rw * 0.5 * ident.eye_spacing,
        eye_w=ident.eye_w,
        eye_h=eye_h,
        brow_y=brow_y,
        nose_y=nose_y,
        mouth_y=mouth_y,
        hair_rx=rw + 7.0 * vol,
        hair_top=-56.0 - 4.0 * vol,
        bang_y=bang_y,
    )


def face_outline(ident: Identity, lay: Layout) -> tuple[np.ndarray, np.ndarray]:
    """Closed face outline (cranium arc + cheeks + jaw + chin) and the depth of each point."""
    rw, cy = lay.rw, lay.chin_y
    j = ident.jaw
    right = np.array(
        [
            (rw, -4.0),
            (rw * 0.995, 14.0),
            (rw * 0.93, 29.0),
            (rw * (0.7 - 0.14 * j), cy - 14.0 + 2.0 * j),
            (rw * (0.3 - 0.14 * j), cy - 3.5 + 1.5 * j),
            (0.0, cy),
        ]
    )
    lower_r = spline(right, 6)
    lower_l = lower_r[::-1][1:-1] * np.array([-1.0, 1.0])
    a = np.linspace(np.pi, 2 * np.pi, 24, endpoint=False)
    top = np.stack([rw * np.cos(a), -4.0 + 54.0 * np.sin(a)], -1)
    pts = np.concatenate([top, lower_r, lower_l])
    y = pts[:, 1]
    # Silhouette points barely move with a turn; the chin comes forward.
    z = np.where(y <= -4.0, 0.0, 3.0 + 39.0 * np.clip((y + 4.0) / (cy + 4.0), 0, 1) ** 1.6)
    return pts, z
