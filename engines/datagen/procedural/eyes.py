"""Anime eyes: white, iris, pupil, highlights, lids with lashes that close over the eye."""
from __future__ import annotations

import numpy as np
import skia

from engines.datagen.procedural.geometry import Xform, band, ellipse, face_depth
from engines.datagen.procedural.identity import Identity
from engines.datagen.procedural.layout import Layout
from engines.datagen.procedural.look import light_side
from engines.datagen.procedural.paint import Painter, lgradient, lgradient_stops, mix, shade

N = 25  # samples across an eye


def _on_face(xf: Xform, pts: np.ndarray, dz: float = 0.0) -> np.ndarray:
    return xf.head(pts, face_depth(pts) + dz, f=1.0)


def eye_curves(ident: Identity, lay: Layout, side: int, openness: float, smile: float = 0.0):
    """Head-space upper and lower lid curves (x from image-left to image-right).

    side: -1 = eye on the image's left (character's right), +1 = image's right.
    openness: 1 open .. 0 closed; the upper lid comes down to a closed lash line and the
    lower lid rises to meet it. smile: 0 .. 1 bends that lash line from a sag to an arch
    (^), so it shows as the eye closes, as on the Live2D rigs.
    """
    w, h = lay.eye_w, lay.eye_h
    ex, ey = side * lay.eye_dx, lay.eye_y
    t = np.linspace(-1.0, 1.0, N)
    u = side * t  # +1 at the outer corner
    corner = ey + h * (0.2 * (1 - u) / 2 + (0.1 - ident.eye_tilt) * (1 + u) / 2)
    x = ex + w * t
    bump = np.clip(1 - u * u, 0, 1)
    up_open = corner - 1.15 * h * bump**0.55 * (1 - 0.12 * u)
    lo_open = corner + 0.85 * h * bump**0.75
    closed = corner + 0.42 * h * bump**0.8 * (1.0 - 2.0 * float(np.clip(smile, 0.0, 1.0)))
    o = float(np.clip(openness, 0.0, 1.0))
    upper = closed + (up_open - closed) * o
    lower = closed + (lo_open - closed) * min(1.0, 2.0 * o)
    return np.stack([x, upper], -1), np.stack([x, lower], -1), u


