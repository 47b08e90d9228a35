"""What the window does with a picture the user opens: a convention image is loaded as it is;
any other picture goes through the head-box editor first, starting from the automatic framing
(the face the locator found, the background removed as `prepare` removes it), so the user sees
and confirms where the head goes before a prepared copy is written beside the picture.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.character import CharacterError, decode_image
from engines.convention import CANVAS


@dataclass
class Opening:
    path: Path
    convention: bool  # True: load the file as it is
    rgba: np.ndarray | None = None  # the picture as the editor shows it (background removed)
    face: object | None = None  # app.intake.locate.FaceBox found, None when no face was found
    notes: list[str] = field(default_factory=list)
    original: np.ndarray | None = None  # the picture as decoded, before background removal


def inspect_picture(path: str | Path) -> Opening:
    """Decide how to open `path`. Raises CharacterError (or OSError) only for pictures that
    cannot be read at all; the caller then loads the file anyway so the usual message about
    what is wrong reaches the user through the normal load path."""
    from app.intake.background import BackgroundError, remove_background
    from app.intake.frame import close_to_target
    from app.intake.locate import MIN_SCORE
    from app.intake.prepare import find_face, is_opaque

    path = Path(path)
    rgba, notes = decode_image(path.read_bytes(), path.name)
    original = rgba
    h, w = rgba.shape[:2]
    opaque = is_opaque(rgba)
    found = find_face(rgba)
    face = found if found.score >= MIN_SCORE else None
    # A square transparent canvas of the convention's size whose face is where the convention
    # wants it, or in which no face is seen at all (hand-made convention art the locator
    # misses), loads directly, exactly as it always has.
    if (w, h) == (CANVAS, CANVAS) and not opaque and (face is None or close_to_target(face)):
        return Opening(path, True, face=face, notes=notes)
    if opaque:
        # Show what prepare will keep: the same flood fill, seeded above the shoulders.
        seed_bottom = int(face.cy + 0.75 * face.h) if face is not None else None
        try:
            rgba, report = remove_background(np.ascontiguousarray(rgba[..., :3]), seed_bottom)
        except BackgroundError as exc:
            raise CharacterError(f"{path.name}: the image has no transparency and {exc}") from None
        notes.append(report.describe())
    return Opening(path, False, rgba, face, notes, original)
