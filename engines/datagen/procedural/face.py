"""Face skin, ears, brows, nose, mouth and blush."""
from __future__ import annotations

import numpy as np
import skia

from engines.datagen.procedural.geometry import Xform, band, ellipse, face_depth, spline
from engines.datagen.procedural.identity import Identity
from engines.datagen.procedural.layout import Layout
from engines.datagen.procedural.paint import Painter, c4, mix, shade
from engines.datagen.procedural.shading import form_shadow


def skin_shadow(ident: Identity):
    return shade(ident.skin, -0.12, 0.1, -0.015)


def draw_ears(p: Painter, xf: Xform, ident: Identity, lay: Layout) -> None:
    rw = lay.rw
    for s in (-1, 1):
        ear = spline([(s * (rw - 4), 0), (s * (rw + 5), -3), (s * (rw + 8), 8),
                      (s * (rw + 5), 22), (s * (rw - 3), 28)], 5)
        pts = xf.head(ear, -6.0, f=0.0)
        p.outlined(pts, ident.skin, width=p.lw * 0.8)
        inner = spline([(s * (rw + 1), 3), (s * (rw + 5), 8), (s * (rw + 3), 18)], 4)
        p.stroke(xf.head(inner, -6.0), skin_shadow(ident), width=p.lw * 0.9)


def draw_brows(p: Painter, xf: Xform, ident: Identity, lay: Layout, side: int, b: float,
               angle: float = 0.0) -> None:
    """b: -1 lowered .. +1 raised; angle: -1 angry (the inner end down) .. +1 troubled (up)."""
    length = lay.eye_w * (0.75 if ident.brow_style == "short" else 1.05)
    thick = {"thin": 1.9, "thick": 3.0, "short": 2.4}[ident.brow_style] * (0.7 + 0.3 * p.lw / 1.8)
    ex = side * lay.eye_dx
    t = np.linspace(-1, 1, 12)  # -1 inner .. +1 outer
    x = ex + side * (t * length + lay.eye_w * 0.1)
    arch = -3.0 * (1 - t * t)
    tilt = ident.brow_tilt * 4.0 * t
    k_inner = 4.0 if b < 0 else 2.0  # angry brows drop at the inner end, worried ones rise
    y = lay.brow_y + arch + tilt - b * 5.0 - b * k_inner * (1 - t) / 2 - angle * 4.0 * (1 - t) / 2
    curve = np.stack([x, y], -1)
    # Darker than the hair so light-haired characters still show their brows.
    col = mix(ident.line_color, shade(ident.hair_color, -0.35), 0.45)
    shape = band(curve, thick, thick * 0.3, thick * 0.9)
    p.fill(xf.head(shape, face_depth(shape) + 6, f=1.0), col)


def draw_nose(p: Painter, xf: Xform, ident: Identity, lay: Layout) -> None:
    ny = lay.nose_y
    z0 = float(face_depth(np.array([[0.0, ny]]))[0]) + 9.0
    if ident.nose == "dot":
        p.fill(xf.head(ellipse(0.5, ny, 1.3, 1.0, 10), z0, f=1.0), ident.line_color, alpha=0.75)
    elif ident.nose == "line":
        pts = np.array([(1.5, ny - 5.0), (-0.5, ny), (1.5, ny + 1.0)])
        p.stroke(xf.head(pts, z0, f=1.0), ident.line_color, width=p.lw * 0.7, alpha=0.8)
    elif ident.nose == "shadow":
        tri = np.array([(0.5, ny - 7.0), (4.0, ny + 1.0), (-0.5, ny + 1.5)])
        p.fill(xf.head(tri, z0, f=1.0), skin_shadow(ident), alpha=0.9)
        p.fill(xf.head(ellipse(0.5, ny + 1.0, 1.0, 0.6, 8), z0, f=1.0), ident.line_color, alpha=0.5)


def mouth_edges(ident: Identity, lay: Layout, open_: float, form: float):
    """Head-space upper and lower mouth edges (x from left to right)."""
    o = float(np.clip(open_, 0, 1))
    f = float(np.clip(form + ident.mouth_base, -1.2, 1.2))
    scale = ident.mouth_w * (0.7 if ident.mouth == "small" else 1.0)
    mw = 7.5 * scale * (1 + 0.2 * o + 0.18 * f - 0.12 * o * max(-f, 0))
    t = np.linspace(-1, 1, 21)
    c = -f * 3.0 * scale
    mid = lay.mouth_y + c * t * t
    if ident.mouth == "cat":
        mid = mid - 1.4 * np.cos(2 * np.pi * t) * (1 - 0.4 * o)
    up = mid - 2.5 * o * (1 - t * t) * scale
    lo = mid + 15.0 * o * np.clip(1 - t * t, 0, 1) ** 0.7 * (0.8 + 0.2 * scale)
    x = mw * t
    return np.stack([x, up], -1), np.stack([x, lo], -1)


