"""Texture fills: paper, grain, and painted detail taken from the training rigs' own atlases.

A texture is a grey tile (mid grey = no change) laid over a part's fill colour: paint.Painter
draws it source-atop, lighter texels lightening and darker ones darkening the fill, so it never
changes the character's silhouette. It is pinned to the head or the body (render.py gives each layer
its own matrix), so it moves with the part it is painted on, as a painted texture does.

Atlas detail: the luminance detail (a high-pass) of fully opaque patches of the Live2D training
rigs' texture atlases (HUMAN_TRAIN in engines/datagen/live2d/models.py), read from the npm cache
when training data is built. Never the validation or held-out rigs, never fetched here, never
written anywhere: only the drawn training images carry it. Without the cache an atlas look
falls back to paper.
"""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import skia

BANK = 8  # paper and grain tiles; a look's texture_seed picks one
TILE = 256
PATCH = 64  # atlas patch side, at the atlas scaled to 1024
PATCHES_PER_ATLAS = 12


def _normalised(n: np.ndarray, amp: float) -> np.ndarray:
    n = n - n.mean()
    n = n / max(float(n.std()), 1e-6)
    return np.clip(128.0 + amp * n, 0, 255).astype(np.uint8)


def _blur(a: np.ndarray, sigma: float) -> np.ndarray:
    import cv2  # only when a texture is first made: drawing plain looks needs no OpenCV

    return cv2.GaussianBlur(a, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)


def paper_tile(index: int) -> np.ndarray:
    """Watercolour-paper-like grey tile: soft blotches, short fibres and a fine tooth."""
    import cv2

    rng = np.random.default_rng([7, index])
    t = TILE
    blotch = _blur(rng.normal(size=(t, t)).astype(np.float32), 9.0)
    mid = _blur(rng.normal(size=(t, t)).astype(np.float32), 2.2)
    fibres = np.zeros((t, t), np.float32)
    for _ in range(260):
        x, y = rng.uniform(0, t, 2)
        a = rng.uniform(0, np.pi)
        ln = rng.uniform(3, 10)
        p0 = (int(x), int(y))
        p1 = (int(x + ln * np.cos(a)), int(y + ln * np.sin(a)))
        cv2.line(fibres, p0, p1, float(rng.choice([-1.0, 1.0])), 1, cv2.LINE_AA)
    fibres = _blur(fibres, 0.6)
    tooth = _blur(rng.normal(size=(t, t)).astype(np.float32), 0.7)
    n = (0.45 * blotch / blotch.std() + 0.6 * mid / mid.std() + 0.5 * fibres / max(fibres.std(), 1e-6)
         + 0.6 * tooth / tooth.std())
    return _normalised(n, 7.0)


def grain_tile(index: int) -> np.ndarray:
    """Fine film-like grain with a little low-frequency mottling."""
    rng = np.random.default_rng([11, index])
    t = TILE
    fine = _blur(rng.normal(size=(t, t)).astype(np.float32), 0.65)
    mottle = _blur(rng.normal(size=(t, t)).astype(np.float32), 4.0)
    return _normalised(fine / fine.std() + 0.4 * mottle / mottle.std(), 6.0)


def _cache_root() -> Path | None:
    root = os.environ.get("OMOKAGE_CACHE")
    if root:
        return Path(root)
    try:
        from platformdirs import user_cache_dir
    except ImportError:
        return None
    return Path(user_cache_dir("omokage"))


def atlas_files() -> list[tuple[str, Path]]:
    """(rig, atlas PNG) of every training rig already in the npm cache, in a fixed order.
    Reads only the cache (never fetches): a drawing never reaches for the network."""
    from engines.datagen.live2d.models import _PACKAGE, HUMAN_HELDOUT, HUMAN_TRAIN, HUMAN_VAL, VERSION

    root = _cache_root()
    out: list[tuple[str, Path]] = []
    if root is None:
        return out
    for name in HUMAN_TRAIN:
        if name in HUMAN_VAL or name in HUMAN_HELDOUT:  # the models table keeps them apart; so do we
            continue
        package, sub = _PACKAGE.get(name, (name, ""))
        pkg = root / "npm" / f"live2d-widget-model-{package}-{VERSION}"
        if not (pkg / ".complete").exists():
            continue
        assets = pkg / "package" / sub / "assets" if sub else pkg / "package" / "assets"
        models = sorted(assets.glob("*.model.json"))
        if len(models) != 1:
            continue
        try:
            textures = json.loads(models[0].read_text(encoding="utf-8")).get("textures", [])
        except (OSError, ValueError):
            continue
        for rel in textures:
            f = assets / rel
            if f.is_file():
                out.append((name, f))
    return out


