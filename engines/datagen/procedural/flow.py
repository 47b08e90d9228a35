"""The true backward flow of a procedural character, from its own drawing.

Every point the generator draws goes through the 2.5D pose transform (geometry.Xform): a
head-space or body-space point with its depth. So the rest position of anything drawn in a
pose is known: the same point mapped by the rest transform. Two more drawings give the flow:
- the posed character drawn with each draw call filled in a colour of its own (no
  antialiasing, blur, shading or texture), so each posed pixel says which draw call it shows;
- the same at rest, to tell where the rest render shows the same draw call (visibility).
Each draw call's points are matched to the points the recording transform mapped, and the
rest position of a pixel inside it is an affine fit of those correspondences plus the
matched points' residuals interpolated by inverse distance (depth varies along some shapes).

Flow is in the rotator's grid units at FLOW_RES, as the Live2D shards store it: for each
posed pixel, its position in the rest (expression) render minus its own position.
"""
from __future__ import annotations

from dataclasses import asdict
from typing import Mapping

import numpy as np
import skia

from engines.convention import CANVAS
from engines.datagen.procedural.geometry import HEAD_ORIGIN, Turning, Xform
from engines.datagen.procedural.paint import Painter, path
from engines.posespec import DEFAULT_POSE_SPEC

FLOW_RES = 128
MATCH_PX = 0.6  # a draw call's point is one the transform mapped when this close to it
NEAR_PX = 4.0  # else the recorded points this close stand in (shapes built around a curve)
ROTATE_PARAMS = ("head_yaw", "head_pitch", "head_roll", "body_yaw", "breathing")


class RecordingXform(Xform):
    """An Xform that keeps, for every point it maps, the point's place at rest."""

    def __init__(self, posed: Xform, rest: Xform) -> None:
        super().__init__(**asdict(posed))
        self.rest = rest
        self.posed_pts: list[np.ndarray] = []
        self.rest_pts: list[np.ndarray] = []

    def head(self, pts, z=0.0, f: float = 0.0, hang: bool = False) -> np.ndarray:
        out = super().head(pts, z, f, hang)
        self._keep(out, self.rest.head(pts, z, f, hang))
        return out

    def bodyp(self, pts, z=0.0) -> np.ndarray:
        out = super().bodyp(pts, z)
        self._keep(out, self.rest.bodyp(pts, z))
        return out

    def _keep(self, posed: np.ndarray, rest: np.ndarray) -> None:
        self.posed_pts.append(np.asarray(posed, np.float64).reshape(-1, 2))
        self.rest_pts.append(np.asarray(rest, np.float64).reshape(-1, 2))


class _IdCanvas:
    """The canvas as the drawing code sees it in an ID pass: clips without antialiasing (a
    pixel shows one part or another, never a blend), and paint laid over parts outside the
    Painter (soft shading bands, face shading) left out: an overlay changes colours, not
    which part a pixel shows."""

    def __init__(self, canvas: skia.Canvas) -> None:
        self.real = canvas

    def clipPath(self, path, op=skia.ClipOp.kIntersect, antialias: bool = False) -> None:
        self.real.clipPath(path, op, False)

    def drawPaint(self, paint) -> None:
        return

    def drawPath(self, path, paint) -> None:
        return

    def __getattr__(self, name):
        return getattr(self.real, name)


class IdPainter(Painter):
    """Paints every fill and stroke in a colour of its own, opaque and without antialiasing,
    and keeps each draw call's path points (in the canvas' user units)."""

    def __init__(self, canvas: skia.Canvas, *args, **kwargs) -> None:
        super().__init__(_IdCanvas(canvas), *args, **kwargs)
        self.draws: list[np.ndarray] = []

    def clip(self, pts_or_path) -> None:
        self.c.clipPath(pts_or_path if isinstance(pts_or_path, skia.Path) else path(pts_or_path))

    def _next(self, pa: skia.Path) -> skia.Color4f:
        n = pa.countPoints()
        self.draws.append(np.array([(p.x(), p.y()) for p in pa.getPoints(n)], np.float64).reshape(-1, 2))
        k = len(self.draws)  # 0 is the background
        return skia.Color4f(((k >> 16) & 255) / 255.0, ((k >> 8) & 255) / 255.0, (k & 255) / 255.0, 1.0)

    def fill(self, pts_or_path, colour, alpha: float = 1.0, blur: float = 0.0, shader=None,
             textured: bool = False) -> None:
        pa = pts_or_path if isinstance(pts_or_path, skia.Path) else path(pts_or_path)
        self.c.real.drawPath(pa, skia.Paint(AntiAlias=False, Color4f=self._next(pa)))

    def texture_over(self, pa=None, alpha: float = 1.0) -> None:
        return  # a texture changes colours, never which part a pixel shows

    def stroke(self, pts_or_path, colour=None, width: float | None = None, alpha: float = 1.0,
               closed: bool = False) -> None:
        pa = pts_or_path if isinstance(pts_or_path, skia.Path) else path(pts_or_path, closed)
        paint = skia.Paint(AntiAlias=False, Color4f=self._next(pa), Style=skia.Paint.kStroke_Style,
                           StrokeWidth=float(self.lw if width is None else width),
                           StrokeCap=skia.Paint.kRound_Cap, StrokeJoin=skia.Paint.kRound_Join)
        self.c.real.drawPath(pa, paint)


