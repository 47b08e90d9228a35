"""Thin helpers over skia: colours, polylines to paths, fills, strokes, gradients."""
from __future__ import annotations

import colorsys
from functools import lru_cache

import numpy as np
import skia


@lru_cache(maxsize=4096)
def rgb(hex_colour: str) -> tuple[float, float, float]:
    h = hex_colour.lstrip("#")
    if len(h) != 6:
        raise ValueError(f"colour {hex_colour!r} must be '#rrggbb'")
    return tuple(int(h[i : i + 2], 16) / 255.0 for i in (0, 2, 4))  # type: ignore[return-value]


def shade(colour, dv: float = 0.0, ds: float = 0.0, dh: float = 0.0) -> tuple[float, float, float]:
    """Colour with value scaled by (1+dv), saturation shifted by ds, hue by dh."""
    r, g, b = rgb(colour) if isinstance(colour, str) else colour
    h, s, v = colorsys.rgb_to_hsv(r, g, b)
    return colorsys.hsv_to_rgb((h + dh) % 1.0, min(max(s + ds, 0.0), 1.0), min(max(v * (1 + dv), 0.0), 1.0))


def mix(a, b, t: float) -> tuple[float, float, float]:
    a = rgb(a) if isinstance(a, str) else a
    b = rgb(b) if isinstance(b, str) else b
    return tuple(x + (y - x) * t for x, y in zip(a, b))  # type: ignore[return-value]


def c4(colour, alpha: float = 1.0) -> skia.Color4f:
    r, g, b = rgb(colour) if isinstance(colour, str) else colour
    return skia.Color4f(float(r), float(g), float(b), float(alpha))


def path(pts: np.ndarray, closed: bool = True) -> skia.Path:
    # moveTo/lineTo from a plain list is ~4x faster than building skia.Point objects.
    pl = np.asarray(pts, dtype=np.float64).tolist()
    p = skia.Path()
    p.moveTo(*pl[0])
    line_to = p.lineTo
    for x, y in pl[1:]:
        line_to(x, y)
    if closed:
        p.close()
    return p


class Painter:
    """A canvas plus the character's line style."""

    def __init__(self, canvas: skia.Canvas, line_colour, line_width: float):
        self.c = canvas
        self.line = line_colour
        self.lw = line_width

    def fill(self, pts_or_path, colour, alpha: float = 1.0, blur: float = 0.0, shader=None) -> None:
        pa = pts_or_path if isinstance(pts_or_path, skia.Path) else path(pts_or_path)
        paint = skia.Paint(AntiAlias=True, Color4f=c4(colour, alpha))
        if shader is not None:
            paint.setShader(shader)
            paint.setAlphaf(alpha)
        if blur > 0:
            paint.setMaskFilter(skia.MaskFilter.MakeBlur(skia.kNormal_BlurStyle, blur))
        self.c.drawPath(pa, paint)

    def stroke(self, pts_or_path, colour=None, width: float | None = None, alpha: float = 1.0,
               closed: bool = False) -> None:
        pa = pts_or_path if isinstance(pts_or_path, skia.Path) else path(pts_or_path, closed)
        paint = skia.Paint(
            AntiAlias=True,
            Color4f=c4(self.line if colour is None else colour, alpha),
            Style=skia.Paint.kStroke_Style,
            StrokeWidth=float(self.lw if width is None else width),
            StrokeCap=skia.Paint.kRound_Cap,
            StrokeJoin=skia.Paint.kRound_Join,
        )
        self.c.drawPath(pa, paint)

    def outlined(self, pts: np.ndarray, colour, width: float | None = None, shader=None,
                 line_colour=None) -> skia.Path:
        pa = path(pts)
        self.fill(pa, colour, shader=shader)
        self.stroke(pa, line_colour, width)
        return pa

    def clip(self, pts_or_path) -> None:
        pa = pts_or_path if isinstance(pts_or_path, skia.Path) else path(pts_or_path)
        self.c.clipPath(pa, skia.ClipOp.kIntersect, True)


def vgradient(y0: float, y1: float, top, bottom) -> skia.Shader:
    return skia.GradientShader.MakeLinear(
        [skia.Point(0, float(y0)), skia.Point(0, float(y1))], [c4(top).toColor(), c4(bottom).toColor()]
    )


def lgradient(p0, p1, a, b) -> skia.Shader:
    return skia.GradientShader.MakeLinear(
        [skia.Point(float(p0[0]), float(p0[1])), skia.Point(float(p1[0]), float(p1[1]))],
        [c4(a).toColor(), c4(b).toColor()],
    )


def vgradient_stops(y0: float, y1: float, colours, stops) -> skia.Shader:
    return skia.GradientShader.MakeLinear(
        [skia.Point(0, float(y0)), skia.Point(0, float(y1))], [c4(c).toColor() for c in colours],
        [float(t) for t in stops],
    )
