"""Synthetic anime pictures with an exactly known face box, for training and measuring the
face locator. Characters come from the procedural generator; a scene puts one at any scale
and offset on a plain, gradient or busy opaque background, the way users' art arrives.

The face box is the box around the face outline (cranium arc, cheeks, jaw, chin) of the
drawn pose: the part of a character that the convention's head box is about. Hair and
accessories are excluded on purpose, since their extent varies wildly between characters.
The eyes and mouth boxes are measured as engines.datagen.live2d.framing measures a Live2D
rig's: what closing the eyes and what opening the mouth change, at the drawn head pose.
"""
from __future__ import annotations

import cv2
import numpy as np

from engines.datagen.procedural.geometry import HEAD_ORIGIN, Xform
from engines.datagen.procedural.identity import Identity, sample_identity
from engines.datagen.procedural.layout import face_outline, layout_of
from engines.datagen.procedural.render import draw_character
from engines.posespec import DEFAULT_POSE_SPEC

BODY_EXTEND = 256  # rows added below a render so a scaled-up body reaches the scene's edge


def face_box(ident: Identity, pose: dict[str, float]) -> np.ndarray:
    """(x0, y0, x1, y1) of the face outline on the 512 canvas, as draw_character draws it."""
    full = DEFAULT_POSE_SPEC.clamp(pose)
    outline, oz = face_outline(ident, layout_of(ident))
    pts = Xform.from_pose(full).head(outline, oz)
    pts = HEAD_ORIGIN + (pts - HEAD_ORIGIN) * ident.scale + np.array([0.0, ident.offset_y])
    return np.array([pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()])


def changed_box(a: np.ndarray, b: np.ndarray, thresh: int = 40,
                min_pixels: int = 6) -> tuple[float, float, float, float] | None:
    """Box (pixel edges: pixel i spans i..i+1) of where two renders differ by more than
    `thresh` levels in some channel, 1st..99th percentile of the pixels (as the Live2D framing
    measures eyes and mouth)."""
    ys, xs = np.nonzero(np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=-1) > thresh)
    if len(xs) < min_pixels:
        return None
    x0, x1 = np.percentile(xs, [1, 99])
    y0, y1 = np.percentile(ys, [1, 99])
    return float(x0), float(y0), float(x1 + 1), float(y1 + 1)


def feature_boxes(ident: Identity, pose: dict[str, float]):
    """(eyes box, mouth box) on the 512 canvas at the head pose of `pose` (pixel edges)."""
    head = {k: v for k, v in pose.items() if k.startswith(("head_", "body_"))}
    rest = draw_character(ident, head)
    closed = draw_character(ident, {**head, "eye_left_open": 0.0, "eye_right_open": 0.0})
    opened = draw_character(ident, {**head, "mouth_open": 1.0})
    return changed_box(rest, closed), changed_box(rest, opened)


def random_pose(rng: np.random.Generator) -> dict[str, float]:
    """Mostly frontal poses with some expression: how characters are drawn for intake."""
    pose = {"head_yaw": float(rng.normal(0, 6)), "head_roll": float(rng.normal(0, 4)),
            "head_pitch": float(rng.normal(0, 4))}
    for n in ("eye_left_open", "eye_right_open"):
        pose[n] = float(rng.choice([1.0, rng.uniform(0, 1)], p=[0.7, 0.3]))
    pose["mouth_open"] = float(rng.uniform(0, 1) ** 2)
    return pose


def character(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(RGBA 512+BODY_EXTEND x 512, face box) of the random character of `seed`."""
    rng = np.random.default_rng(seed)
    ident = sample_identity(rng)
    pose = random_pose(rng)
    return extend_body(draw_character(ident, pose)), face_box(ident, pose)


def extend_body(rgba: np.ndarray) -> np.ndarray:
    """Continue the body below the canvas by repeating the last row: a bust in a real picture
    runs off the bottom edge instead of ending in a straight cut."""
    return cv2.copyMakeBorder(rgba, 0, BODY_EXTEND, 0, 0, cv2.BORDER_REPLICATE)


def background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """An opaque RGB background: white, a plain colour, a gradient or a busy pattern."""
    kind = rng.choice(4, p=[0.35, 0.25, 0.2, 0.2])
    if kind == 0:
        c = np.full(3, rng.uniform(235, 255))
        return np.broadcast_to(c, (h, w, 3)).astype(np.uint8).copy()
    if kind == 1:
        return np.broadcast_to(rng.uniform(0, 255, 3), (h, w, 3)).astype(np.uint8).copy()
    if kind == 2:
        a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
        t = np.linspace(0, 1, h if rng.random() < 0.6 else w)
        g = a + (b - a) * t[:, None]
        g = g[:, None, :] if len(t) == h else g[None, :, :]
        return np.broadcast_to(g, (h, w, 3)).astype(np.uint8).copy()
    small = rng.uniform(0, 255, (int(rng.integers(2, 9)), int(rng.integers(2, 9)), 3))
    img = cv2.resize(small.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    for _ in range(int(rng.integers(0, 12))):  # shapes, lines: a room, a sky with stars
        c = tuple(float(v) for v in rng.uniform(0, 255, 3))
        p = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        if rng.random() < 0.5:
            cv2.circle(img, p, int(rng.integers(2, max(3, w // 4))), c, -1)
        else:
            q = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            cv2.line(img, p, q, c, int(rng.integers(1, max(2, w // 40))))
    img += rng.normal(0, rng.uniform(0, 12), img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def composite(rgba: np.ndarray, bg: np.ndarray) -> np.ndarray:
    a = rgba[..., 3:4].astype(np.float32) / 255.0
    out = rgba[..., :3].astype(np.float32) * a + bg.astype(np.float32) * (1 - a)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def pyramid(rgba: np.ndarray, levels: int = 4) -> list[np.ndarray]:
    """Premultiplied RGBA at full, 1/2, 1/4... size: warping from the nearest level keeps
    big reductions smooth and cheap, and transparent pixels never bleed dark fringes."""
    out = [_premul(rgba)]
    for _ in range(levels - 1):
        out.append(cv2.pyrDown(out[-1]))
    return out


def place(src, m: np.ndarray, w: int, h: int) -> np.ndarray:
    """Warp a straight-alpha RGBA image (or its pyramid()) by the 2x3 matrix m into a w x h
    canvas; returns straight-alpha RGBA."""
    levels = src if isinstance(src, list) else pyramid(src, 1 if np.hypot(*m[:, 0]) >= 0.5 else 4)
    m = np.asarray(m, dtype=np.float64).copy()
    scale = float(np.hypot(m[0, 0], m[1, 0]))
    f = 1
    while scale * f < 0.5 and f < 2 ** (len(levels) - 1):
        f *= 2
    # pixel j of the level shrunk f times covers full-size x = f * j + (f - 1) / 2
    m[:, 2] += m[:, :2] @ np.full(2, (f - 1) / 2.0)
    m[:, :2] *= f
    i = int(np.log2(f))
    out = cv2.warpAffine(levels[i], m, (w, h), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT)
    return _unpremul(out)


def _premul(rgba: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgba, cv2.COLOR_RGBA2mRGBA)


def _unpremul(rgba: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgba, cv2.COLOR_mRGBA2RGBA)


def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()
