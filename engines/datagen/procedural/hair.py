"""Hair: back hair, twin tails and buns behind the head; bangs, side locks and ahoge in front.

Clump jitter comes from the identity's hair_seed, so the hair is identical in every pose.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engines.datagen.procedural.geometry import Xform, band, bezier, ellipse, spline
from engines.datagen.procedural.identity import Identity
from engines.datagen.procedural.layout import Layout
from engines.datagen.procedural.look import light_side
from engines.datagen.procedural.paint import Painter, mix, shade, vgradient, vgradient_stops
from engines.datagen.procedural.shading import (
    flow_lines,
    form_shadow,
    on_canvas,
    part_gradient,
    strand_colours,
    strands_between,
)

BACK_Z = -24.0


def back_depth(pts: np.ndarray) -> np.ndarray:
    """Back hair around the skull is silhouette (stays put when the head turns); the hair
    hanging behind the neck and shoulders is behind the head and moves the other way."""
    return BACK_Z * np.clip((pts[:, 1] - 20.0) / 60.0, 0.0, 1.0)
SIDE_Z = 10.0


@dataclass
class HairColours:
    base: tuple
    shadow: tuple
    deep: tuple
    light: tuple
    line: tuple


def hair_colours(ident: Identity) -> HairColours:
    base = shade(ident.hair_color)
    value = max(base)
    return HairColours(
        base=base,
        shadow=shade(base, -0.22, 0.1, 0.02),
        deep=shade(base, -0.38, 0.1, 0.03),
        light=mix(base, (1, 1, 1), 0.22 + 0.4 * value),  # dark hair gets a subtle sheen
        line=mix(ident.line_color, shade(base, -0.6), 0.5),
    )


def _clump_edge(tips: np.ndarray, roots: np.ndarray) -> np.ndarray:
    """Jagged edge roots[0] -> tips[0] -> roots[1] -> ... with convex clumps and sharp tips."""
    out = [roots[:1]]
    for i, tip in enumerate(tips):
        r0, r1 = roots[i], roots[i + 1]
        c0 = r0 + (tip - r0) * np.array([0.15, 0.8])
        c1 = r1 + (tip - r1) * np.array([0.15, 0.8])
        out.append(bezier(r0, c0, tip, 7)[1:])
        out.append(bezier(tip, c1, r1, 7)[1:])
    return np.concatenate(out)


def _jagged_bottom(x0: float, x1: float, y: float, n: int, amp: float, rng) -> np.ndarray:
    xs = np.linspace(x0, x1, 2 * n + 1)
    tips = np.stack([xs[1::2], y + rng.uniform(-amp * 0.4, amp * 0.4, n)], -1)
    roots = np.stack([xs[0::2], np.full(n + 1, y - amp)], -1)
    roots[0, 1] = roots[-1, 1] = y - amp * 1.5
    return _clump_edge(tips, roots)


def _back_right_edge(ident: Identity, lay: Layout) -> tuple[np.ndarray, float, float]:
    """The back hair's right edge from the ears down, its half width and its length."""
    hx = lay.hair_rx
    length = {"short": 38.0, "bob": 62.0, "medium": 130.0, "long": 280.0}[ident.back_hair]
    length *= ident.hair_len
    width = {"short": hx + 3, "bob": hx + 12, "medium": hx + 20, "long": hx + 30}[ident.back_hair]
    width *= 0.9 + 0.1 * ident.hair_volume
    right = spline([(hx + 3, 0), (hx + 6, 30), (width, length * 0.6), (width - 4, length)], 6)
    return right, width, length


