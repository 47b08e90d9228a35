"""Neck, shoulders and clothes. Body space: origin at the base of the neck, y down."""
from __future__ import annotations

import numpy as np

from engines.datagen.procedural.face import skin_shadow
from engines.datagen.procedural.geometry import Xform, band, bezier, ellipse, spline
from engines.datagen.procedural.identity import Identity
from engines.datagen.procedural.layout import Layout
from engines.datagen.procedural.paint import Painter, mix, path, shade, vgradient_stops
from engines.datagen.procedural.shading import form_shadow, part_gradient

BOTTOM = 420.0  # below the canvas edge at every framing scale


def chest_depth(pts: np.ndarray) -> np.ndarray:
    """The chest is round: the middle comes forward, the shoulders do not."""
    return 42.0 * np.clip(1 - (pts[:, 0] / 105.0) ** 2, 0, 1)


def torso_shape() -> np.ndarray:
    right = spline([(12, -2), (40, 12), (74, 24), (96, 46), (104, 110), (109, 200), (107, BOTTOM)], 6)
    left = right[::-1] * np.array([-1, 1])
    return np.concatenate([right, left])


def draw_neck(p: Painter, xf: Xform, ident: Identity, lay: Layout) -> np.ndarray:
    # Top edge rides with the head, bottom with the body, so the neck bends with a roll.
    top = xf.head(np.array([(-9.5, 40.0), (9.5, 40.0)]), 20.0)
    bot = xf.bodyp(np.array([(-13.5, 14.0), (13.5, 14.0)]), 20.0)
    sides = []
    for k in (0, 1):
        a, b = top[k], bot[k]
        mid = (a + b) / 2 + np.array([0.8 if k == 0 else -0.8, 0.0])  # slightly waisted
        sides.append(bezier(a, mid, b, 8))
    pts = np.concatenate([sides[0], sides[1][::-1]])
    p.fill(pts, ident.skin)
    p.texture_over(path(pts), 0.3)
    ss = ident.look.skin_shading
    if ss > 0 and ident.style != "flat":
        # The head shades the top of the neck, fading down.
        y0, y1 = float(pts[:, 1].min()), float(pts[:, 1].max())
        dark = skin_shadow(ident)
        p.fill(pts, dark, shader=vgradient_stops(y0, y1, [dark, dark, ident.skin], [0.0, 0.25 + 0.3 * ss, 1.0]),
               alpha=0.55 + 0.3 * ss)
    for side in sides:
        p.edge(side, ident.skin, p.lw * 0.8)
    if "choker" in ident.accessories:
        # A band around the lower neck, following its bend.
        upper = np.array([sides[0][5], (sides[0][5] + sides[1][5]) / 2 + [0, 2.0], sides[1][5]])
        lower = np.array([sides[1][6], (sides[0][6] + sides[1][6]) / 2 + [0, 2.5], sides[0][6]])
        band_pts = np.concatenate([bezier(*upper, 8), bezier(*lower, 8)])
        p.outlined(band_pts, ident.accessory_color, width=p.lw * 0.6)
        gem = (upper[1] + lower[1]) / 2 + [0, 3.0]
        p.outlined(ellipse(gem[0], gem[1], 2.2, 2.6, 10), shade(ident.accessory_color, 0.3, -0.2),
                   width=p.lw * 0.5)
    return pts


def draw_chin_shadow(p: Painter, xf: Xform, ident: Identity, lay: Layout, outline: np.ndarray,
                     z: np.ndarray, neck: np.ndarray) -> None:
    p.c.save()
    p.clip(neck)
    lower = outline[outline[:, 1] > 10]
    ss = ident.look.skin_shading
    shadow = xf.head(lower + np.array([0.0, 9.0 + 4.0 * ss]), z[outline[:, 1] > 10])
    if ss > 0:  # a soft shade, whatever the shading model
        p.fill(shadow, skin_shadow(ident), alpha=0.75, blur=1.0 + 2.5 * ss)
    else:
        p.fill(shadow, skin_shadow(ident), alpha=0.9 if ident.style != "soft" else 0.6,
               blur=0.0 if ident.style != "soft" else 2.0)
    p.c.restore()