def draw_mouth(p: Painter, xf: Xform, ident: Identity, lay: Layout, open_: float, form: float) -> None:
    upper, lower = mouth_edges(ident, lay, open_, form)
    dz = 5.0

    def tf(pts):
        return xf.head(pts, face_depth(pts) + dz, f=1.0)

    gap = float(np.max(lower[:, 1] - upper[:, 1]))
    if gap > 0.4:
        hole_hs = np.concatenate([upper, lower[::-1]])
        hole = tf(hole_hs)
        interior = mix(ident.line_color, (0.75, 0.2, 0.25), 0.6)
        p.fill(hole, interior)
        p.c.save()
        p.clip(hole)
        teeth_h = min(3.2, 0.35 * gap)
        teeth = np.concatenate([upper - [0, 1.0], (upper + [0, teeth_h])[::-1]])
        p.fill(tf(teeth), "#ffffff")
        mx = float(upper[:, 0].max())
        ly = float(lower[len(lower) // 2, 1])
        tongue = ellipse(mx * 0.12, ly - 0.05 * gap, mx * 0.6, gap * 0.42, 20)
        p.fill(tf(tongue), mix((0.95, 0.45, 0.5), ident.skin, 0.2))
        p.c.restore()
        if ident.fang:
            fx = mx * 0.45
            fy = float(np.interp(fx, upper[:, 0], upper[:, 1]))
            p.fill(tf(np.array([(fx - 1.6, fy), (fx + 1.6, fy), (fx + 0.3, fy + min(3.5, gap * 0.6))])),
                   "#ffffff")
        p.stroke(hole, width=p.lw * 0.6, closed=True, alpha=0.9)
    p.stroke(tf(upper), width=p.lw * 0.85)
    if gap > 0.4 and ident.style != "flat":
        # A touch of lower lip.
        lip = lower[6:15] + [0, 2.2]
        p.stroke(tf(lip), skin_shadow(ident), width=p.lw * 0.7, alpha=0.6)


def draw_mole(p: Painter, xf: Xform, ident: Identity, lay: Layout) -> None:
    if not ident.mole:
        return
    s = -1 if ident.hair_seed % 2 else 1
    e = ellipse(s * (lay.eye_dx + lay.eye_w * 0.55), lay.eye_y + lay.eye_h * 1.05 + 3, 0.9, 0.9, 8)
    p.fill(xf.head(e, face_depth(e), f=1.0), ident.line_color, alpha=0.85)


def draw_blush(p: Painter, xf: Xform, ident: Identity, lay: Layout) -> None:
    if ident.blush_style == "none" or ident.blush <= 0.05:
        return
    pink = mix(ident.skin, (1.0, 0.45, 0.5), 0.7)
    for s in (-1, 1):
        cx, cy = s * (lay.eye_dx + 3), lay.eye_y + lay.eye_h + 6
        if ident.blush_style == "soft":
            k = ident.look.blush_size
            e = ellipse(cx, cy, lay.eye_w * 0.75 * k, 4.5 * k, 20)
            p.fill(xf.head(e, face_depth(e), f=1.0), pink, alpha=0.55 * ident.blush, blur=3.0 * k)
        else:
            for k in range(3):
                x0 = cx - 6 + 5 * k
                ln = np.array([(x0 + 1.5, cy - 2.5), (x0 - 1.5, cy + 2.5)])
                p.stroke(xf.head(ln, face_depth(ln), f=1.0), shade(pink, -0.2), width=p.lw * 0.6,
                         alpha=0.5 + 0.5 * ident.blush)


def draw_face_shading(p: Painter, xf: Xform, ident: Identity, lay: Layout, outline: np.ndarray,
                      oz: np.ndarray | None = None) -> None:
    """Soft or cel shadow down the cheek away from the light so the face is not flat."""
    if ident.style == "flat":
        return
    rw, cy = lay.rw, lay.chin_y
    if ident.look.form_shadow > 0 and oz is not None:
        # The face's own form shadow, on the side away from the look's light.
        form_shadow(p, ident, outline, lambda q: xf.head(q, oz), ident.skin, 0.8)
        if ident.style == "cel":
            return
    sh = spline([(rw * 0.98, -4), (rw * 0.82, 20), (rw * 0.55, cy - 10), (rw * 0.2, cy - 1),
                 (rw * 0.6, cy - 6), (rw * 1.1, 20), (rw * 1.1, -4)], 4, closed=True)
    pts = xf.head(sh, face_depth(sh) * 0.4, f=0.5)
    if ident.style == "cel":
        p.fill(pts, skin_shadow(ident), alpha=0.55)
        return
    if ident.look.form_shadow <= 0:
        p.fill(pts, skin_shadow(ident), alpha=0.45, blur=4.0)
    # Painted look: the face darkens softly towards its edges.
    centre = xf.head(np.array([[0.0, 12.0]]), 50.0, f=1.0)[0]
    ring = skia.GradientShader.MakeRadial(
        skia.Point(float(centre[0]), float(centre[1])), float(rw * 1.25),
        [c4(ident.skin, 0.0).toColor(), c4(ident.skin, 0.0).toColor(), c4(skin_shadow(ident), 0.7).toColor()],
        [0.0, 0.55, 1.0],
    )
    p.c.drawPaint(skia.Paint(AntiAlias=True, Shader=ring))  # the caller clips to the face