def back_hair_shape(ident: Identity, lay: Layout) -> np.ndarray:
    rng = np.random.default_rng(ident.hair_seed + 1)
    hx, top = lay.hair_rx, lay.hair_top
    right, width, length = _back_right_edge(ident, lay)
    a = np.linspace(np.pi * 1.05, np.pi * 1.95, 20)
    cap = np.stack([(hx + 3) * np.cos(a), -4 + (-(top) - 2) * np.sin(a)], -1)
    n = max(3, int(width / 14))
    bottom = _jagged_bottom(width - 4, -(width - 4), length, n, 10.0 + 0.03 * length, rng)
    left = right[::-1] * np.array([-1, 1])
    return np.concatenate([cap, right, bottom[1:-1], left])


def tail_shape(ident: Identity, lay: Layout, s: int) -> np.ndarray:
    hx = lay.hair_rx
    ln = 170.0 * ident.hair_len
    outer = spline([(s * (hx - 8), -44), (s * (hx + 22), -30), (s * (hx + 38), 30),
                    (s * (hx + 34), ln * 0.7), (s * (hx + 18), ln)], 6)
    inner = spline([(s * (hx + 18), ln), (s * (hx + 14), ln * 0.65), (s * (hx + 6), 30),
                    (s * (hx - 10), -30)], 6)
    return np.concatenate([outer, inner[1:]])


def _tips_shader(ident: Identity, pts: np.ndarray, top, bottom):
    """Shader for a long hair shape: soft styles shade downwards; dyed tips fade in."""
    y0, y1 = float(pts[:, 1].min()), float(pts[:, 1].max())
    if ident.hair_tips:
        tip = shade(ident.hair_tips, -0.1) if bottom != top else shade(ident.hair_tips)
        return vgradient_stops(y0, y1, [top, top, tip], [0.0, 0.45, 1.0])
    if ident.style == "soft":
        return vgradient(y0, y1, top, shade(bottom, -0.1))
    return None


def ponytail_shape(ident: Identity, lay: Layout) -> np.ndarray:
    """A low ponytail tied behind the head that swings out on one side."""
    s = 1 if ident.hair_seed % 2 else -1
    hx, ln = lay.hair_rx, 140.0 * ident.hair_len
    outer = spline([(s * (hx - 12), -36), (s * (hx + 12), -22), (s * (hx + 26), 24),
                    (s * (hx + 24), ln * 0.7), (s * (hx + 12), ln)], 6)
    inner = spline([(s * (hx + 12), ln), (s * (hx + 8), ln * 0.6), (s * (hx + 2), 24),
                    (s * (hx - 10), -14)], 6)
    return np.concatenate([outer, inner[1:]])


def _back_strands(p: Painter, xf: Xform, ident: Identity, lay: Layout, back: np.ndarray) -> None:
    """Long thin strand lines down the back hair."""
    col = hair_colours(ident)
    rng = np.random.default_rng(ident.hair_seed + 2)
    bottom = float(back[:, 1].max()) - 14.0
    if bottom < 40.0:
        return
    for s in (-1, 1):
        for _ in range(3):
            x0 = s * rng.uniform(lay.rw * 0.7, lay.hair_rx + 2)
            x1 = x0 + s * rng.uniform(4, 16)
            strand = bezier((x0, 10.0), (x0 + s * 8, bottom * 0.5), (x1, bottom * rng.uniform(0.6, 0.95)), 10)
            p.stroke(xf.head(strand, back_depth(strand), hang=True), col.deep, width=p.lw * 0.6, alpha=0.45)


def _hanging_detail(p: Painter, ident: Identity, a: np.ndarray, b: np.ndarray, tf, base, seed: int,
                    count: int | None = None) -> None:
    """The look's strand lines and specular streaks along a hanging hair part whose long
    edges a and b run from its root to its tip (head space; tf maps them to the canvas)."""
    look = ident.look
    rng = np.random.default_rng([ident.hair_seed, seed])
    n = look.hair_strands if count is None else count
    if n > 0:
        curves = on_canvas(strands_between(a, b, n, rng), tf)
        flow_lines(p, curves, strand_colours(ident, base), p.lw * 0.55, 0.55)
    if look.hair_shine in ("streaks", "ring_streaks"):
        col = hair_colours(ident)
        curves = on_canvas(strands_between(a, b, 2, rng, start=(0.1, 0.25), end=(0.35, 0.55)), tf)
        flow_lines(p, curves, [col.light], 3.2, min(1.0, 0.6 * look.shine))