def draw_body(p: Painter, xf: Xform, ident: Identity, lay: Layout) -> None:
    torso = torso_shape()
    skin_pts = xf.bodyp(torso, chest_depth(torso))
    p.fill(skin_pts, ident.skin)
    p.texture_over(path(skin_pts), 0.3)
    style = ident.clothing
    shirt_col = ident.cloth_color
    if style == "sailor":
        shirt_col = mix(ident.cloth_color, (1, 1, 1), 0.75)
    elif style == "blazer":
        shirt_col = "#f8f8f8"
    # Shirt covers the torso below a neckline.
    neck_dip = {"sailor": 34.0, "blazer": 14.0, "hoodie": 12.0, "dress": 22.0, "turtleneck": -14.0,
                "kimono": 46.0}[style]
    right = spline([(15, 6), (40, 14), (74, 26), (96, 48), (104, 110), (109, 200), (107, BOTTOM)], 6)
    neckline = spline([(-15, 6), (-6, neck_dip * 0.7), (0, neck_dip), (6, neck_dip * 0.7), (15, 6)], 4)
    if style == "turtleneck":
        neckline = spline([(-15, -20), (0, -18), (15, -20)], 4)
        right = spline([(15, -20), (16, 4), (40, 14), (74, 26), (96, 48), (104, 110), (109, 200),
                        (107, BOTTOM)], 6)
    shirt = np.concatenate([neckline, right[1:], (right[::-1] * [-1, 1])[:-1]])
    sp = xf.bodyp(shirt, chest_depth(shirt))
    shirt_path = p.outlined(sp, shirt_col, shader=part_gradient(ident, shirt, lambda q: _tf(xf, q), shirt_col))
    form_shadow(p, ident, shirt, lambda q: _tf(xf, q), shirt_col, 1.3)
    if ident.style != "flat":
        # The head shades the top of the chest.
        p.c.save()
        p.clip(shirt_path)
        sh = ellipse(0, 4, 34, 16, 24)
        p.fill(xf.bodyp(sh, chest_depth(sh)), shade(shirt_col, -0.22), alpha=0.6,
               blur=4.0 if ident.style == "soft" else 0.0)
        p.c.restore()
    _waist(p, xf, ident, shirt_col)
    sleeve = ident.cloth_color2 if style == "blazer" else shirt_col
    _sleeves(p, xf, ident, sleeve)
    {"sailor": _sailor, "blazer": _blazer, "hoodie": _hoodie, "dress": _dress,
     "turtleneck": _turtleneck, "kimono": _kimono}[style](p, xf, ident)


def sleeve_inner(s: int) -> np.ndarray:
    """The line where an arm meets the chest, from the bottom up to the shoulder."""
    return spline([(s * 70, BOTTOM), (s * 66, 200), (s * 72, 110), (s * 79, 62), (s * 86, 38)], 6)


def _sleeves(p: Painter, xf: Xform, ident: Identity, colour) -> None:
    for s in (-1, 1):
        outer = spline([(s * 86, 38), (s * 97, 50), (s * 104, 110), (s * 109, 200), (s * 107, BOTTOM)], 6)
        arm = np.concatenate([outer, sleeve_inner(s)[1:-1]])
        pts = _tf(xf, arm)
        p.outlined(pts, colour, width=p.lw * 0.9, shader=part_gradient(ident, arm, lambda q: _tf(xf, q), colour))
        form_shadow(p, ident, arm, lambda q: _tf(xf, q), colour, 1.0)
        if ident.style != "flat":
            p.c.save()
            p.clip(pts)
            fold = sleeve_inner(s)[:-2] + np.array([s * 4.0, 0.0])
            p.stroke(_tf(xf, fold), shade(colour, -0.25), width=7.0, alpha=0.35)
            p.c.restore()
            crease = bezier((s * 104, 196), (s * 96, 204), (s * 86, 200), 6)
            p.stroke(_tf(xf, crease), shade(colour, -0.35), width=p.lw * 0.6, alpha=0.6)