def draw_eye(p: Painter, xf: Xform, ident: Identity, lay: Layout, side: int,
             openness: float, iris_x: float, iris_y: float, smile: float = 0.0) -> None:
    w, h = lay.eye_w, lay.eye_h
    ex, ey = side * lay.eye_dx, lay.eye_y
    lw = p.lw
    upper, lower, u = eye_curves(ident, lay, side, openness, smile)
    white_hs = np.concatenate([upper, lower[::-1]])
    gap = float(np.max(lower[:, 1] - upper[:, 1]))
    if gap > 0.3:
        white = _on_face(xf, white_hs)
        p.c.save()
        p.clip(white)
        p.fill(white, ident.sclera)
        # Iris: moves inside the eye; the lids cover what leaves the opening.
        icx = ex + iris_x * w * 0.42
        icy = ey + 0.08 * h - iris_y * h * 0.3
        rx, ry = w * ident.iris_w, h * ident.iris_h
        iris_hs = ellipse(icx, icy, rx, ry, 40)
        iris = _on_face(xf, iris_hs, 0.5)
        top_c = xf.head(np.array([[icx, icy - ry]]), face_depth(np.array([[icx, icy]])))[0]
        bot_c = xf.head(np.array([[icx, icy + ry]]), face_depth(np.array([[icx, icy]])))[0]
        detail = ident.look.eye_detail
        if detail >= 1:
            _detailed_iris(p, xf, ident, iris, top_c, bot_c, icx, icy, rx, ry)
        elif ident.style == "soft":
            p.fill(iris, ident.iris_color,
                   shader=lgradient(top_c, bot_c, shade(ident.iris_color, -0.35), ident.iris_color2))
        else:
            p.fill(iris, ident.iris_color)
            p.c.save()
            p.clip(iris)
            p.fill(_on_face(xf, ellipse(icx, icy + ry * 0.55, rx * 0.85, ry * 0.55, 24)),
                   ident.iris_color2, alpha=0.9 if ident.style == "cel" else 0.6)
            p.fill(_on_face(xf, ellipse(icx, icy - ry * 0.75, rx * 1.3, ry * 0.55, 24)),
                   shade(ident.iris_color, -0.5), alpha=0.85)
            p.c.restore()
        dark = shade(ident.iris_color, -0.75, 0.1)
        if ident.pupil == "round":
            p.fill(_on_face(xf, ellipse(icx, icy + 0.05 * ry, rx * 0.4, ry * 0.42, 24), 0.6), dark, 0.9)
        elif ident.pupil == "slit":
            p.fill(_on_face(xf, ellipse(icx, icy, rx * 0.13, ry * 0.6, 20), 0.6), dark)
        else:
            p.stroke(_on_face(xf, ellipse(icx, icy + 0.05 * ry, rx * 0.42, ry * 0.45, 24), 0.6),
                     dark, width=lw * 0.9, alpha=0.8, closed=True)
            p.fill(_on_face(xf, ellipse(icx, icy + 0.05 * ry, rx * 0.18, ry * 0.2, 16), 0.6), dark)
        if ident.iris_style == "ring":
            p.stroke(_on_face(xf, ellipse(icx, icy + 0.08 * ry, rx * 0.68, ry * 0.7, 32), 0.6),
                     ident.iris_color2, width=max(0.8, lw * 0.5), alpha=0.7, closed=True)
        elif ident.iris_style == "sparkle":
            for a in (0.25, 0.45, 0.65):
                ang = np.pi * a
                dot = ellipse(icx - np.cos(ang) * rx * 0.62, icy + np.sin(ang) * ry * 0.62, 0.9, 0.9, 8)
                p.fill(_on_face(xf, dot, 0.9), "#ffffff", alpha=0.85)
        rim = max(0.8, lw * 0.6) * (1.6 if detail >= 1 else 1.0)
        p.stroke(iris, shade(ident.iris_color, -0.6), width=rim, closed=True)
        # Shadow of the upper lid on the eyeball.
        shadow = np.concatenate([upper, (upper + np.array([0.0, 0.32 * h]))[::-1]])
        p.fill(_on_face(xf, shadow, 0.8), mix(ident.line_color, ident.iris_color, 0.3),
               alpha=0.28, blur=1.5 if ident.style == "soft" else 0.0)
        # Highlights ride on the iris but stay on the side the light comes from.
        ls = light_side(ident.look)
        hl = [(-0.38, -0.42, 0.3, 0.24), (0.34, 0.38, 0.14, 0.11), (0.05, -0.55, 0.09, 0.07)]
        for dx, dy, sx, sy in hl[: ident.highlights]:
            p.fill(_on_face(xf, ellipse(icx + ls * dx * rx, icy + dy * ry, sx * rx * 1.6, sy * ry * 1.6, 16),
                            1.0), "#ffffff", alpha=0.95)
        if detail >= 2:
            # A soft glow opposite the main highlight and a few small sparkles.
            p.fill(_on_face(xf, ellipse(icx - ls * 0.3 * rx, icy + 0.45 * ry, 0.32 * rx, 0.22 * ry, 16), 1.0),
                   shade(ident.iris_color2, 0.5, -0.15), alpha=0.55, blur=1.2)
            for dx, dy in ((-0.1, -0.2), (0.45, -0.05), (-0.5, 0.3)):
                dot = ellipse(icx + ls * dx * rx, icy + dy * ry, 0.07 * rx + 0.4, 0.07 * rx + 0.4, 10)
                p.fill(_on_face(xf, dot, 1.0), "#ffffff", alpha=0.9)
        p.c.restore()
    _draw_lashes(p, xf, ident, lay, side, upper, lower, u, openness)


