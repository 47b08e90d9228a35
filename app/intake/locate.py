"""The anime face locator: where the face of a character is in any picture, and where the
convention wants it.

Three tiny CNNs trained on renders (app/intake/train_locator.py) and shipped as one ONNX file
beside this module: `find` looks at the whole picture shrunk to 128x128 and guesses the face
outline; `refine` looks at a 64x64 crop around the guess (twice the face width) and corrects
it, three times, on the crop and its mirror image (averaged, which cancels part of each pass's
bias); its presence output is the confidence. `features` looks at a 128x128 crop of the face
and finds the eyes and the mouth as the Live2D framing measures them (the boxes that closing
the eyes and opening the mouth change), again three times on the crop and its mirror: first
where the outline says they should be, then around what it found.

The returned box is the convention's face box: the square that app.intake.frame scales to
TARGET_W and moves to (TARGET_CX, TARGET_CY). With sure eyes and mouth it is set by the rule
that framed the Live2D rigs the engine learned from (engines.convention.face_framing: eyes
centred on the eye line, scaled by the eye-to-mouth distance or the eye span), so a picture
is framed as the engine expects whatever its artist's face proportions; otherwise by the face
outline (cheeks, jaw, chin and the cranium under the hair; not hair or hats), which the
bundled default character has at the target. About 20 ms on one CPU thread (80 ms when
there is no face: it looks around before giving up).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from engines.convention import (EYE_LINE_Y, EYE_MOUTH, EYE_SPAN, HEAD_BOX, face_framing,
                                plausible_mouth)

MODEL = Path(__file__).with_name("face_locator.onnx")
FIND, REFINE, CROP_FACES = 128, 64, 2.0  # must match train_locator
FEATURES, CROP_HEADS = 128, 1.1  # features crop: side in head boxes (HEAD_BOX side at 512)
OUTPUTS = {"frame": "find", "crops": "refine", "face_crops": "features"}  # input -> output
MIN_SCORE = 0.5
MIN_FEATURES = 0.5  # below this the eyes and mouth are unsure: the outline frames the face
# Eyes and mouth this sure find a face the outline nets missed (small faces on long bodies;
# on backgrounds alone the features net stays below 1e-4)
SURE_FEATURES = 0.9
# A convention image's face outline: the bundled default character's (app.intake.frame frames
# every face box to it).
TARGET_CX, TARGET_CY, TARGET_W = 256.0, 127.25, 95.18
HEAD = HEAD_BOX[2] - HEAD_BOX[0]
# Centre of the eyes-and-mouth crop in a convention image (pixel centres): between the eye
# line and the mouth, where face_framing puts them.
FEATURE_CX = (HEAD_BOX[0] + HEAD_BOX[2]) / 2.0 - 0.5
FEATURE_CY = HEAD_BOX[1] + (EYE_LINE_Y + EYE_MOUTH / 2.0) * HEAD - 0.5

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class FaceBox:
    """The face box in picture pixels (pixel centres), and what set it."""

    cx: float
    cy: float
    w: float
    h: float
    score: float = 1.0  # confidence that a face is there
    outline: Box | None = None  # the face outline x0, y0, x1, y1, as located
    eyes: Box | None = None  # what closing the eyes changes, x0, y0, x1, y1
    mouth: Box | None = None  # what opening the mouth changes
    feature_score: float = 0.0  # confidence in eyes and mouth
    basis: str = ""  # "eyes and mouth", "eye span", "face outline"; "" given by hand

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (self.cx - self.w / 2, self.cy - self.h / 2, self.cx + self.w / 2,
                self.cy + self.h / 2)

    @property
    def outline_box(self) -> tuple[float, float, float, float]:
        """The face outline where located, else the box itself (given by hand)."""
        return self.outline if self.outline is not None else self.box

    def moved_to(self, cx: float, cy: float, w: float) -> "FaceBox":
        """The box moved and scaled (keeping its shape), and what the locator saw with it, as
        when the user drags the box: the outline, eyes and mouth follow."""
        k = w / self.w

        def follow(b):
            if b is None:
                return None
            return ((b[0] - self.cx) * k + cx, (b[1] - self.cy) * k + cy,
                    (b[2] - self.cx) * k + cx, (b[3] - self.cy) * k + cy)

        return replace(self, cx=cx, cy=cy, w=w, h=self.h * k, outline=follow(self.outline),
                       eyes=follow(self.eyes), mouth=follow(self.mouth))

    def describe(self) -> str:
        by = f", from the {self.basis}" if self.basis else ""
        return (f"centre ({self.cx:.0f}, {self.cy:.0f}), {self.w:.0f}x{self.h:.0f} px"
                f" (confidence {self.score:.2f}{by})")


class LocatorError(RuntimeError):
    """The locator's model file is missing or damaged; the message says what to do."""


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


