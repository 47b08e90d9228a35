"""The anime face locator: where the face of a character is in any picture.

Two tiny CNNs trained on procedural renders (app/intake/train_locator.py) and shipped as
one ONNX file beside this module: `find` looks at the whole picture shrunk to 128x128 and
guesses the face; `refine` looks at a 64x64 crop around the guess (twice the face width) and
corrects it, three times, on the crop and its mirror image (averaged, which cancels part of
each pass's bias). Its presence output is the confidence. About 5 ms on one CPU thread.

The face box is the box around the face outline (cheeks, jaw, chin and the cranium under
the hair); hair and hats are not part of it.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

MODEL = Path(__file__).with_name("face_locator.onnx")
FIND, REFINE, CROP_FACES = 128, 64, 2.0  # must match train_locator
MIN_SCORE = 0.5


@dataclass(frozen=True)
class FaceBox:
    cx: float
    cy: float
    w: float
    h: float
    score: float = 1.0

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (self.cx - self.w / 2, self.cy - self.h / 2, self.cx + self.w / 2,
                self.cy + self.h / 2)

    def describe(self) -> str:
        return (f"centre ({self.cx:.0f}, {self.cy:.0f}), {self.w:.0f}x{self.h:.0f} px"
                f" (confidence {self.score:.2f})")


class LocatorError(RuntimeError):
    """The locator's model file is missing or damaged; the message says what to do."""


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


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

    def _run(self, frame: np.ndarray | None, crops: np.ndarray | None):
        f = np.zeros((1, 3, FIND, FIND), np.float32) if frame is None else frame
        c = np.zeros((1, 3, REFINE, REFINE), np.float32) if crops is None else crops
        return self.session.run(None, {"frame": f, "crops": c})

    def locate(self, rgb: np.ndarray, refine_steps: int = 3) -> FaceBox:
        """The most likely face box in an RGB uint8 image (check .score >= MIN_SCORE)."""
        h, w = rgb.shape[:2]
        k = FIND / max(h, w)
        sw, sh = max(1, round(w * k)), max(1, round(h * k))
        frame = np.full((FIND, FIND, 3), 128, np.uint8)
        ox, oy = (FIND - sw) // 2, (FIND - sh) // 2
        frame[oy:oy + sh, ox:ox + sw] = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)
        out = self._run(_tensor(frame[None]), None)[0][0]
        kx, ky = sw / w, sh / h
        cx, cy = (out[0] * FIND - ox) / kx, (out[1] * FIND - oy) / ky
        fw, fh = np.exp(out[2]) * FIND / kx, np.exp(out[3]) * FIND / ky
        score = _sigmoid(out[4])
        pyr = _Pyramid(rgb)
        for _ in range(refine_steps):
            side = CROP_FACES * fw
            crop = pyr.crop(cx, cy, side, REFINE)
            both = np.stack([crop, crop[:, ::-1]])
            r = self._run(None, _tensor(both))[1]
            # The mirrored crop's x correction points the other way; flipping the array
            # mirrors about pixel (size - 1) / 2, half a pixel left of the crop centre.
            dx = (r[0, 0] - r[1, 0]) / 2 - 0.5 / REFINE
            dy = (r[0, 1] + r[1, 1]) / 2
            cx, cy = cx + dx * side, cy + dy * side
            fw = float(np.exp((r[0, 2] + r[1, 2]) / 2) * side)
            fh = float(np.exp((r[0, 3] + r[1, 3]) / 2) * side)
            score = _sigmoid((r[0, 4] + r[1, 4]) / 2)
        return FaceBox(float(cx), float(cy), float(fw), float(fh), score)


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
