"""Contact sheets: identities x pose columns, and a grid of characters at rest showing the
spread of drawing styles (optionally beside Live2D training rigs, for comparison by eye)."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from engines.datagen.procedural.identity import Identity
from engines.datagen.procedural.render import draw_character

COLUMNS: list[tuple[str, dict[str, float]]] = [
    ("rest", {}),
    ("eyes closed", {"eye_left_open": 0.0, "eye_right_open": 0.0}),
    ("mouth open", {"mouth_open": 1.0}),
    ("iris", {"iris_x": 1.0, "iris_y": 0.4}),
    ("brows", {"brow_left": 1.0, "brow_right": 1.0}),
    ("yaw -", {"head_yaw": -30.0}),
    ("yaw +", {"head_yaw": 30.0}),
    ("pitch", {"head_pitch": 30.0}),
    ("roll", {"head_roll": 30.0}),
    ("combination", {"head_yaw": 18.0, "head_pitch": -12.0, "head_roll": -12.0, "eye_left_open": 0.0,
                     "mouth_open": 0.6, "mouth_form": 1.0, "brow_left": 0.6, "brow_right": 0.6,
                     "iris_x": -0.5, "body_yaw": 0.6, "breathing": 1.0}),
]
CROP = (96, 16, 416, 336)  # x0, y0, x1, y1: head and shoulders


def _on_grey(img: np.ndarray, grey: int = 235) -> np.ndarray:
    a = img[..., 3:4].astype(np.float32) / 255.0
    return (img[..., :3] * a + grey * (1 - a)).astype(np.uint8)


def contact_sheet(identities: list[Identity], cell: int = 160) -> np.ndarray:
    """RGB sheet: one row per identity, one column per entry of COLUMNS, with labels."""
    x0, y0, x1, y1 = CROP
    head = 22
    rows = []
    for ident in identities:
        cells = []
        for _, pose in COLUMNS:
            img = _on_grey(draw_character(ident, pose))[y0:y1, x0:x1]
            cells.append(cv2.resize(img, (cell, cell), interpolation=cv2.INTER_AREA))
        rows.append(np.concatenate(cells, 1))
    sheet = np.concatenate(rows, 0)
    top = np.full((head, sheet.shape[1], 3), 255, np.uint8)
    for k, (label, _) in enumerate(COLUMNS):
        cv2.putText(top, label, (k * cell + 6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (30, 30, 30), 1,
                    cv2.LINE_AA)
    return np.concatenate([top, sheet], 0)


def write_sheet(path: Path, identities: list[Identity], cell: int = 160, palette: bool = False) -> Path:
    """Write the sheet; palette=True stores a 256-colour PNG (small enough for docs/)."""
    return write_image(path, contact_sheet(identities, cell), palette)


def look_label(ident: Identity) -> str:
    """A short description of a character's drawing style."""
    lk = ident.look
    shading = ident.style + (str(lk.shadow_tones) if ident.style == "cel" else "")
    line = ("lineless" if lk.outline == 0 else "thin" if lk.outline < 0.75
            else "thick" if lk.outline > 1.25 else "line")
    if lk.line_tint >= 0.5:
        line += " tinted"
    tex = "" if lk.texture == "none" else " " + lk.texture
    return f"{shading} {line}{tex}"


def style_grid(identities: list[Identity], cols: int = 6, cell: int = 200,
               extra: list[tuple[str, np.ndarray]] = (), labels: bool = True) -> np.ndarray:
    """RGB grid of characters at rest (head and shoulders), `extra` (label, RGBA 512 image)
    first, each cell labelled with its style."""
    x0, y0, x1, y1 = CROP
    items = list(extra) + [(look_label(i), draw_character(i, {})) for i in identities]
    strip = 16 if labels else 0
    cells = []
    for label, img in items:
        c = cv2.resize(_on_grey(img)[y0:y1, x0:x1], (cell, cell), interpolation=cv2.INTER_AREA)
        if labels:
            c = np.concatenate([c, np.full((strip, cell, 3), 255, np.uint8)], 0)
            cv2.putText(c, label, (4, cell + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.36, (40, 40, 40), 1, cv2.LINE_AA)
        cells.append(c)
    while len(cells) % cols:
        cells.append(np.full((cell + strip, cell, 3), 235, np.uint8))
    rows = [np.concatenate(cells[i : i + cols], 1) for i in range(0, len(cells), cols)]
    return np.concatenate(rows, 0)


def write_image(path: Path, rgb: np.ndarray, palette: bool = False) -> Path:
    """Write an RGB sheet atomically (a temporary file beside it, then a rename);
    palette=True stores a 256-colour PNG (small enough for docs/)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.part{path.suffix}")
    try:
        if palette:
            from PIL import Image

            img = Image.fromarray(rgb).quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                                dither=Image.Dither.NONE)
            img.save(tmp, format="PNG", optimize=True)
        elif not cv2.imwrite(str(tmp), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
            raise OSError(f"could not write {path}; check the directory and the file extension")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
