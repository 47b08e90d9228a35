"""Bring any character picture to the input convention, saying every step it takes.

prepare_image(rgba) finds the face (or takes one given by hand), removes a plain or gradient
background from an opaque picture, then scales and moves the picture so the face sits where
the convention wants it, padding or cropping to 512x512. `steps` lists everything done, for
the command line; `notes` lists what changed or needs the user's eye, for the window.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from app.intake.background import BackgroundError, BackgroundReport, remove_background
from app.intake.frame import (CANVAS, Framing, close_to_target, extend_body, framing_for,
                              warp, TARGET_CX, TARGET_CY, TARGET_W)
from app.intake.locate import MIN_SCORE, FaceBox, FaceLocator, default_locator

FACE_HINT = ("Give the face box by hand with --face CX,CY,W (the face's centre and width in "
             "pixels of the input picture), or drag the head box in the window.")


class PrepareError(ValueError):
    """The picture cannot be prepared automatically; the message says why and what to do."""


@dataclass
class Prepared:
    rgba: np.ndarray  # 512x512x4 straight alpha
    face: FaceBox | None  # in the input picture (after EXIF rotation)
    framing: Framing | None  # None: the picture was used as it was
    steps: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    background: BackgroundReport | None = None

    @property
    def face_out(self) -> FaceBox | None:
        if self.face is None:
            return None
        return self.framing.face_out(self.face) if self.framing else self.face


def is_opaque(rgba: np.ndarray) -> bool:
    return bool((rgba[..., 3] > 250).mean() > 0.985)


def on_white(rgba: np.ndarray) -> np.ndarray:
    """The picture over white. uint8 arithmetic in OpenCV: a 4096x4096 picture (a size the
    window accepts) takes a fraction of a second instead of seconds of float temporaries."""
    rgb = np.ascontiguousarray(rgba[..., :3])
    a = np.ascontiguousarray(rgba[..., 3])
    a3 = cv2.merge([a, a, a])
    return cv2.add(cv2.multiply(rgb, a3, scale=1.0 / 255.0), cv2.bitwise_not(a3))


def find_face(rgba: np.ndarray, locator: FaceLocator | None = None) -> FaceBox:
    """The locator's best face box for a picture (transparent parts seen as white)."""
    rgb = rgba[..., :3] if is_opaque(rgba) else on_white(rgba)
    return (locator or default_locator()).locate(np.ascontiguousarray(rgb))


def prepare_image(rgba: np.ndarray, face: FaceBox | None = None,
                  locator: FaceLocator | None = None) -> Prepared:
    """Raises PrepareError when no face is found (and none given) or the background cannot
    be removed."""
    h, w = rgba.shape[:2]
    steps: list[str] = [f"input {w}x{h}"]
    notes: list[str] = []
    if face is not None:
        steps.append(f"face box given by hand: {face.describe()}")
    else:
        face = find_face(rgba, locator)
        if face.score < MIN_SCORE:
            raise PrepareError(
                f"no anime face found (best guess {face.describe()}). The picture may not "
                f"show one upright anime face, or the face is tiny or cut off. {FACE_HINT}")
        steps.append(f"face found: {face.describe()}")
        if face.eyes is not None:
            steps.append(_features_step(face))
    bg_report = None
    if is_opaque(rgba):
        # Seed the flood only above the shoulders: below, clothing may touch the edges.
        ox0, oy0, ox1, oy1 = face.outline_box
        seed_bottom = int((oy0 + oy1) / 2 + 0.75 * (oy1 - oy0))
        try:
            rgba, bg_report = remove_background(np.ascontiguousarray(rgba[..., :3]), seed_bottom)
        except BackgroundError as exc:
            raise PrepareError(f"the picture has no transparency and {exc}") from None
        x0, y0, x1, y1 = (int(round(v)) for v in face.outline_box)
        inner = rgba[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0), 3]
        if inner.size and (inner > 128).mean() < 0.7:
            raise PrepareError(
                "removing the background would erase much of the face (the face has the "
                "background's colour and no outline). Erase the background in an image "
                "editor (alpha 0), save as an RGBA PNG and prepare it again.")
        steps.append(bg_report.describe())
        notes.append(bg_report.describe())
    else:
        steps.append(f"transparency kept: {100 * (rgba[..., 3] < 8).mean():.1f}% of pixels "
                     "already transparent, no background removed")
    if (w, h) == (CANVAS, CANVAS) and close_to_target(face):
        steps.append(f"the face is already where the convention wants it (target centre "
                     f"({TARGET_CX:.0f}, {TARGET_CY:.0f}), width {TARGET_W:.0f} px): "
                     "framing unchanged")
        return Prepared(np.ascontiguousarray(rgba), face, None, steps, notes, bg_report)
    fr = framing_for(face)
    rgba, added = extend_body(rgba, fr)
    out = warp(rgba, fr)
    out_face = fr.face_out(face)
    steps.append(f"scaled by {fr.scale:.3f} ({w}x{h} -> {w * fr.scale:.0f}x{h * fr.scale:.0f})"
                 f" so the face is {out_face.w:.0f} px wide")
    steps.append(f"moved the face centre to ({out_face.cx:.0f}, {out_face.cy:.0f}) on the "
                 f"{CANVAS}x{CANVAS} canvas (head box x 192-320, y 64-192)")
    if added:
        steps.append(f"continued the body {added * fr.scale:.0f} px down to the canvas bottom "
                     "(the picture ended above it)")
    steps.extend(_pad_crop(w, h + added, fr))
    notes.append(f"framed to the convention from the face found at {face.describe()} "
                 f"(scaled by {fr.scale:.2f}); check the head box")
    if (out[..., 3] > 16).mean() < 0.01:
        raise PrepareError("after framing almost nothing is visible. " + FACE_HINT)
    return Prepared(out, face, fr, steps, notes, bg_report)


def _pad_crop(w: int, h: int, fr: Framing) -> list[str]:
    left, top = fr.tx, fr.ty
    right, bottom = CANVAS - (w * fr.scale + fr.tx), CANVAS - (h * fr.scale + fr.ty)
    pad = [f"{n} {v:.0f} px" for n, v in (("left", left), ("top", top), ("right", right),
                                          ("bottom", bottom)) if v >= 0.5]
    crop = [f"{n} {-v:.0f} px" for n, v in (("left", left), ("top", top), ("right", right),
                                            ("bottom", bottom)) if v <= -0.5]
    out = []
    if pad:
        out.append("padded with transparency: " + ", ".join(pad))
    if crop:
        out.append("cropped what fell outside the canvas: " + ", ".join(crop))
    return out


def _features_step(face: FaceBox) -> str:
    (ex0, ey0, ex1, ey1), (mx0, my0, mx1, my1) = face.eyes, face.mouth
    seen = (f"eyes centre ({(ex0 + ex1) / 2:.0f}, {(ey0 + ey1) / 2:.0f}), {ex1 - ex0:.0f} px "
            f"across; mouth centre ({(mx0 + mx1) / 2:.0f}, {(my0 + my1) / 2:.0f}) "
            f"(confidence {face.feature_score:.2f})")
    if face.basis == "face outline":
        return f"{seen}: unsure, so the face outline sets the framing"
    return (f"{seen}: framed as the engine's Live2D training characters are, by the eye line "
            f"and the {'eye-to-mouth distance' if face.basis == 'eyes and mouth' else 'eye span'}")