def _waist(p: Painter, xf: Xform, ident: Identity, shirt_col) -> None:
    """What shows at the waist between the arms: skirt, belt or pocket."""
    c2, line_w = ident.cloth_color2, p.lw * 0.8
    if ident.clothing == "sailor":
        skirt = np.array([(-72, 224), (72, 224), (80, BOTTOM), (-80, BOTTOM)])
        p.outlined(_tf(xf, skirt), c2, width=line_w)
        for k in range(-3, 4):
            pleat = np.array([(k * 18, 226), (k * 21, BOTTOM)])
            p.stroke(_tf(xf, pleat), shade(c2, -0.35), width=1.2, alpha=0.7)
    elif ident.clothing == "dress":
        belt = np.array([(-70, 176), (70, 176), (70, 190), (-70, 190)])
        p.outlined(_tf(xf, belt), c2, width=line_w)
    elif ident.clothing == "hoodie":
        pocket = np.array([(-42, 196), (42, 196), (54, 262), (-54, 262)])
        p.stroke(_tf(xf, pocket, 1), shade(ident.cloth_color, -0.35), width=line_w, closed=True)
    elif ident.clothing == "kimono":
        obi = np.array([(-72, 168), (72, 168), (74, 222), (-74, 222)])
        p.outlined(_tf(xf, obi), ident.cloth_accent, width=line_w)
        cord = np.array([(-72, 195), (72, 195)])
        p.stroke(_tf(xf, cord, 1), shade(ident.cloth_accent, 0.4, -0.3), width=2.0)
    elif ident.clothing == "turtleneck":
        for k in (-1, 1):
            seam = bezier((k * 30, 120), (k * 24, 170), (k * 30, 230), 6)
            p.stroke(_tf(xf, seam), shade(shirt_col, -0.2), width=1.0, alpha=0.5)


def _tf(xf: Xform, pts: np.ndarray, dz: float = 0.0) -> np.ndarray:
    return xf.bodyp(pts, chest_depth(pts) + dz)


def _bow(p: Painter, xf: Xform, cx: float, cy: float, size: float, colour) -> None:
    for s in (-1, 1):
        loop = spline([(cx, cy), (cx + s * size, cy - size * 0.6), (cx + s * size * 1.1, cy + size * 0.5),
                       (cx, cy)], 5)
        p.outlined(_tf(xf, loop, 4), colour)
        tail = np.array([(cx + s * 1.5, cy + 2), (cx + s * size * 0.7, cy + size * 1.6),
                         (cx + s * size * 0.3, cy + size * 1.7), (cx, cy + 2)])
        p.outlined(_tf(xf, tail, 3), shade(colour, -0.15))
    p.outlined(_tf(xf, np.array([(cx - 3, cy - 3), (cx + 3, cy - 3), (cx + 3, cy + 3), (cx - 3, cy + 3)]), 5),
               colour)


def _sailor(p: Painter, xf: Xform, ident: Identity) -> None:
    c2 = ident.cloth_color2
    for s in (-1, 1):
        flap = np.concatenate([
            spline([(0, 62), (s * 10, 30), (s * 16, 6)], 5),
            spline([(s * 16, 6), (s * 44, 14), (s * 80, 28)], 5)[1:],
            spline([(s * 80, 28), (s * 76, 62), (s * 42, 72)], 5)[1:],
        ])
        p.outlined(_tf(xf, flap, 1), c2)
        stripe = spline([(s * 6, 58), (s * 28, 62), (s * 64, 52)], 5)
        p.stroke(_tf(xf, stripe, 2), "#ffffff", width=2.0)
    _bow(p, xf, 0.0, 62.0, 14.0, ident.cloth_accent)


