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
    """A canvas plus the character's line style.

    outline scales the outlines of filled parts (0 = lineless); line_tint moves each outline's
    colour from the line colour towards a dark version of the part's fill. tex, when set, is
    the texture shader of the layer being drawn (texture.py); it is laid over the fills of
    outlined parts, the skin and the hard shadows drawn on them. Defaults draw the plain style.
    """

    def __init__(self, canvas: skia.Canvas, line_colour, line_width: float, outline: float = 1.0,
                 line_tint: float = 0.0, texture_strength: float = 0.0):
        self.c = canvas
        self.line = line_colour
        self.lw = line_width
        self.outline = outline
        self.tint = line_tint
        self.tex: skia.Shader | None = None
        self.tex_strength = texture_strength

    def paint(self, colour, alpha: float = 1.0, blur: float = 0.0, shader=None) -> skia.Paint:
        paint = skia.Paint(AntiAlias=True, Color4f=c4(colour, alpha))
        if shader is not None:
            paint.setShader(shader)
            paint.setAlphaf(alpha)
        if blur > 0:
            paint.setMaskFilter(skia.MaskFilter.MakeBlur(skia.kNormal_BlurStyle, blur))
        return paint

    def fill(self, pts_or_path, colour, alpha: float = 1.0, blur: float = 0.0, shader=None,
             textured: bool = False) -> None:
        pa = pts_or_path if isinstance(pts_or_path, skia.Path) else path(pts_or_path)
        self.c.drawPath(pa, self.paint(colour, alpha, blur, shader))
        if textured:
            self.texture_over(pa, alpha)

    def texture_over(self, pa: skia.Path | None = None, alpha: float = 1.0) -> None:
        """Lay the layer's texture over what was just drawn in `pa` (None: the clip). Source-atop
        keeps every pixel's alpha: a texture changes colours, never the silhouette."""
        if self.tex is None or self.tex_strength <= 0:
            return
        paint = skia.Paint(Shader=self.tex, BlendMode=skia.BlendMode.kSrcATop)
        paint.setAlphaf(float(self.tex_strength * alpha))
        if pa is None:
            self.c.drawPaint(paint)
        else:
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

    def edge_colour(self, fill_colour, line_colour=None):
        """The outline colour of a part filled with fill_colour."""
        line = self.line if line_colour is None else line_colour
        if self.tint <= 0:
            return line
        return mix(line, shade(fill_colour, -0.62, 0.15), self.tint)

    def edge(self, pts_or_path, fill_colour, width: float | None = None, line_colour=None,
             closed: bool = False, alpha: float = 1.0) -> None:
        """An outline (scaled by the look's outline weight, tinted towards the fill)."""
        w = (self.lw if width is None else width) * self.outline
        if w > 0.05:
            self.stroke(pts_or_path, self.edge_colour(fill_colour, line_colour), w, alpha, closed)

    def outlined(self, pts: np.ndarray, colour, width: float | None = None, shader=None,
                 line_colour=None) -> skia.Path:
        pa = path(pts)
        self.fill(pa, colour, shader=shader, textured=True)
        self.edge(pa, colour, width, line_colour)
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


def lgradient_stops(p0, p1, colours, stops) -> skia.Shader:
    return skia.GradientShader.MakeLinear(
        [skia.Point(float(p0[0]), float(p0[1])), skia.Point(float(p1[0]), float(p1[1]))],
        [c4(c).toColor() for c in colours], [float(t) for t in stops],
    )