def rest_pose(pose: Mapping[str, float]) -> dict[str, float]:
    """`pose` with the head and body turns and breathing at rest: the expression render."""
    full = DEFAULT_POSE_SPEC.clamp(pose)
    defaults = {p.name: p.default for p in DEFAULT_POSE_SPEC.params}
    return {**full, **{n: defaults[n] for n in ROTATE_PARAMS}}


def _ids(rgba: np.ndarray) -> np.ndarray:
    a = rgba.astype(np.int64)
    return (a[..., 0] << 16) | (a[..., 1] << 8) | a[..., 2]


def _idw(pts: np.ndarray, values: np.ndarray, at: np.ndarray, k: int = 8) -> np.ndarray:
    from scipy.spatial import cKDTree

    k = min(k, len(pts))
    d, i = cKDTree(pts).query(at, k=k)
    d, i = d.reshape(len(at), k), i.reshape(len(at), k)
    w = 1.0 / np.maximum(d, 1e-3) ** 2
    return (values[i] * w[..., None]).sum(1) / w.sum(1, keepdims=True)


def _map_draw(draw_pts: np.ndarray, tree, posed: np.ndarray, rest: np.ndarray, at: np.ndarray):
    """Rest positions (user units) of the points `at` inside one draw call, or None."""
    d, i = tree.query(draw_pts, k=1)
    ok = d <= MATCH_PX
    if ok.sum() < 6:
        near = tree.query_ball_point(draw_pts, NEAR_PX)
        idx = np.unique(np.concatenate([np.asarray(n, np.int64) for n in near])) if len(near) else np.array([], np.int64)
        if len(idx) < 6:
            return None
        src, dst = posed[idx], rest[idx]
    else:
        src, dst = posed[i[ok]], rest[i[ok]]
    a = np.c_[src, np.ones(len(src))]
    m, *_ = np.linalg.lstsq(a, dst, rcond=None)
    residual = dst - a @ m
    out = np.c_[at, np.ones(len(at))] @ m
    if np.abs(residual).max() > 0.05:
        out = out + _idw(src, residual, at)
    return out


def backward_flow(identity, pose: Mapping[str, float],
                  turning: Turning | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(flow (FLOW_RES, FLOW_RES, 2) float32 in grid units, mask (FLOW_RES, FLOW_RES) bool):
    for each pixel of `identity` drawn in `pose` (with `turning`), the grid offset to where
    the same point is in its rest (expression) drawing, and whether that drawing shows it there."""
    from scipy.spatial import cKDTree

    from engines.datagen.procedural.render import render_pass

    full = DEFAULT_POSE_SPEC.clamp(pose)
    rest = rest_pose(full)
    xf = RecordingXform(Xform.from_pose(full, turning), Xform.from_pose(rest, turning))
    posed_rgba, painter = render_pass(identity, full, painter_cls=IdPainter, xform=xf)
    posed_ids, draws = _ids(posed_rgba), painter.draws
    rest_ids = _ids(render_pass(identity, rest, painter_cls=IdPainter, turning=turning)[0])
    s, oy = float(identity.scale), float(identity.offset_y)
    to_user = lambda p: (p - HEAD_ORIGIN - np.array([0.0, oy])) / s + HEAD_ORIGIN
    to_canvas = lambda u: (u - HEAD_ORIGIN) * s + HEAD_ORIGIN + np.array([0.0, oy])

    step = CANVAS / FLOW_RES
    c = (np.arange(FLOW_RES) + 0.5) * step
    gx, gy = np.meshgrid(c, c)
    cells = np.stack([gx, gy], -1).reshape(-1, 2)
    pix = np.minimum(cells.astype(np.int64), CANVAS - 1)
    cell_ids = posed_ids[pix[:, 1], pix[:, 0]]
    posed_all = np.concatenate(xf.posed_pts)
    rest_all = np.concatenate(xf.rest_pts)
    tree = cKDTree(posed_all)
    rest_canvas = np.full_like(cells, np.nan)
    for k in np.unique(cell_ids):
        if k == 0 or k > len(draws):
            continue
        sel = cell_ids == k
        mapped = _map_draw(draws[k - 1], tree, posed_all, rest_all, to_user(cells[sel]))
        if mapped is not None:
            rest_canvas[sel] = to_canvas(mapped)
    known = np.isfinite(rest_canvas[:, 0])
    q = np.clip(np.nan_to_num(rest_canvas).astype(np.int64), 0, CANVAS - 1)
    visible = known & (rest_ids[q[:, 1], q[:, 0]] == cell_ids)
    flow = np.where(visible[:, None], (np.nan_to_num(rest_canvas) - cells) * 2.0 / CANVAS, 0.0)
    return (flow.reshape(FLOW_RES, FLOW_RES, 2).astype(np.float32),
            visible.reshape(FLOW_RES, FLOW_RES))
