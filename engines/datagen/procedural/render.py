"""draw_character: the whole character, back to front, into a 512x512 straight-alpha RGBA array."""
from __future__ import annotations

import threading
from typing import Mapping

import numpy as np
import skia

from engines.convention import CANVAS
from engines.datagen.procedural import accessories, body, eyes, face, hair, shading
from engines.datagen.procedural.geometry import HEAD_ORIGIN, Turning, Xform
from engines.datagen.procedural.identity import Identity
from engines.datagen.procedural.layout import face_outline, layout_of
from engines.datagen.procedural.paint import Painter, path, rgb
from engines.datagen.procedural.texture import texture_shader
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


def _textures(identity: Identity, xf: Xform) -> tuple[skia.Shader | None, skia.Shader | None]:
    """The look's texture pinned to the head and to the body of this pose: each layer's
    shader maps texture pixels through the affine transform its part moves by."""
    look = identity.look
    if look.texture == "none" or look.texture_strength <= 0:
        return None, None
    rng = np.random.default_rng(look.texture_seed)
    offset = rng.uniform(0, 200, 2)  # where on the tile the character sits
    scale = 1.0 if look.texture == "atlas" else rng.uniform(0.8, 1.4)
    src = np.array([(0.0, 0.0), (64.0, 0.0), (0.0, 64.0)])

    def shader(to_canvas, origin):
        pts = src + origin
        dst = to_canvas(pts)
        m = skia.Matrix()
        tex = [skia.Point(*map(float, (q + offset - origin) / scale)) for q in pts]
        if not m.setPolyToPoly(tex, [skia.Point(float(x), float(y)) for x, y in dst]):
            return None
        return texture_shader(look.texture, look.texture_seed, m)

    head = shader(lambda q: xf.head(q, 30.0, f=0.3), np.zeros(2))
    body_ = shader(lambda q: xf.bodyp(q, 30.0), np.array([0.0, 100.0]))
    return head, body_


def draw_character(identity: Identity, pose: Mapping[str, float], turning: Turning | None = None) -> np.ndarray:
    """The character `identity` in `pose` (PoseSpec names; missing names take defaults),
    its parts following head turns as `turning` says (default: the generator's own layout).

    Returns 512x512x4 uint8 straight-alpha RGBA with a transparent background.
    """
    return render_pass(identity, pose, turning=turning)[0]


def render_pass(identity: Identity, pose: Mapping[str, float], painter_cls=Painter,
                xform: Xform | None = None, turning: Turning | None = None) -> tuple[np.ndarray, Painter]:
    """draw_character with another painter (flow.IdPainter: one colour per draw call) or
    transform (flow.RecordingXform, which then carries the turning); returns the drawing and
    the painter."""
    full = DEFAULT_POSE_SPEC.clamp(pose)
    surface = _surface()
    canvas = surface.getCanvas()
    canvas.restoreToCount(1)  # the surface is reused: no clip or matrix may outlive a drawing
    canvas.clear(skia.Color4f(0, 0, 0, 0))
    canvas.save()
    # Framing varies a little between characters, as it does between artists.
    hx, hy = HEAD_ORIGIN
    canvas.translate(float(hx), float(hy + identity.offset_y))
    canvas.scale(float(identity.scale), float(identity.scale))
    canvas.translate(float(-hx), float(-hy))
    look = identity.look
    p = painter_cls(canvas, rgb(identity.line_color), identity.line_width, outline=look.outline,
                    line_tint=look.line_tint, texture_strength=look.texture_strength)
    xf = Xform.from_pose(full, turning) if xform is None else xform
    lay = layout_of(identity)
    head_tex, body_tex = _textures(identity, xf)

    p.tex = head_tex
    hair.draw_back(p, xf, identity, lay)
    p.tex = body_tex
    neck = body.draw_neck(p, xf, identity, lay)
    outline, oz = face_outline(identity, lay)
    body.draw_chin_shadow(p, xf, identity, lay, outline, oz, neck)
    body.draw_body(p, xf, identity, lay)
    p.tex = head_tex
    face.draw_ears(p, xf, identity, lay)
    face_pts = xf.head(outline, oz)
    face_path = path(face_pts)
    p.fill(face_path, identity.skin,
           shader=shading.part_gradient(identity, outline, lambda q: xf.head(q, 30.0, f=0.5), identity.skin,
                                        scale=0.5))
    p.texture_over(face_path, 0.3)  # painted skin shows its paper less than cloth and hair
    lower = outline[:, 1] > 0
    p.edge(face_pts[lower], identity.skin, p.lw)

    canvas.save()
    p.clip(face_path)
    face.draw_face_shading(p, xf, identity, lay, outline, oz)
    if identity.style != "flat":
        # The bangs cast a shadow on the forehead (soft under the look's skin shading).
        bang_outline, bz, _ = hair.bangs_shape(identity, lay)
        ss = look.skin_shading
        shadow = xf.head(bang_outline + np.array([0.0, 4.5 + 3.0 * ss]), bz)
        blur = 1.5 + 3.0 * ss if ss > 0 else 2.0 if identity.style == "soft" else 0.0
        p.fill(shadow, face.skin_shadow(identity), alpha=0.85, blur=blur)
    face.draw_blush(p, xf, identity, lay)
    face.draw_mole(p, xf, identity, lay)
    eyes.draw_eye(p, xf, identity, lay, -1, full["eye_right_open"], full["iris_x"], full["iris_y"],
                  full["eye_right_smile"])
    eyes.draw_eye(p, xf, identity, lay, 1, full["eye_left_open"], full["iris_x"], full["iris_y"],
                  full["eye_left_smile"])
    face.draw_nose(p, xf, identity, lay)
    face.draw_mouth(p, xf, identity, lay, full["mouth_open"], full["mouth_form"])
    canvas.restore()

    accessories.draw_behind_hair(p, xf, identity, lay)
    hair.draw_front(p, xf, identity, lay)
    # Brows show through the bangs, as anime artists draw them.
    face.draw_brows(p, xf, identity, lay, -1, full["brow_right"], full["brow_right_angle"])
    face.draw_brows(p, xf, identity, lay, 1, full["brow_left"], full["brow_left_angle"])
    accessories.draw_front(p, xf, identity, lay)
    canvas.restore()
    if canvas.getSaveCount() != 1:
        raise RuntimeError("procedural drawing left the canvas state unbalanced (a save without restore)")

    img = surface.makeImageSnapshot()
    return img.toarray(colorType=skia.kRGBA_8888_ColorType, alphaType=skia.kUnpremul_AlphaType), p
