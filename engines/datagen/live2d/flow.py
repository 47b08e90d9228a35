"""The true backward flow between two renders of a Live2D model, from its meshes.

A Live2D rig deforms meshes whose texture coordinates never change, so every vertex of the
posed render has a known position in the reference render. Drawing the posed meshes in the
runtime's own order, each fragment carrying its vertex's reference position, gives for every
posed pixel the place it came from: the correspondence the rotator's sampling grid should
find. A pixel counts as visible when the reference render shows the same mesh there;
otherwise (a far cheek appearing, hair uncovering the ear) only colour can explain it.

Meshes drawn through a clipping mask (irises inside the eye white, shading inside the face)
are left out: the mesh beneath them moves the same way, and without the mask they would
claim pixels outside their clip.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

FLOW_RES = 128  # the rotator predicts its grid at 128x128 over the 512 canvas

_VERTEX = """
#version 120
attribute vec2 a_pos;
attribute vec2 a_ref;
attribute vec2 a_uv;
uniform mat4 u_matrix;
varying vec2 v_ref;
varying vec2 v_uv;
void main() {
    gl_Position = u_matrix * vec4(a_pos, 0.0, 1.0);
    v_ref = a_ref;
    v_uv = vec2(a_uv.x, 1.0 - a_uv.y);
}
"""
_FRAGMENT = """
#version 120
uniform sampler2D s_tex;
uniform float u_opacity;
uniform float u_id;
varying vec2 v_ref;
varying vec2 v_uv;
void main() {
    if (texture2D(s_tex, v_uv).a * u_opacity < 0.5) discard;
    gl_FragColor = vec4(v_ref, u_id, 1.0);
}
"""


@dataclass(frozen=True)
class MeshDraw:
    """One mesh as the runtime drew it (vertices in canvas units)."""

    key: int  # the mesh's identity, the same in every render of the model
    texture: int  # GL texture name
    indices: np.ndarray  # (T*3,) uint16
    vertices: np.ndarray  # (V, 2) float32
    uvs: np.ndarray  # (V, 2) float32
    opacity: float


@contextlib.contextmanager
def capture_meshes(renderer):
    """Record the meshes drawn to the screen while the block runs (not mask passes)."""
    from live2d.v2.core.draw.mesh import Mesh

    draws: list[MeshDraw] = []
    original = Mesh.draw

    def draw(self, dp, mctx, dctx):
        original(self, dp, mctx, dctx)
        if dctx.paramOutside[0] or dp.clipBufPre_clipContextMask is not None:
            return  # not drawn, or drawn into a clipping mask
        if dctx.clipBufPre_clipContext is not None:
            return  # clipped: see the module docstring
        opacity = float(self.getOpacity(dctx) * dctx.partsOpacity * dctx.baseOpacity)
        if opacity < 0.01:
            return
        verts = dctx.transformedPoints if dctx.transformedPoints is not None else dctx.interpolatedPoints
        tex = self.textureNo if self.textureNo >= 0 else 1
        draws.append(MeshDraw(
            key=id(self), texture=int(renderer.textures[tex]),
            indices=np.asarray(self.indexArray, np.uint16).copy(),
            vertices=np.asarray(verts, np.float32).reshape(-1, 2).copy(),
            uvs=np.asarray(self.uvs, np.float32).reshape(-1, 2).copy(), opacity=opacity))

    Mesh.draw = draw
    try:
        yield draws
    finally:
        Mesh.draw = original


class FlowRasterizer:
    """Draws meshes with a reference position per vertex into a float framebuffer."""

    def __init__(self, res: int = FLOW_RES) -> None:
        import OpenGL.GL as gl
        from OpenGL.GL import shaders

        self.gl, self.res = gl, res
        self.program = shaders.compileProgram(
            shaders.compileShader(_VERTEX, gl.GL_VERTEX_SHADER),
            shaders.compileShader(_FRAGMENT, gl.GL_FRAGMENT_SHADER))
        self.loc = {n: gl.glGetAttribLocation(self.program, n) for n in ("a_pos", "a_ref", "a_uv")}
        self.uni = {n: gl.glGetUniformLocation(self.program, n) for n in ("u_matrix", "s_tex", "u_opacity", "u_id")}
        self.fbo = gl.glGenFramebuffers(1)
        self.rbo = gl.glGenRenderbuffers(1)
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, self.fbo)
        gl.glBindRenderbuffer(gl.GL_RENDERBUFFER, self.rbo)
        gl.glRenderbufferStorage(gl.GL_RENDERBUFFER, gl.GL_RGBA32F, res, res)
        gl.glFramebufferRenderbuffer(gl.GL_FRAMEBUFFER, gl.GL_COLOR_ATTACHMENT0, gl.GL_RENDERBUFFER, self.rbo)
        if gl.glCheckFramebufferStatus(gl.GL_FRAMEBUFFER) != gl.GL_FRAMEBUFFER_COMPLETE:
            raise RuntimeError("float framebuffer for flow rendering is incomplete (needs GL_RGBA32F)")

    def draw(self, draws: list[MeshDraw], refs: list[np.ndarray], ids: list[float], matrix: np.ndarray) -> np.ndarray:
        """(res, res, 4) float32, row 0 at the top: reference x, y (grid units), mesh id, coverage."""
        gl = self.gl
        prev_fbo = gl.glGetIntegerv(gl.GL_FRAMEBUFFER_BINDING)
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, self.fbo)
        gl.glViewport(0, 0, self.res, self.res)
        gl.glClearColor(0.0, 0.0, 0.0, 0.0)
        gl.glClear(gl.GL_COLOR_BUFFER_BIT)
        gl.glDisable(gl.GL_BLEND)
        gl.glDisable(gl.GL_CULL_FACE)
        gl.glDisable(gl.GL_DEPTH_TEST)
        gl.glDisable(gl.GL_STENCIL_TEST)
        gl.glDisable(gl.GL_SCISSOR_TEST)
        gl.glBindBuffer(gl.GL_ARRAY_BUFFER, 0)
        gl.glBindBuffer(gl.GL_ELEMENT_ARRAY_BUFFER, 0)
        gl.glUseProgram(self.program)
        gl.glUniformMatrix4fv(self.uni["u_matrix"], 1, False, np.asarray(matrix, np.float32))
        gl.glActiveTexture(gl.GL_TEXTURE0)
        gl.glUniform1i(self.uni["s_tex"], 0)
        for n in self.loc.values():
            gl.glEnableVertexAttribArray(n)
        for d, ref, mid in zip(draws, refs, ids):
            gl.glBindTexture(gl.GL_TEXTURE_2D, d.texture)
            gl.glUniform1f(self.uni["u_opacity"], d.opacity)
            gl.glUniform1f(self.uni["u_id"], mid)
            gl.glVertexAttribPointer(self.loc["a_pos"], 2, gl.GL_FLOAT, False, 0, d.vertices)
            gl.glVertexAttribPointer(self.loc["a_ref"], 2, gl.GL_FLOAT, False, 0, np.ascontiguousarray(ref, np.float32))
            gl.glVertexAttribPointer(self.loc["a_uv"], 2, gl.GL_FLOAT, False, 0, d.uvs)
            gl.glDrawElements(gl.GL_TRIANGLES, len(d.indices), gl.GL_UNSIGNED_SHORT, d.indices)
        for n in self.loc.values():
            gl.glDisableVertexAttribArray(n)
        gl.glBindTexture(gl.GL_TEXTURE_2D, 0)
        gl.glUseProgram(0)
        buf = gl.glReadPixels(0, 0, self.res, self.res, gl.GL_RGBA, gl.GL_FLOAT)
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, prev_fbo)
        return np.frombuffer(buf, np.float32).reshape(self.res, self.res, 4)[::-1].copy()


_RASTERIZER: FlowRasterizer | None = None


def rasterizer() -> FlowRasterizer:
    global _RASTERIZER
    if _RASTERIZER is None:
        _RASTERIZER = FlowRasterizer()
    return _RASTERIZER


def to_grid(vertices: np.ndarray, scale: float, tx: float, ty: float, size: int) -> np.ndarray:
    """Canvas units -> grid units (the size x size image spans -1..1, y down)."""
    return np.stack([2.0 * (scale * vertices[:, 0] + tx) / size - 1.0,
                     2.0 * (scale * vertices[:, 1] + ty) / size - 1.0], 1)


def backward_flow(reference: list[MeshDraw], posed: list[MeshDraw], matrix: np.ndarray,
                  framing: tuple[float, float, float, int]) -> tuple[np.ndarray, np.ndarray]:
    """For each pixel of the posed render (at FLOW_RES): the grid offset to its position in
    the reference render, and a mask (1 where the posed pixel shows a mesh that the
    reference shows at that position; 0 where nothing is known or it was hidden).

    matrix: the canvas->clip matrix both renders were drawn with; framing: (scale, tx, ty,
    size) of that matrix in pixels.
    """
    r = rasterizer()
    ref_by_key = {d.key: d for d in reference}
    keys = {d.key: i + 1 for i, d in enumerate(reference)}
    ref_ids = [float(keys[d.key]) for d in reference]
    ref_map = r.draw(reference, [to_grid(d.vertices, *framing) for d in reference], ref_ids, matrix)
    usable = [d for d in posed if d.key in ref_by_key and len(ref_by_key[d.key].vertices) == len(d.vertices)]
    refs = [to_grid(ref_by_key[d.key].vertices, *framing) for d in usable]
    pose_map = r.draw(usable, refs, [float(keys[d.key]) for d in usable], matrix)
    res = r.res
    c = (np.arange(res, dtype=np.float32) + 0.5) * 2.0 / res - 1.0
    ident = np.stack(np.meshgrid(c, c, indexing="xy"), -1)
    flow = np.where(pose_map[..., 3:4] > 0.5, pose_map[..., :2] - ident, 0.0).astype(np.float32)
    # Visible: the reference shows the same mesh where this pixel came from.
    q = np.clip(((pose_map[..., :2] + 1.0) * 0.5 * res).astype(np.int32), 0, res - 1)
    same = np.abs(ref_map[q[..., 1], q[..., 0], 2] - pose_map[..., 2]) < 0.5
    mask = (pose_map[..., 3] > 0.5) & same
    return flow, mask.astype(np.uint8)


def flow_to_rest(character, pose: dict) -> tuple[np.ndarray, np.ndarray]:
    """True backward flow from `character` (a Live2DCharacter) in `pose` to its rest render,
    with the visibility mask: what a rotator's grid should be for a pure turn."""
    _, rest_meshes, matrix, frame = character.render_with_meshes({})
    _, posed_meshes, _, _ = character.render_with_meshes(pose)
    return backward_flow(rest_meshes, posed_meshes, matrix, frame)
