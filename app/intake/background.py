"""Remove a plain or simple (gradient) background from an opaque picture, keeping the
character whenever in doubt.

Seeds are the picture's top edge and the side edges above the shoulders only: a bust runs off
the bottom edge (and often the sides, low down), and a white shirt touching that edge must
not be taken for a white background. From the seeds, the background is every pixel of
background colour connected to them (a flood fill with a colour tolerance, not a global
colour key), so the same colour inside the character (eye whites, a shirt outlined in ink)
stays. Background-coloured regions the flood does not reach are kept and reported.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np


@dataclass
class BackgroundReport:
    kind: str  # "plain #rrggbb" or "gradient"
    removed: float  # share of all pixels made transparent
    tolerance: float
    kept: list[str] = field(default_factory=list)  # background-coloured regions left opaque

    def describe(self) -> str:
        text = f"background removed ({self.kind}, tolerance {self.tolerance:.0f}): " \
               f"{100 * self.removed:.1f}% of pixels made transparent"
        return "; ".join([text] + self.kept)


class BackgroundError(ValueError):
    """The background cannot be removed automatically; the message says why."""


PLAIN_SHARE, GRADIENT_SHARE = 0.4, 0.6


def _seed_mask(h: int, w: int, seed_bottom: int) -> np.ndarray:
    m = np.zeros((h, w), bool)
    m[0, :] = True
    m[:seed_bottom, 0] = True
    m[:seed_bottom, -1] = True
    return m


def _model(rgb: np.ndarray, seeds: np.ndarray) -> tuple[np.ndarray, str, np.ndarray] | None:
    """The background colour at every pixel as uint8 RGB (plain, else a linear gradient fitted to the
    seeds), its name, and each seed's distance from it; None if neither fits. Hair and hats
    often cover much of the edges, so the background only has to be the most common colour
    of the seeds (PLAIN_SHARE of them), or a gradient that fits GRADIENT_SHARE of them."""
    px = rgb[seeds].astype(np.float32)
    h, w = rgb.shape[:2]
    bins = (px // 16).astype(np.int32) @ np.array([256, 16, 1])
    mode = np.bincount(bins).argmax()
    plain = np.median(px[bins == mode], axis=0)
    d_plain = np.abs(px - plain).max(axis=1)
    share = float(np.mean(d_plain <= 16))
    grad = _gradient(px, seeds)
    # A gradient only when it explains clearly more of the edge than one colour does.
    if grad is not None and grad[1].mean() >= GRADIENT_SHARE and grad[1].mean() > share + 0.1:
        coef, _, d = grad
        gx = (np.arange(w, dtype=np.float32) / w)[None, :, None] * coef[1]
        gy = (np.arange(h, dtype=np.float32) / h)[:, None, None] * coef[2]
        bg = np.clip(coef[0] + gx + gy + 0.5, 0, 255).astype(np.uint8)
        return bg, "gradient", d
    if share >= PLAIN_SHARE:
        c = plain.astype(int)
        bg = np.empty_like(rgb)
        bg[:] = np.round(plain).astype(np.uint8)
        return bg, f"plain #{c[0]:02x}{c[1]:02x}{c[2]:02x}", d_plain
    return None


def _gradient(px: np.ndarray, seeds: np.ndarray):
    """(coefficients, inlier mask, distances) of a linear colour ramp over the seeds."""
    h, w = seeds.shape
    ys, xs = np.nonzero(seeds)
    a = np.stack([np.ones_like(xs), xs / w, ys / h], 1).astype(np.float32)
    inl = np.ones(len(px), bool)
    for _ in range(3):  # refit on the seeds that fit: the character's own edge pixels drop out
        coef, *_ = np.linalg.lstsq(a[inl], px[inl], rcond=None)
        d = np.abs(px - a @ coef).max(axis=1)
        inl = d <= 16
        if inl.sum() < 3:
            return None
    return coef, inl, d


def remove_background(rgb: np.ndarray, seed_bottom: int | None = None) -> tuple[np.ndarray, BackgroundReport]:
    """RGBA with the background transparent. seed_bottom: the lowest row whose side-edge pixels
    may seed the flood (just above the shoulders); by default half the picture height."""
    h, w = rgb.shape[:2]
    seed_bottom = int(np.clip(h // 2 if seed_bottom is None else seed_bottom, 1, h))
    seeds = _seed_mask(h, w, seed_bottom)
    fit = _model(rgb, seeds)
    if fit is None:
        raise BackgroundError(
            "the background is not plain (its edge pixels are neither one colour nor a smooth "
            "gradient), so it cannot be told from the character automatically. Erase the "
            "background (alpha 0) in an image editor, save as an RGBA PNG and prepare it again.")
    bg, kind, seed_d = fit
    # JPEG noise and soft shading of the background set the tolerance: a robust spread of
    # the seeds, within limits that never reach the pale skin tones of the character.
    good = seed_d[seed_d <= 16]
    tol = float(np.clip(np.percentile(good, 95) * 1.5 + 6, 10, 30)) if len(good) else 10.0
    r, g, b = cv2.split(cv2.absdiff(np.ascontiguousarray(rgb), bg))
    dist = cv2.max(cv2.max(r, g), b).astype(np.float32)
    near = (dist <= tol).astype(np.uint8)
    n, labels = cv2.connectedComponents(near, connectivity=4)
    seeded = np.unique(labels[seeds & (near > 0)])
    seeded = seeded[seeded > 0]
    removed = np.isin(labels, seeded)
    if not removed.any():
        raise BackgroundError("no background was found at the top and upper sides of the "
                              "picture. Erase the background (alpha 0) in an image editor and "
                              "save as an RGBA PNG.")
    alpha = np.where(removed, 0, 255).astype(np.uint8)
    # Anti-aliased rim: a one-pixel band next to the removed area fades with its distance
    # from the background colour, so the outline does not keep a hard halo.
    band = (cv2.dilate(removed.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0) & ~removed
    soft = np.clip((dist - tol) / (3 * tol), 0.0, 1.0)
    alpha[band] = np.maximum(soft[band] * 255, 64).astype(np.uint8)
    report = BackgroundReport(kind, float(removed.mean()), tol)
    _report_kept(labels, near, seeded, h, report)
    return np.dstack([rgb, alpha]), report


def _report_kept(labels, near, seeded, h, report: BackgroundReport) -> None:
    other = (near > 0) & ~np.isin(labels, seeded) & (labels > 0)
    if not other.any():
        return
    ids, counts = np.unique(labels[other], return_counts=True)
    big = counts >= max(50, 0.002 * labels.size)
    if not big.any():
        return
    edge = np.unique(np.concatenate([labels[-1], labels[:, 0], labels[:, -1]]))
    touching = np.isin(ids[big], edge)
    share = counts[big] / labels.size
    if touching.any():
        report.kept.append(
            f"kept {int(touching.sum())} background-coloured region(s) touching the lower edges "
            f"({100 * share[touching].sum():.1f}% of pixels; clothing running off the picture?)")
    if (~touching).any():
        report.kept.append(
            f"kept {int((~touching).sum())} enclosed background-coloured region(s) "
            f"({100 * share[~touching].sum():.1f}% of pixels; gaps in the hair or arms stay "
            "opaque: erase them in an image editor if they are background)")
