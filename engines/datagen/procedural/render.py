"""draw_character: the whole character, back to front, into a 512x512 straight-alpha RGBA array."""
from __future__ import annotations

import threading
from typing import Mapping

import numpy as np
import skia

from engines.convention import CANVAS
from engines.datagen.procedural import accessories, body, eyes, face, hair
from engines.datagen.procedural.geometry import HEAD_ORIGIN, Xform
from engines.datagen.procedural.identity import Identity
from engines.datagen.procedural.layout import face_outline, layout_of
from engines.datagen.procedural.paint import Painter, path, rgb
from engines.posespec import DEFAULT_POSE_SPEC

_local = threading.local()
_INFO = skia.ImageInfo.Make(CANVAS, CANVAS, skia.kRGBA_8888_ColorType, skia.kPremul_AlphaType)


def _surface() -> skia.Surface:
    # One raster surface per thread, cleared for every drawing.
    s = getattr(_local, "surface", None)
    if s is None:
        s = _local.surface = skia.Surface.MakeRaster(_INFO)
    return s


def framed(identity: Identity, head_xy) -> np.ndarray:
    """Canvas position of head-space points at rest, after the identity's framing."""
    pts = np.asarray(head_xy, dtype=np.float64).reshape(-1, 2)
    return HEAD_ORIGIN + pts * identity.scale + np.array([0.0, identity.offset_y])


def draw_character(identity: Identity, pose: Mapping[str, float]) -> np.ndarray:
    """The character `identity` in `pose` (PoseSpec names; missing names take defaults).

    Returns 512x512x4 uint8 straight-alpha RGBA with a transparent background.
    """
    full = DEFAULT_POSE_SPEC.clamp(pose)
    surface = _surface()
    canvas = surface.getCanvas()
    canvas.clear(skia.Color4f(0, 0, 0, 0))
    canvas.save()
    # Framing varies a little between characters, as it does between artists.
    hx, hy = HEAD_ORIGIN
    canvas.translate(float(hx), float(hy + identity.offset_y))
    canvas.scale(float(identity.scale), float(identity.scale))
    canvas.translate(float(-hx), float(-hy))
    p = Painter(canvas, rgb(identity.line_color), identity.line_width)
    xf = Xform.from_pose(full)
    lay = layout_of(identity)

    hair.draw_back(p, xf, identity, lay)
    neck = body.draw_neck(p, xf, identity, lay)
    outline, oz = face_outline(identity, lay)
    body.draw_chin_shadow(p, xf, identity, lay, outline, oz, neck)
    body.draw_body(p, xf, identity, lay)
    face.draw_ears(p, xf, identity, lay)
    face_pts = xf.head(outline, oz)
    face_path = path(face_pts)
    p.fill(face_path, identity.skin)
    lower = outline[:, 1] > 0
    p.stroke(face_pts[lower], width=p.lw)

    canvas.save()
    p.clip(face_path)
    face.draw_face_shading(p, xf, identity, lay, outline)
    if identity.style != "flat":
        # The bangs cast a shadow on the forehead.
        bang_outline, bz, _ = hair.bangs_shape(identity, lay)
        shadow = xf.head(bang_outline + np.array([0.0, 4.5]), bz)
        p.fill(shadow, face.skin_shadow(identity), alpha=0.85,
               blur=2.0 if identity.style == "soft" else 0.0)
    face.draw_blush(p, xf, identity, lay)
    face.draw_mole(p, xf, identity, lay)
    eyes.draw_eye(p, xf, identity, lay, -1, full["eye_right_open"], full["iris_x"], full["iris_y"])
    eyes.draw_eye(p, xf, identity, lay, 1, full["eye_left_open"], full["iris_x"], full["iris_y"])
    face.draw_nose(p, xf, identity, lay)
    face.draw_mouth(p, xf, identity, lay, full["mouth_open"], full["mouth_form"])
    canvas.restore()

    accessories.draw_behind_hair(p, xf, identity, lay)
    hair.draw_front(p, xf, identity, lay)
    # Brows show through the bangs, as anime artists draw them.
    face.draw_brows(p, xf, identity, lay, -1, full["brow_right"])
    face.draw_brows(p, xf, identity, lay, 1, full["brow_left"])
    accessories.draw_front(p, xf, identity, lay)
    canvas.restore()

    img = surface.makeImageSnapshot()
    return img.toarray(colorType=skia.kRGBA_8888_ColorType, alphaType=skia.kUnpremul_AlphaType)