def draw_back(p: Painter, xf: Xform, ident: Identity, lay: Layout) -> None:
    col = hair_colours(ident)
    back = back_hair_shape(ident, lay)

    def tf_back(q):
        return xf.head(q, back_depth(q), hang=True)

    pts = tf_back(back)
    shader = part_gradient(ident, back, tf_back, col.shadow, _tips_shader(ident, pts, col.shadow, col.shadow))
    p.outlined(pts, col.shadow, line_colour=col.line, shader=shader)
    form_shadow(p, ident, back, tf_back, col.shadow)
    if ident.style != "flat":
        _back_strands(p, xf, ident, lay, back)
    if ident.look.hair_strands or ident.look.hair_shine in ("streaks", "ring_streaks"):
        p.c.save()
        p.clip(pts)
        edge = np.concatenate([[(lay.hair_rx * 0.7, -30.0)], _back_right_edge(ident, lay)[0]])
        _hanging_detail(p, ident, edge, edge * np.array([-1.0, 1.0]), tf_back, col.shadow, 10)
        p.c.restore()
    if ident.ponytail:
        pony = ponytail_shape(ident, lay)

        def tf_pony(q):
            return xf.head(q, back_depth(q) + 6, hang=True)

        _hanging_part(p, ident, pony, tf_pony, col, 11)
    if ident.twin_tails:
        for s in (-1, 1):
            tail = tail_shape(ident, lay, s)

            def tf_tail(q):
                return xf.head(q, back_depth(q) + 4, hang=True)

            _hanging_part(p, ident, tail, tf_tail, col, 12 + s)
            if ident.style != "flat" and ident.look.hair_shine != "none":
                streak = tail[4:18] * np.array([0.97, 1.0])
                p.stroke(tf_tail(streak), col.light, width=2.5, alpha=min(1.0, 0.5 * ident.look.shine))
    if ident.buns:
        for s in (-1, 1):
            e = ellipse(s * (lay.hair_rx - 10), lay.hair_top + 13, 14, 13, 24)
            p.outlined(xf.head(e, -6.0), col.base, line_colour=col.line)
            form_shadow(p, ident, e, lambda q: xf.head(q, -6.0), col.base, 0.6)


def _hanging_part(p: Painter, ident: Identity, shape: np.ndarray, tf, col: HairColours, seed: int,
                  tip: int = 24, shadow: float = 0.7, count: int | None = None) -> None:
    """A part that hangs from the head (tail, ponytail, side lock): its outline runs down one
    long edge to the tip (sample `tip`) and back up the other. Filled with the look's
    gradient and darker tips, shadowed, with strands and streaks clipped to it."""
    tp = tf(shape)
    shader = part_gradient(ident, shape, tf, col.base, _tips_shader(ident, tp, col.base, col.shadow))
    pa = p.outlined(tp, col.base, shader=shader, line_colour=col.line)
    form_shadow(p, ident, shape, tf, col.base, shadow)
    if ident.look.hair_strands or ident.look.hair_shine in ("streaks", "ring_streaks"):
        p.c.save()
        p.clip(pa)
        _hanging_detail(p, ident, shape[:tip + 1], shape[tip:][::-1], tf, col.base, seed, count)
        p.c.restore()


