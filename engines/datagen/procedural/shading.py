"""Form shading and flow lines from the character's Look.

A part's form shadow is the band of it that is not covered when the part is moved towards the
light: the side turned away from the light, as wide as the look's form_shadow. The shift is
made before the pose transform (in head or body space), so the shadow is painted on the part
and moves with it, as the shading painted into a rigged model's textures does.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import skia

from engines.datagen.procedural.look import light_vector
from engines.datagen.procedural.paint import Painter, lgradient_stops, mix, path, shade

ToCanvas = Callable[[np.ndarray], np.ndarray]


def shadow_colour(base, look, tone: int = 1):
    """Shadow tone `tone` (1, 2 = deeper) of a fill colour: darker, a little more saturated, its hue
    redder (towards magenta for cool colours), as anime shadows are often painted."""
    k = look.shadow_depth * (1.0 if tone == 1 else 1.7)
    return shade(base, -0.17 * k, 0.07 * k, -0.012 * k)


def form_shadow(p: Painter, ident, outline: np.ndarray, to_canvas: ToCanvas, base,
                scale: float = 1.0) -> None:
    """Shade the side of the closed part `outline` (head or body space) away from the light."""
    look = ident.look
    if look.form_shadow <= 0 or ident.style == "flat":
        return
    d = light_vector(look) * look.form_shadow * scale
    part = path(to_canvas(outline))
    if ident.style == "cel":
        # Hard tones: the part minus the part moved towards the light (path ops, no clip masks).
        for k, tone in [(1.0, 1)] + ([(0.45, 2)] if look.shadow_tones == 2 else []):
            shadow = skia.Op(part, path(to_canvas(outline + d * k)), skia.PathOp.kDifference_PathOp)
            if shadow is not None:
                p.fill(shadow, shadow_colour(base, look, tone), 0.92, textured=True)
        return
    # Soft: the same band, blurred; it reaches past the part's edge so the blur fades only
    # inwards, and the part clips it.
    blur = max(1.0, 0.4 * look.form_shadow)
    box = part.computeTightBounds().makeOutset(3 * blur, 3 * blur)
    shadow = skia.Op(skia.Path.Rect(box), path(to_canvas(outline + d)), skia.PathOp.kDifference_PathOp)
    if shadow is None:
        return
    c = p.c
    c.save()
    c.clipPath(part, skia.ClipOp.kIntersect, True)
    c.drawPath(shadow, p.paint(shadow_colour(base, look, 1), 0.7, blur=blur))
    c.restore()


def part_gradient(ident, outline: np.ndarray, to_canvas: ToCanvas, base, shader=None, scale: float = 1.0):
    """The fill shader of a part under the look's gradient: lighter on the side towards the
    light, darker away from it, pinned to the part. `shader` (the part's own gradient, such as
    dyed tips) wins; None when the look has no gradient."""
    g = ident.look.gradient * scale
    if shader is not None or g <= 0:
        return shader
    light = light_vector(ident.look)
    centre = outline.mean(0)
    reach = float(np.abs((outline - centre) @ light).max()) + 1e-3
    ends = to_canvas(np.stack([centre + light * reach, centre - light * reach]))
    colours = [mix(base, (1.0, 1.0, 1.0), 0.16 * g), base, shade(base, -0.2 * g, 0.06 * g, -0.01 * g)]
    return lgradient_stops(ends[0], ends[1], colours, [0.0, 0.45, 1.0])


def strand_colours(ident, base) -> list[tuple]:
    look = ident.look
    dark = shade(base, -0.3, 0.08)
    light = mix(base, (1.0, 1.0, 1.0), 0.3 + 0.15 * max(0.0, 1.0 - max(base)))
    return {"dark": [dark], "light": [light], "mixed": [dark, light]}[look.strand_tone]


def flow_lines(p: Painter, curves: np.ndarray, colours: list, width: float, alpha: float) -> None:
    """Tapered brush lines along canvas curves (N, K, 2) (strands, streaks), colours taken in
    turn. All lines of one colour are one path, so many strands cost one draw."""
    c = np.asarray(curves, dtype=np.float64)
    if c.ndim != 3 or len(c) == 0 or c.shape[1] < 3:
        return
    d = np.gradient(c, axis=1)
    nrm = np.stack([-d[..., 1], d[..., 0]], -1)
    nrm /= np.maximum(np.linalg.norm(nrm, axis=-1, keepdims=True), 1e-9)
    t = np.linspace(0.0, 1.0, c.shape[1])
    w = np.where(t < 0.5, 0.35 + 0.65 * t * 2, 1.0 - 0.95 * (t - 0.5) * 2) * width  # thin, full, tip
    half = (w / 2)[None, :, None] * nrm
    polys = np.concatenate([c + half, (c - half)[:, ::-1]], 1)
    for k, colour in enumerate(colours):
        group = polys[k :: len(colours)]
        if len(group) == 0:
            continue
        pa = skia.Path()
        for poly in group.tolist():
            pa.moveTo(*poly[0])
            line_to = pa.lineTo
            for x, y in poly[1:]:
                line_to(x, y)
            pa.close()
        p.fill(pa, colour, alpha=alpha)


def on_canvas(curves: np.ndarray, to_canvas: ToCanvas) -> np.ndarray:
    """Map a stack of curves (N, K, 2) with a pointwise transform."""
    c = np.asarray(curves, dtype=np.float64)
    return to_canvas(c.reshape(-1, 2)).reshape(c.shape)


def resample(curve: np.ndarray, n: int) -> np.ndarray:
    """n points evenly spaced along a polyline."""
    c = np.asarray(curve, dtype=np.float64)
    seg = np.linalg.norm(np.diff(c, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    t = np.linspace(0.0, s[-1], n)
    return np.stack([np.interp(t, s, c[:, 0]), np.interp(t, s, c[:, 1])], -1)


def strands_between(edge_a: np.ndarray, edge_b: np.ndarray, n: int, rng: np.random.Generator,
                    start=(0.0, 0.3), end=(0.55, 0.97), k: int = 12) -> np.ndarray:
    """n strand curves (n, k, 2) inside a hair part whose two long edges run root -> tip: each
    follows the part between its edges, from a random start to a random end along it."""
    m = 24
    a, b = resample(edge_a, m), resample(edge_b, m)
    f = rng.uniform(0.08, 0.92, n)[:, None, None]
    s0 = rng.uniform(*start, n)
    s1 = np.maximum(rng.uniform(*end, n), s0 + 0.12)
    mids = a[None] * (1 - f) + b[None] * f  # (n, m, 2): the part's flow at each fraction
    pos = np.clip(s0[:, None] + (s1 - s0)[:, None] * np.linspace(0.0, 1.0, k)[None], 0.0, 1.0) * (m - 1)
    i0 = np.minimum(pos.astype(int), m - 2)
    frac = (pos - i0)[..., None]
    rows = np.arange(n)[:, None]
    return mids[rows, i0] * (1 - frac) + mids[rows, i0 + 1] * frac