def rule_framing(eyes: Box, mouth: Box | None) -> tuple[float, float, float]:
    """engines.convention.face_framing for boxes in pixel centres, as a warp of pixel centres:
    (scale, tx, ty) with output = input * scale + t."""
    edges = tuple(v + 0.5 for v in eyes)
    s, tx, ty = face_framing(edges, None if mouth is None else tuple(v + 0.5 for v in mouth))
    return s, tx + 0.5 * s - 0.5, ty + 0.5 * s - 0.5


def feature_crop(scale: float, tx: float, ty: float) -> tuple[float, float, float]:
    """(centre x, centre y, side) of the features crop for a picture whose convention framing
    is output = input * scale + t (pixel centres)."""
    return (FEATURE_CX - tx) / scale, (FEATURE_CY - ty) / scale, CROP_HEADS * HEAD / scale


class FaceLocator:
    def __init__(self, path: str | Path = MODEL, threads: int = 1) -> None:
        import onnxruntime as ort

        path = Path(path)
        if not path.is_file():
            raise LocatorError(f"the face locator model {path} is missing; reinstall Omokage "
                               "or restore the file from the repository.")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(path), sess_options=opts,
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own types for a damaged file
            raise LocatorError(f"the face locator model {path} is damaged ({exc}); reinstall "
                               "Omokage or restore the file from the repository.") from None
        self.sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        self.inputs = {i.name: i.shape[1:] for i in self.session.get_inputs()}
        self.has_features = "face_crops" in self.inputs

    def _run(self, name: str, batch: np.ndarray) -> np.ndarray:
        """One of the nets on a batch (the others get empty batches, which cost nothing)."""
        feed = {k: np.zeros((0, *shape), np.float32) for k, shape in self.inputs.items()}
        feed[name] = batch
        return self.session.run([OUTPUTS[name]], feed)[0]

    def locate(self, rgb: np.ndarray, refine_steps: int = 3, feature_steps: int = 3) -> FaceBox:
        """The convention's face box in an RGB uint8 image (check .score >= MIN_SCORE)."""
        pyr = _Pyramid(rgb)
        cx, cy, fw, fh, score = self.outline(rgb, refine_steps, pyr)
        outline = (cx - fw / 2, cy - fh / 2, cx + fw / 2, cy + fh / 2)
        by_outline = FaceBox(cx, cy, fw, fh, score, outline, basis="face outline")
        if not self.has_features or feature_steps < 1:
            return by_outline
        s = TARGET_W / fw  # first look: the outline where the default character has it
        fr = (s, TARGET_CX - s * cx, TARGET_CY - s * cy)
        eyes, mouth, fscore = self.features(pyr, *feature_crop(*fr))
        if fscore < MIN_FEATURES:  # the outline misled the first look: look around it
            eyes, mouth, fscore = max((self.features(pyr, *c) for c in _around(*fr)),
                                      key=lambda found: found[2])
        if score < MIN_SCORE and fscore < SURE_FEATURES:
            return by_outline  # no face
        for _ in range(feature_steps - 1):
            fr = rule_framing(eyes, mouth)
            eyes, mouth, fscore = self.features(pyr, *feature_crop(*fr))
        if fscore < MIN_FEATURES:
            return FaceBox(cx, cy, fw, fh, score, outline, eyes, mouth, fscore, "face outline")
        aspect = fh / fw
        if score < MIN_SCORE:  # only the eyes and mouth found the face: the outline is wrong
            score, outline, aspect = fscore, None, 1.25
        s, tx, ty = rule_framing(eyes, mouth)
        w = TARGET_W / s
        return FaceBox((TARGET_CX - tx) / s, (TARGET_CY - ty) / s, w, w * aspect, score,
                       outline, eyes, mouth, fscore,
                       "eyes and mouth" if _mouth_sets_scale(eyes, mouth) else "eye span")

    def outline(self, rgb: np.ndarray, refine_steps: int = 3, pyr: "_Pyramid | None" = None):
        """(cx, cy, w, h, confidence) of the face outline."""
        h, w = rgb.shape[:2]
        k = FIND / max(h, w)
        sw, sh = max(1, round(w * k)), max(1, round(h * k))
        frame = np.full((FIND, FIND, 3), 128, np.uint8)
        ox, oy = (FIND - sw) // 2, (FIND - sh) // 2
        frame[oy:oy + sh, ox:ox + sw] = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)
        out = self._run("frame", _tensor(frame[None]))[0]
        kx, ky = sw / w, sh / h
        cx, cy = (out[0] * FIND - ox) / kx, (out[1] * FIND - oy) / ky
        fw, fh = np.exp(out[2]) * FIND / kx, np.exp(out[3]) * FIND / ky
        score = _sigmoid(out[4])
        pyr = pyr or _Pyramid(rgb)
        for _ in range(refine_steps):
            side = CROP_FACES * fw
            crop = pyr.crop(cx, cy, side, REFINE)
            r = self._run("crops", _tensor(np.stack([crop, crop[:, ::-1]])))
            # The mirrored crop's x correction points the other way; flipping the array
            # mirrors about pixel (size - 1) / 2, half a pixel left of the crop centre.
            dx = (r[0, 0] - r[1, 0]) / 2 - 0.5 / REFINE
            dy = (r[0, 1] + r[1, 1]) / 2
            cx, cy = cx + dx * side, cy + dy * side
            fw = float(np.exp((r[0, 2] + r[1, 2]) / 2) * side)
            fh = float(np.exp((r[0, 3] + r[1, 3]) / 2) * side)
            score = _sigmoid((r[0, 4] + r[1, 4]) / 2)
        return float(cx), float(cy), float(fw), float(fh), score

    def features(self, pyr: "_Pyramid", cx: float, cy: float, side: float):
        """(eyes box, mouth box, confidence) from the crop and its mirror image."""
        crop = pyr.crop(cx, cy, side, FEATURES)
        r = self._run("face_crops", _tensor(np.stack([crop, crop[:, ::-1]])))
        boxes = []
        for i in (0, 4):
            # x of the mirrored crop: q -> -q - 1 / size (see train_locator.feature_targets)
            qx = (r[0, i] - r[1, i]) / 2 - 0.5 / FEATURES
            qy = (r[0, i + 1] + r[1, i + 1]) / 2
            bw = float(np.exp((r[0, i + 2] + r[1, i + 2]) / 2)) * side
            bh = float(np.exp((r[0, i + 3] + r[1, i + 3]) / 2)) * side
            x, y = cx + qx * side, cy + qy * side
            boxes.append((float(x - bw / 2), float(y - bh / 2), float(x + bw / 2),
                          float(y + bh / 2)))
        return boxes[0], boxes[1], _sigmoid((r[0, 8] + r[1, 8]) / 2)


