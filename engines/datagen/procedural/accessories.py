"""Accessories: bows, hair clips, headband, beret, cat ears, glasses."""
from __future__ import annotations

import numpy as np

from engines.datagen.procedural.geometry import Xform, ellipse, face_depth, spline
from engines.datagen.procedural.hair import front_depth, hair_colours
from engines.datagen.procedural.identity import Identity
from engines.datagen.procedural.layout import Layout
from engines.datagen.procedural.paint import Painter, mix, shade


def draw_behind_hair(p: Painter, xf: Xform, ident: Identity, lay: Layout) -> None:
    """Parts the front hair covers at their base (cat ears)."""
    if "cat_ears" not in ident.accessories:
        return
    col = hair_colours(ident)
    for s in (-1, 1):
        bx = s * lay.hair_rx * 0.55
        by = lay.hair_top + 8
        outer = np.array([(bx - s * 14, by + 8), (bx + s * 8, by - 22), (bx + s * 18, by + 10)])
        inner = np.array([(bx - s * 7, by + 6), (bx + s * 7, by - 13), (bx + s * 12, by + 8)])
        p.outlined(xf.head(outer, 0.0), col.base, line_colour=col.line)
        p.fill(xf.head(inner, 2.0), (1.0, 0.72, 0.74))


def _bow(p: Painter, pts_fn, cx: float, cy: float, size: float, colour, line) -> None:
    for s in (-1, 1):
        loop = spline([(cx, cy), (cx + s * size, cy - size * 0.7), (cx + s * size * 1.15, cy + size * 0.55),
                       (cx, cy)], 5)
        p.outlined(pts_fn(loop), colour, line_colour=line)
    p.outlined(pts_fn(ellipse(cx, cy, size * 0.28, size * 0.3, 12)), shade(colour, -0.1), line_colour=line)


def draw_front(p: Painter, xf: Xform, ident: Identity, lay: Layout) -> None:
    acc = ident.accessories
    colour = ident.accessory_color
    line = ident.line_color
    hx, top = lay.hair_rx, lay.hair_top

    def on_hair(pts, dz=4.0):
        return xf.head(pts, front_depth(pts, lay) + dz)

    if "headband" in acc:
        a = np.linspace(np.pi * 1.04, np.pi * 1.96, 24)
        outer = np.stack([hx * 1.01 * np.cos(a), -2 + (-top + 1) * np.sin(a)], -1)
        inner = np.stack([hx * 0.98 * np.cos(a), 4 + (-top - 6) * np.sin(a)], -1)[::-1]
        p.outlined(on_hair(np.concatenate([outer, inner]), 2.0), colour, line_colour=line)
    if "beret" in acc:
        s = 1 if ident.hair_seed % 2 else -1
        e = ellipse(s * 10, top + 6, hx * 0.95, 15, 32, rot=s * 0.12)
        p.outlined(xf.head(e, 6.0), colour, line_colour=line)
        p.fill(xf.head(ellipse(s * 10, top + 11, hx * 0.8, 6, 24, rot=s * 0.12), 6.0), shade(colour, -0.2),
               alpha=0.5)
        p.outlined(xf.head(ellipse(s * 12, top - 9, 3, 3, 10), 6.0), shade(colour, -0.15), line_colour=line)
    if "tophat" in acc:
        # A small tilted top hat on one side of the head, as VTuber designs like.
        s = -1 if ident.hair_seed % 2 else 1
        cx, cy, tilt = s * hx * 0.42, top + 8.0, s * 0.3
        c, si = np.cos(tilt), np.sin(tilt)

        def rot(pts):
            d = pts - [cx, cy]
            return np.stack([cx + c * d[:, 0] - si * d[:, 1], cy + si * d[:, 0] + c * d[:, 1]], -1)

        crown = np.array([(cx - 9, cy), (cx - 8, cy - 17), (cx + 8, cy - 17), (cx + 9, cy)])
        band_pts = np.array([(cx - 9, cy - 1), (cx - 8.7, cy - 5), (cx + 8.7, cy - 5), (cx + 9, cy - 1)])
        p.outlined(xf.head(rot(ellipse(cx, cy, 17, 4.5, 24)), 6.0), colour, line_colour=line)
        p.outlined(xf.head(rot(crown), 6.5), colour, line_colour=line)
        p.fill(xf.head(rot(band_pts), 7.0), shade(colour, -0.45))
    if "clips" in acc:
        s = -1 if ident.hair_seed % 2 else 1
        for k in range(2):
            cx, cy = s * (lay.rw * 0.62 + 6 * k), lay.bang_y - 16 + 3 * k
            bar = ellipse(cx, cy, 9.0, 1.8, 14, rot=-s * 0.6)
            p.outlined(on_hair(bar), colour, width=p.lw * 0.6, line_colour=line)
    if "bow" in acc:
        if ident.twin_tails:
            spots = [(s * (hx - 4), -40.0) for s in (-1, 1)]
        else:
            s = 1 if ident.hair_seed % 2 else -1
            spots = [(s * hx * 0.62, top + 16.0)]
        for cx, cy in spots:
            _bow(p, lambda pts: xf.head(pts, 8.0), cx, cy, 13.0, colour, line)
    if "headphones" in acc:
        dark = mix(line, colour, 0.25)
        a = np.linspace(np.pi * 1.0, np.pi * 2.0, 28)
        outer = np.stack([(hx + 5) * np.cos(a), -2 + (-top + 5) * np.sin(a)], -1)
        inner = np.stack([(hx + 1) * np.cos(a), -2 + (-top + 1) * np.sin(a)], -1)[::-1]
        p.outlined(xf.head(np.concatenate([outer, inner]), 0.0), dark, line_colour=line)
        for s in (-1, 1):
            cup = ellipse(s * (lay.rw + 5), 6.0, 9.0, 15.0, 28)
            p.outlined(xf.head(cup, 4.0), dark, line_colour=line)
            p.outlined(xf.head(ellipse(s * (lay.rw + 7), 6.0, 5.0, 10.0, 20), 5.0), colour, line_colour=line)
    if "flower" in acc:
        s = -1 if ident.hair_seed % 2 else 1
        cx, cy = s * hx * 0.66, top + 20.0
        for k in range(5):
            ang = k * 2 * np.pi / 5
            petal = ellipse(cx + 5.5 * np.cos(ang), cy + 5.5 * np.sin(ang), 5.0, 3.6, 14, rot=ang)
            p.outlined(xf.head(petal, 8.0), colour, width=p.lw * 0.5, line_colour=line)
        p.fill(xf.head(ellipse(cx, cy, 2.6, 2.6, 10), 9.0), (1.0, 0.85, 0.3))
    if "glasses" in acc:
        frame = mix(line, colour, 0.3)
        inner_pts = []
        for s in (-1, 1):
            cx, cy = s * lay.eye_dx, lay.eye_y + 1.5
            e = ellipse(cx, cy, lay.eye_w + 4.5, lay.eye_h * 0.95 + 3.0, 36)
            pts = xf.head(e, face_depth(e) + 10.0, f=1.0)
            p.fill(pts, (0.85, 0.92, 1.0), alpha=0.12)
            p.stroke(pts, frame, width=max(1.4, p.lw * 0.9), closed=True)
            inner_pts.append((cx - s * (lay.eye_w + 4.5), cy - 2))
        bridge = np.array([inner_pts[0], (0.0, lay.eye_y - 3.0), inner_pts[1]])
        p.stroke(xf.head(bridge, face_depth(bridge) + 12.0, f=1.0), frame, width=max(1.4, p.lw * 0.9))
