"""A headless OpenGL context (EGL surfaceless on Mesa) with one offscreen framebuffer.

No window or X server is needed. The environment variables must be set before PyOpenGL is
first imported, so import this module before anything that imports OpenGL.
"""
from __future__ import annotations

import ctypes
import os

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
os.environ.setdefault("EGL_PLATFORM", "surfaceless")

import numpy as np  # noqa: E402

_CTX: "GLContext | None" = None


class GLError(RuntimeError):
    pass


class GLContext:
    """One EGL context per process, current on the calling thread, drawing into an FBO."""

    def __init__(self, size: int = 512) -> None:
        if os.environ.get("PYOPENGL_PLATFORM") != "egl":
            raise GLError(
                "PyOpenGL was set up for another platform; import engines.datagen.live2d "
                "before anything imports OpenGL, or set PYOPENGL_PLATFORM=egl"
            )
        from OpenGL import EGL
        import OpenGL.GL as gl

        self.gl = gl
        dpy = EGL.eglGetDisplay(EGL.EGL_DEFAULT_DISPLAY)
        major, minor = EGL.EGLint(), EGL.EGLint()
        if not EGL.eglInitialize(dpy, ctypes.pointer(major), ctypes.pointer(minor)):
            raise GLError(
                "EGL could not initialise a display. On Debian install libegl1 libegl-mesa0 "
                "libgl1-mesa-dri libgl1 libopengl0 (Mesa's llvmpipe renders on the CPU)"
            )
        attribs = (EGL.EGLint * 5)(
            EGL.EGL_SURFACE_TYPE, EGL.EGL_PBUFFER_BIT,
            EGL.EGL_RENDERABLE_TYPE, EGL.EGL_OPENGL_BIT, EGL.EGL_NONE,
        )
        cfg, n = EGL.EGLConfig(), EGL.EGLint()
        if not EGL.eglChooseConfig(dpy, attribs, ctypes.pointer(cfg), 1, ctypes.pointer(n)) or n.value < 1:
            raise GLError("EGL found no desktop-OpenGL config; is Mesa (libegl-mesa0) installed?")
        EGL.eglBindAPI(EGL.EGL_OPENGL_API)
        ctx = EGL.eglCreateContext(dpy, cfg, EGL.EGL_NO_CONTEXT, None)
        if not ctx or not EGL.eglMakeCurrent(dpy, EGL.EGL_NO_SURFACE, EGL.EGL_NO_SURFACE, ctx):
            raise GLError("EGL could not make a surfaceless context current (EGL_KHR_surfaceless_context)")
        self._egl = (dpy, ctx)
        self.size = 0
        self.fbo = gl.glGenFramebuffers(1)
        self.rbo = gl.glGenRenderbuffers(1)
        self.resize(size)

    def resize(self, size: int) -> None:
        if size == self.size:
            return
        gl = self.gl
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, self.fbo)
        gl.glBindRenderbuffer(gl.GL_RENDERBUFFER, self.rbo)
        gl.glRenderbufferStorage(gl.GL_RENDERBUFFER, gl.GL_RGBA8, size, size)
        gl.glFramebufferRenderbuffer(gl.GL_FRAMEBUFFER, gl.GL_COLOR_ATTACHMENT0, gl.GL_RENDERBUFFER, self.rbo)
        if gl.glCheckFramebufferStatus(gl.GL_FRAMEBUFFER) != gl.GL_FRAMEBUFFER_COMPLETE:
            raise GLError(f"offscreen framebuffer of {size}x{size} is incomplete")
        self.size = size

    def begin(self) -> None:
        """Bind our framebuffer (model loading binds framebuffer 0, which has no storage here)."""
        gl = self.gl
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, self.fbo)
        gl.glViewport(0, 0, self.size, self.size)
        gl.glClearColor(0.0, 0.0, 0.0, 0.0)
        gl.glClear(gl.GL_COLOR_BUFFER_BIT)

    def read_rgba(self) -> np.ndarray:
        """Straight-alpha RGBA, row 0 at the top."""
        gl = self.gl
        s = self.size
        buf = gl.glReadPixels(0, 0, s, s, gl.GL_RGBA, gl.GL_UNSIGNED_BYTE)
        img = np.frombuffer(buf, np.uint8).reshape(s, s, 4)[::-1]
        return unpremultiply(img)


def unpremultiply(img: np.ndarray) -> np.ndarray:
    a = img[..., 3:4].astype(np.uint16)
    rgb = (img[..., :3].astype(np.uint16) * 255 + a // 2) // np.maximum(a, 1)
    rgb = np.where(a > 0, np.minimum(rgb, 255), 0).astype(np.uint8)
    return np.concatenate([rgb, img[..., 3:4]], axis=-1)


def context(size: int = 512) -> GLContext:
    """The process's context, created on first use, with its framebuffer at `size`."""
    global _CTX
    if _CTX is None:
        _CTX = GLContext(size)
    _CTX.resize(size)
    return _CTX
