"""Turn a face photo in 3D: lift the tracker's 478 landmarks (with their depth) to a mesh,
rotate it about the head centre, project it and warp each triangle of the photo along.

A homography only slants a flat picture; this moves the nose against the cheeks the way a
real head turn does, so it is a fair yaw/pitch test. The background is tied to the image
border with fixed points so it stretches instead of tearing.
"""
from __future__ import annotations

import math

import cv2
import numpy as np
from scipy.spatial import Delaunay


def _rotation(yaw_deg: float, pitch_deg: float) -> np.ndarray:
    """Image coordinates (x right, y down, z away from the camera). yaw > 0 swings the nose
    (z < 0) toward +x; pitch > 0 swings it up (toward -y): chin up."""
    y, p = math.radians(yaw_deg), math.radians(pitch_deg)
    ry = np.array([[math.cos(y), 0, -math.sin(y)], [0, 1, 0], [math.sin(y), 0, math.cos(y)]])
    rx = np.array([[1, 0, 0], [0, math.cos(p), math.sin(p)], [0, -math.sin(p), math.cos(p)]])
    return rx @ ry


def rotate_face(img: np.ndarray, landmarks_xyz: np.ndarray, yaw_deg: float,
                pitch_deg: float) -> np.ndarray:
    """`img` with the face turned by yaw/pitch degrees (signs as in engines/posespec.py).

    landmarks_xyz: (N, 3) MediaPipe normalized landmarks (x, y in 0..1 of the image; z in
    units of the image width, negative toward the camera, 0 at the head centre)."""
    h, w = img.shape[:2]
    pts = np.asarray(landmarks_xyz, np.float64) * [w, h, w]
    centre = np.array([pts[:, 0].mean(), pts[:, 1].mean(), 0.0])
    # A ring around the face that turns with it (hair, ears), at the depth of the face rim.
    hull = cv2.convexHull(pts[:, :2].astype(np.float32)).reshape(-1, 2).astype(np.float64)
    rim_z = float(np.percentile(pts[:, 2], 90))
    ring = centre[:2] + (hull - centre[:2]) * 1.25
    ring3 = np.column_stack([ring, np.full(len(ring), rim_z)])
    src3 = np.vstack([pts, ring3])
    moved = (src3 - centre) @ _rotation(yaw_deg, pitch_deg).T + centre
    border = np.array([[0, 0], [w - 1, 0], [0, h - 1], [w - 1, h - 1], [w / 2, 0],
                       [w / 2, h - 1], [0, h / 2], [w - 1, h / 2]], np.float64)
    src2 = np.vstack([src3[:, :2], border])
    dst2 = np.vstack([moved[:, :2], border])
    depth = np.concatenate([moved[:, 2], np.full(len(border), 1e9)])
    tris = Delaunay(src2).simplices
    # Painter's order: far triangles first, so the near side of the face covers them.
    order = np.argsort(-depth[tris].mean(axis=1))
    tri_id = np.full((h, w), -1, np.int32)
    for t in order:
        cv2.fillConvexPoly(tri_id, np.round(dst2[tris[t]]).astype(np.int32), int(t))
    # Per triangle, the affine map destination -> source.
    inv = np.zeros((len(tris), 2, 3))
    for t, tri in enumerate(tris):
        inv[t] = cv2.getAffineTransform(dst2[tri].astype(np.float32), src2[tri].astype(np.float32))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    ids = np.where(tri_id < 0, 0, tri_id)
    a = inv[ids]
    map_x = a[..., 0, 0] * xx + a[..., 0, 1] * yy + a[..., 0, 2]
    map_y = a[..., 1, 0] * xx + a[..., 1, 1] * yy + a[..., 1, 2]
    keep = tri_id < 0
    map_x[keep], map_y[keep] = xx[keep], yy[keep]
    return cv2.remap(img, map_x.astype(np.float32), map_y.astype(np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)