def _blazer(p: Painter, xf: Xform, ident: Identity) -> None:
    c2 = ident.cloth_color2
    for s in (-1, 1):
        coat = np.concatenate([
            spline([(s * 14, 8), (s * 24, 60), (s * 10, 130), (s * 6, BOTTOM)], 5),
            sleeve_inner(s),
            np.array([(s * 74, 25), (s * 40, 12)]),
        ])
        p.outlined(_tf(xf, coat, 1), c2, shader=part_gradient(ident, coat, lambda q: _tf(xf, q, 1), c2))
        form_shadow(p, ident, coat, lambda q: _tf(xf, q, 1), c2, 1.0)
        lapel = np.array([(s * 15, 10), (s * 30, 40), (s * 24, 52), (s * 12, 110)])
        p.edge(_tf(xf, lapel, 2), c2, p.lw * 0.8)
        collar = np.array([(s * 2, 8), (s * 14, 6), (s * 13, 24)])
        p.outlined(_tf(xf, collar, 3), "#f8f8f8")
    for y in (150.0, 190.0):
        p.outlined(_tf(xf, ellipse(14.0, y, 3.0, 3.0, 12), 2), shade(c2, 0.25, -0.1))
    tie = np.array([(-3.5, 10), (3.5, 10), (5.5, 60), (0, 70), (-5.5, 60)])
    if ident.hair_seed % 2:
        p.outlined(_tf(xf, tie, 4), ident.cloth_accent)
    else:
        _bow(p, xf, 0.0, 14.0, 11.0, ident.cloth_accent)


def _hoodie(p: Painter, xf: Xform, ident: Identity) -> None:
    c = shade(ident.cloth_color, -0.12)
    hood = np.concatenate([spline([(-46, 16), (-30, 2), (0, 8), (30, 2), (46, 16)], 5),
                           spline([(46, 16), (24, 30), (0, 28), (-24, 30), (-46, 16)], 5)[1:]])
    p.outlined(_tf(xf, hood, 2), c)
    for s in (-1, 1):
        cord = np.array([(s * 9, 24), (s * 11, 70)])
        p.stroke(_tf(xf, cord, 4), "#f4f4f4", width=2.2)
        p.fill(_tf(xf, np.array([(s * 11 - 2, 70), (s * 11 + 2, 70), (s * 11 + 2, 76), (s * 11 - 2, 76)]), 4),
               ident.cloth_accent)


def _dress(p: Painter, xf: Xform, ident: Identity) -> None:
    frill = spline([(-16, 8), (-8, 18), (0, 22), (8, 18), (16, 8)], 5)
    p.stroke(_tf(xf, frill, 2), ident.cloth_color2, width=4.5)
    p.edge(_tf(xf, frill + [0, 2.5], 2), ident.cloth_color, p.lw * 0.6, alpha=0.7)
    _bow(p, xf, 0.0, 24.0, 9.0, ident.cloth_accent)


def _turtleneck(p: Painter, xf: Xform, ident: Identity) -> None:
    for k in range(5):
        x = -10 + 5 * k
        rib = np.array([(x, -16), (x, 2)])
        p.stroke(_tf(xf, rib, 2), shade(ident.cloth_color, -0.25), width=1.0, alpha=0.7)
    chain = bezier((-30, 16), (0, 70), (30, 16), 14)
    p.stroke(_tf(xf, chain, 3), ident.cloth_accent, width=1.4)
    p.outlined(_tf(xf, np.array([(0, 38), (4, 44), (0, 50), (-4, 44)]), 4), ident.cloth_accent)


def _kimono(p: Painter, xf: Xform, ident: Identity) -> None:
    """Wide crossed collar bands meeting in a V, the outer one running down to the obi."""
    inner = mix(ident.cloth_color2, (1, 1, 1), 0.7)
    # Centre lines sit outside the V so the skin of the neckline shows between them.
    under = np.array([(-15.0, 0.0), (-5.0, 46.0), (2.0, 66.0)])
    over = np.array([(16.0, 0.0), (6.0, 46.0), (-26.0, 172.0)])
    p.outlined(_tf(xf, band(under, 10.0, 10.0), 1.0), inner, width=p.lw * 0.7)
    p.outlined(_tf(xf, band(over, 11.0, 12.0), 2.0), ident.cloth_color2, width=p.lw * 0.8)