def bangs_shape(ident: Identity, lay: Layout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Front hair cap outline, its per-point depth, and the clump tips (head space)."""
    rng = np.random.default_rng(ident.hair_seed)
    hx, top, by = lay.hair_rx, lay.hair_top, lay.bang_y
    n = ident.bang_clumps
    xr = lay.rw + 3.0
    style = ident.bangs
    # Clumps of unequal width (a hime cut is more regular).
    spread = 0.15 if style == "straight" else 0.45
    widths = rng.uniform(1 - spread, 1 + spread, n)
    bounds = xr - 2 * xr * np.concatenate([[0.0], np.cumsum(widths) / widths.sum()])
    xs = np.empty(2 * n + 1)
    xs[0::2] = bounds
    xs[1::2] = (bounds[:-1] + bounds[1:]) / 2
    tx = xs[1::2] + rng.uniform(-1.5, 1.5, n)
    rel = np.abs(tx) / xr
    jit = {"straight": 1.2, "swept": 3.0, "parted": 3.0, "spiky": 6.0, "curtain": 2.5}[style]
    ty = by + rng.uniform(-jit, jit, n) + 30.0 * rel**4  # outer clumps frame the face
    depth = {"straight": 7.0, "swept": 12.0, "parted": 12.0, "spiky": 16.0, "curtain": 10.0}[style]
    if style == "swept":
        d = 1.0 if ident.hair_seed % 2 else -1.0
        tx = tx + d * 5.0
        ty = ty + d * tx * 0.12
    elif style == "parted":
        ty = ty - 13.0 * (1 - rel) ** 1.5
    elif style == "curtain":
        ty = ty - 24.0 * (1 - rel) ** 1.2
    tips = np.stack([tx, ty], -1)
    rx = xs[0::2]
    ry = np.empty(n + 1)
    ry[1:-1] = np.minimum(ty[:-1], ty[1:]) - depth * rng.uniform(0.7, 1.3, n - 1)
    if style in ("parted", "curtain"):
        mid = n // 2
        ry[mid] = min(ry[mid], top + 22.0)  # the part reaches up towards the crown
    side_y = 14.0 + 12.0 * ident.bang_len
    ry[0] = ry[-1] = side_y
    roots = np.stack([rx, ry], -1)
    roots[0, 0], roots[-1, 0] = hx - 1, -(hx - 1)
    edge = _clump_edge(tips, roots)
    a = np.linspace(np.pi * 0.98, np.pi * 2.02, 61)
    # Hair clumps make the silhouette slightly scalloped rather than a perfect dome.
    k = int(rng.integers(5, 9))
    phase = rng.uniform(0, np.pi)
    bump = 1.0 + 0.035 * ident.hair_volume * np.abs(np.sin(k * a + phase)) ** 0.6
    cap = np.stack([hx * np.cos(a) * bump, -4 + (-top - 4) * np.sin(a) * bump], -1)
    cap[:, 1] = np.maximum(np.minimum(cap[:, 1], side_y), top - 1.5)
    outline = np.concatenate([cap, edge[1:-1]])
    z = front_depth(outline, lay)
    return outline, z, tips


def front_depth(pts: np.ndarray, lay: Layout) -> np.ndarray:
    """Front hair sits in front of the forehead: its lower parts move most with a turn."""
    x, y = pts[:, 0], pts[:, 1]
    frontness = np.clip((y - lay.hair_top) / (lay.bang_y - lay.hair_top), 0, 1)
    across = np.sqrt(np.clip(1 - (x / (lay.hair_rx + 6)) ** 2, 0.05, 1))
    return 64.0 * frontness * across


def draw_front(p: Painter, xf: Xform, ident: Identity, lay: Layout) -> None:
    col = hair_colours(ident)
    look = ident.look
    if ident.side_locks != "none":
        _draw_side_locks(p, xf, ident, lay, col)
    outline, z, tips = bangs_shape(ident, lay)

    def tf(q):
        return xf.head(q, front_depth(q, lay))

    pts = xf.head(outline, z)
    shader = None
    if ident.style == "soft":
        shader = vgradient(pts[:, 1].min(), pts[:, 1].max(), mix(col.base, col.light, 0.25), col.shadow)
    shader = part_gradient(ident, outline, tf, col.base, shader)
    pa = p.outlined(pts, col.base, shader=shader, line_colour=col.line)
    p.c.save()
    p.clip(pa)
    if ident.style == "cel":
        # Shadow wedges rising from between the clumps.
        for i in range(len(tips) - 1):
            mx = (tips[i, 0] + tips[i + 1, 0]) / 2
            myb = min(tips[i, 1], tips[i + 1, 1])
            wedge = np.array([(mx - 4, myb + 6), (mx + 0.5, myb - 22), (mx + 4, myb + 6)])
            p.fill(tf(wedge), col.shadow, alpha=0.9)
    form_shadow(p, ident, outline, tf, col.base, 0.8)
    hx, top = lay.hair_rx, lay.hair_top
    if look.hair_strands:
        _bang_strands(p, ident, lay, tips, tf, col)
    if look.hair_shine in ("ring", "ring_streaks"):
        # Angel ring: a light band across the crown with a jagged lower edge.
        a = np.linspace(np.pi * 1.1, np.pi * 1.9, 16)
        ring_top = np.stack([hx * 0.9 * np.cos(a), -6 + (-top - 16) * np.sin(a)], -1)
        ring_bot = ring_top[::-1] + np.array([0, 7.0])
        ring_bot[1::2, 1] += 5.0
        ring = np.concatenate([ring_top, ring_bot])
        if ident.style == "soft":
            p.fill(tf(ring), col.light, alpha=min(1.0, 0.55 * look.shine), blur=2.5)
        else:
            p.fill(tf(ring), col.light, alpha=min(1.0, 0.75 * look.shine))
    if look.hair_shine in ("streaks", "ring_streaks"):
        _crown_streaks(p, ident, lay, tf, col)
    # Strands from the crown down to the clump roots give the cap some texture.
    for tip in tips[1:-1]:
        start = np.array([tip[0] * 0.25, top + 6.0])
        end = np.array([tip[0] * 0.95, tip[1] - 14.0])
        strand = bezier(start, (start + end) / 2 + [tip[0] * 0.25, -4.0], end, 8)
        p.stroke(tf(strand), col.shadow, width=p.lw * 0.7, alpha=0.5)
    # Strand lines up from the tips.
    for tip in tips[1:-1]:
        strand = bezier(tip, tip + [0.0, -14.0], tip * [0.6, 1.0] + [0, -26.0], 6)[1:]
        p.stroke(tf(strand), col.line, width=p.lw * 0.5, alpha=0.35)
    p.c.restore()
    _stray_strands(p, xf, ident, lay, tips, col)
    if ident.ahoge:
        s = 1 if ident.hair_seed % 3 else -1
        base = np.array([s * 2.0, lay.hair_top + 2])
        curve = bezier(base, base + [s * 16, -22], base + [s * 24, -8], 10)
        p.fill(xf.head(band(curve, 4.0, 0.4, 3.0), 0.0), col.base)
        p.edge(xf.head(band(curve, 4.0, 0.4, 3.0), 0.0), col.base, p.lw * 0.6, col.line, closed=True)


def _bang_strands(p: Painter, ident: Identity, lay: Layout, tips: np.ndarray, tf, col: HairColours) -> None:
    """The look's strand lines: from near the crown down into the clumps, curving with them."""
    rng = np.random.default_rng([ident.hair_seed, 20])
    n = ident.look.hair_strands
    top = lay.hair_top
    curves = []
    for _ in range(n + n // 2):
        i = int(rng.integers(len(tips)))
        half = abs(tips[min(i + 1, len(tips) - 1), 0] - tips[max(i - 1, 0), 0]) / 4 + 1.0
        end = tips[i] + np.array([rng.uniform(-half, half), -rng.uniform(3.0, 16.0)])
        start = np.array([end[0] * rng.uniform(0.2, 0.5), top + rng.uniform(4.0, 20.0)])
        bow = np.array([end[0] * 0.18, -3.0]) + rng.uniform(-2.0, 2.0, 2)
        curves.append(bezier(start, (start + end) / 2 + bow, end, 10))
    flow_lines(p, on_canvas(np.stack(curves), tf), strand_colours(ident, col.base), p.lw * 0.5, 0.6)


def _crown_streaks(p: Painter, ident: Identity, lay: Layout, tf, col: HairColours) -> None:
    """Specular streaks: short light slivers in a ring around the crown, denser on the lit side."""
    look = ident.look
    rng = np.random.default_rng([ident.hair_seed, 21])
    hx, top = lay.hair_rx, lay.hair_top
    lit = -light_side(look)  # -1: lit on the image's left
    curves = []
    for _ in range(int(rng.integers(5, 10))):
        a = np.pi * (1.5 + lit * rng.uniform(-0.05, 0.38) * (1 if rng.random() < 0.75 else -1))
        x0 = hx * 0.86 * np.cos(a)
        y0 = -6 + (-top - 14) * np.sin(a) + rng.uniform(-3.0, 3.0)
        ln = rng.uniform(8.0, 16.0)
        p0 = np.array([x0, y0 - ln * 0.35])
        curves.append(bezier(p0, p0 + [x0 * 0.06, ln * 0.5], p0 + [x0 * 0.14, ln], 8))
    curves = on_canvas(np.stack(curves), tf)
    flow_lines(p, curves, [col.light], 3.6, min(1.0, 0.85 * look.shine))
    flow_lines(p, curves[::2], [(1.0, 1.0, 1.0)], 1.4, min(1.0, 0.7 * look.shine))


def _stray_strands(p: Painter, xf: Xform, ident: Identity, lay: Layout, tips: np.ndarray,
                   col: HairColours) -> None:
    """A few thin strands that fall across the clumps, as artists add to break the pattern."""
    if ident.bangs == "straight":
        return
    rng = np.random.default_rng(ident.hair_seed + 3)
    for _ in range(int(rng.integers(1, 4))):
        i = int(rng.integers(1, len(tips) - 1))
        tip = tips[i] + np.array([rng.uniform(-4, 4), rng.uniform(1, 5)])
        start = tip + np.array([rng.uniform(-10, 10), -rng.uniform(22, 32)])
        curve = bezier(start, (start + tip) / 2 + [rng.uniform(-5, 5), 0.0], tip, 10)
        shape = band(curve, 3.2, 0.3, 2.4)
        pts = xf.head(shape, front_depth(shape, lay) + 1.0)
        p.fill(pts, col.base)
        p.edge(pts, col.base, p.lw * 0.45, col.line, closed=True, alpha=0.8)


def _draw_side_locks(p: Painter, xf: Xform, ident: Identity, lay: Layout, col: HairColours) -> None:
    ln = 48.0 if ident.side_locks == "short" else 115.0 * ident.hair_len
    hx, rw = lay.hair_rx, lay.rw
    for s in (-1, 1):
        lock = spline([(s * (rw - 8), -22), (s * (hx + 1), -14), (s * (rw + 8), ln * 0.45),
                       (s * (rw + 9), ln * 0.8), (s * (rw + 5), ln), (s * (rw + 0.5), ln * 0.6),
                       (s * (rw - 4), ln * 0.25), (s * (rw - 7.5), -6)], 5)
        def tf(q):
            return xf.head(q, SIDE_Z, hang=True)

        n = ident.look.hair_strands  # the tip is the 5th control point, sample 20
        _hanging_part(p, ident, lock, tf, col, 30 + s, tip=20, shadow=0.6, count=max(2, n // 2) if n else 0)
        if ident.style == "cel":
            inner = spline([(s * (rw - 6), 0), (s * (rw + 1), ln * 0.5), (s * (rw + 4), ln * 0.9)], 5)
            p.stroke(xf.head(inner, SIDE_Z, hang=True), col.shadow, width=3.0, alpha=0.8)