def atlas_patches(png: Path) -> list[np.ndarray]:
    """Grey detail tiles (mid grey = no change) from the fully opaque, stroke-free patches of
    one atlas: its brush and shading texture without its colours or outlines."""
    import cv2

    img = cv2.imread(str(png), cv2.IMREAD_UNCHANGED)
    if img is None or img.ndim != 3 or img.shape[2] != 4:
        return []
    if img.shape[0] != 1024:
        img = cv2.resize(img, (1024, 1024), interpolation=cv2.INTER_AREA)
    lum = cv2.cvtColor(np.ascontiguousarray(img[..., :3]), cv2.COLOR_BGR2GRAY).astype(np.float32)
    lum = _blur(lum, 0.8)  # palette atlases are dithered; keep the brushwork, not the dither
    detail = lum - _blur(lum, 5.0)
    opaque = cv2.erode((img[..., 3] > 250).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    cands = []
    for y in range(0, 1024 - PATCH + 1, PATCH // 2):
        for x in range(0, 1024 - PATCH + 1, PATCH // 2):
            if not opaque[y : y + PATCH, x : x + PATCH].all():
                continue
            d = detail[y : y + PATCH, x : x + PATCH]
            s, m = float(d.std()), float(np.abs(d).max())
            # Textured all over (every cell of a 4x4 grid has detail), with no outline or hard
            # edge through it (an edge is a peak far above the patch's spread).
            cells = d.reshape(4, PATCH // 4, 4, PATCH // 4).std(axis=(1, 3))
            if 2.0 < s < 12.0 and m < 40.0 and m < 5.0 * s and cells.min() > 0.3 * np.median(cells):
                cands.append((s, y, x))
    if not cands:
        return []
    cands.sort()
    picks = np.linspace(0, len(cands) - 1, min(PATCHES_PER_ATLAS, len(cands))).round().astype(int)
    out = []
    for i in sorted(set(picks.tolist())):
        _, y, x = cands[i]
        d = detail[y : y + PATCH, x : x + PATCH]
        out.append(np.clip(128.0 + 1.6 * (d - d.mean()), 0, 255).astype(np.uint8))
    return out


@lru_cache(maxsize=1)
def atlas_bank() -> tuple[tuple[str, np.ndarray], ...]:
    """(rig, grey tile) for every patch of every cached training-rig atlas (loaded once)."""
    bank = []
    for name, f in atlas_files():
        bank.extend((name, tile) for tile in atlas_patches(f))
    return tuple(bank)


@lru_cache(maxsize=2 * BANK + 128)
def _tile_shader(kind: str, index: int) -> skia.Shader:
    if kind == "paper":
        grey = paper_tile(index)
    elif kind == "grain":
        grey = grain_tile(index)
    else:
        grey = atlas_bank()[index][1]
    # Above mid grey: white, below: black, with the distance from mid grey as alpha (premultiplied).
    # Drawn source-atop, it lightens or darkens what is there and never changes its alpha.
    g = grey.astype(np.float32) - 128.0
    alpha = np.clip(np.abs(g) * (0.8 / 128.0), 0.0, 1.0)
    white = np.where(g > 0, alpha, 0.0)
    rgba = np.round(np.dstack([white, white, white, alpha]) * 255.0).astype(np.uint8)
    img = skia.Image.fromarray(np.ascontiguousarray(rgba), colorType=skia.kRGBA_8888_ColorType,
                               alphaType=skia.kPremul_AlphaType)
    # Nearest sampling: grain needs no filtering, and it is several times faster than linear.
    return img.makeShader(skia.TileMode.kMirror, skia.TileMode.kMirror,
                          skia.SamplingOptions(skia.FilterMode.kNearest), skia.Matrix())


def texture_shader(kind: str, seed: int, matrix: skia.Matrix) -> skia.Shader | None:
    """The look's tile as a mirror-repeated shader placed by `matrix` (texture -> canvas)."""
    if kind == "none":
        return None
    if kind == "atlas":
        bank = atlas_bank()
        shader = _tile_shader("atlas", seed % len(bank)) if bank else _tile_shader("paper", seed % BANK)
    else:
        shader = _tile_shader(kind, seed % BANK)
    return shader.makeWithLocalMatrix(matrix)