def _around(scale: float, tx: float, ty: float):
    """Features crops about the first look's: larger and smaller, up, down and sideways by a
    third of a crop (the net says yes to crops within about a tenth of a crop and 0.7-1.5
    times the right size)."""
    cx, cy, side = feature_crop(scale, tx, ty)
    for k in (0.7, 1.0, 1.4):
        for dx, dy in ((0, 0), (0, -1), (0, 1), (-1, 0), (1, 0), (0, -2)):
            if (k, dx, dy) != (1.0, 0, 0):
                yield cx + dx * side * k / 3, cy + dy * side * k / 3, side * k


def _mouth_sets_scale(eyes: Box, mouth: Box) -> bool:
    if not plausible_mouth(eyes, mouth):
        return False
    d = (mouth[1] + mouth[3]) / 2 - (eyes[1] + eyes[3]) / 2
    return EYE_MOUTH / d <= EYE_SPAN / (eyes[2] - eyes[0])


def _tensor(batch: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2), dtype=np.float32) / 255.0


class _Pyramid:
    """The picture at 1, 1/2, 1/4... size, so a crop shrunk a lot is still smooth."""

    def __init__(self, rgb: np.ndarray) -> None:
        self.levels = [np.ascontiguousarray(rgb)]

    def crop(self, cx: float, cy: float, side: float, size: int) -> np.ndarray:
        k = size / side
        f = 1
        while k * f < 0.5 and min(self.levels[-1].shape[:2]) > 16:
            if len(self.levels) <= int(np.log2(f)) + 1:
                self.levels.append(cv2.pyrDown(self.levels[-1]))
            f *= 2
        i = int(np.log2(f))
        f = 2 ** min(i, len(self.levels) - 1)
        # pixel j of the level shrunk f times covers full-size x = f * j + (f - 1) / 2
        kf = k * f
        m = np.array([[kf, 0, size / 2 - k * cx + k * (f - 1) / 2],
                      [0, kf, size / 2 - k * cy + k * (f - 1) / 2]])
        return cv2.warpAffine(self.levels[int(np.log2(f))], m, (size, size),
                              flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


@lru_cache(maxsize=1)
def default_locator() -> FaceLocator:
    return FaceLocator()