def _detailed_iris(p: Painter, xf: Xform, ident: Identity, iris: np.ndarray, top_c, bot_c,
                   icx: float, icy: float, rx: float, ry: float) -> None:
    """A painted iris: dark top fading to the light colour below, a light lower crescent and
    (eye_detail 2) fine streaks radiating from the pupil."""
    c1, c2 = ident.iris_color, ident.iris_color2
    p.fill(iris, c1, shader=lgradient_stops(top_c, bot_c, [shade(c1, -0.55), c1, c2], [0.0, 0.45, 1.0]))
    p.c.save()
    p.clip(iris)
    # A lighter crescent below (relative to the iris colour, so a dark iris stays dark).
    p.fill(_on_face(xf, ellipse(icx, icy + ry * 0.62, rx * 0.7, ry * 0.38, 24), 0.55), shade(c2, 0.35, -0.1),
           alpha=0.6, blur=1.5)
    if ident.look.eye_detail >= 2:
        rng = np.random.default_rng([ident.hair_seed, 40])
        a = np.linspace(0.0, 2 * np.pi, 14, endpoint=False) + rng.uniform(0, 0.4)
        r = np.stack([np.full(14, 0.45), rng.uniform(0.75, 0.95, 14)], -1)  # inner, outer radius
        ends = np.stack([icx + r * rx * np.cos(a)[:, None], icy + r * ry * np.sin(a)[:, None]], -1)
        ends = _on_face(xf, ends.reshape(-1, 2), 0.55).tolist()
        rays = skia.Path()
        for k in range(0, len(ends), 2):
            rays.moveTo(*ends[k])
            rays.lineTo(*ends[k + 1])
        p.stroke(rays, shade(c1, -0.45), width=0.7, alpha=0.55)
    p.c.restore()


def _draw_lashes(p: Painter, xf: Xform, ident: Identity, lay: Layout, side: int,
                 upper: np.ndarray, lower: np.ndarray, u: np.ndarray, openness: float) -> None:
    w, h = lay.eye_w, lay.eye_h
    lw = p.lw
    th = (1.8 + 1.3 * ident.lash_weight) * (0.75 + 0.25 * lw / 1.8) * ident.look.lash_scale
    line = ident.line_color
    # Crease above the lid, moving with it.
    crease_sel = (u > -0.6) & (u < 0.65)
    crease = upper[crease_sel] - np.array([0.0, 0.22 * h + 2.5])
    if openness > 0.15:
        p.stroke(_on_face(xf, crease, 0.5), line, width=lw * 0.55, alpha=0.45 * min(1.0, openness * 2))
    # Upper lash line: thin at the inner corner, heavy at the outer corner.
    lid = upper - np.array([0.0, th * 0.3])
    inner_first = lid if side > 0 else lid[::-1]  # from inner to outer corner
    shape = band(inner_first, th * 0.35, th * 1.15, th)
    p.fill(_on_face(xf, shape, 1.0), line)
    outer = inner_first[-1]
    if ident.lash_style in ("wing", "lashes"):
        wing = np.array([
            outer + [0.0, -th * 0.6],
            outer + [side * w * 0.28, -h * 0.2 - th * 0.2],
            outer + [side * w * 0.05, th * 0.55],
        ])
        p.fill(_on_face(xf, wing, 1.0), line)
    if ident.lash_style == "lashes":
        for k, frac in enumerate((0.72, 0.86)):
            base = inner_first[int(frac * (N - 1))]
            tip = base + [side * w * (0.18 + 0.08 * k), -h * (0.28 + 0.04 * k)]
            spike = np.array([base + [-side * 1.2, 0.5], tip, base + [side * 1.5, 0.5]])
            p.fill(_on_face(xf, spike, 1.0), line)
    if ident.lower_lash:
        sel = u > -0.15
        lo = lower[sel] if side > 0 else lower[sel][::-1]
        p.fill(_on_face(xf, band(lo, 0.2, th * 0.45, th * 0.35), 0.8), line, alpha=0.9)
