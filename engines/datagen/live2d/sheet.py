"""Contact sheet: rows = characters, columns = one control each, to check every control by eye."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from engines.convention import HEAD_BOX

COLUMNS: tuple[tuple[str, dict[str, float]], ...] = (
    ("rest", {}),
    ("eyes closed", {"eye_left_open": 0.0, "eye_right_open": 0.0}),
    ("mouth open", {"mouth_open": 1.0}),
    ("iris right+up", {"iris_x": 1.0, "iris_y": 1.0}),
    ("brows up", {"brow_left": 1.0, "brow_right": 1.0}),
    ("yaw -30", {"head_yaw": -30.0}),
    ("yaw +30", {"head_yaw": 30.0}),
    ("pitch +30", {"head_pitch": 30.0}),
    ("roll +30", {"head_roll": 30.0}),
    ("combo", {}),  # filled from the character's own sampler
)


def _on_grey(img: np.ndarray) -> np.ndarray:
    a = img[..., 3:4].astype(np.float32) / 255.0
    return (img[..., :3] * a + 170.0 * (1.0 - a)).astype(np.uint8)


def make_sheet(source, names: list[str], out: Path, crop: tuple[int, int, int, int] = (144, 16, 368, 240),
               tile: int = 180, seed: int = 0) -> Path:
    """Crop is x0, y0, x1, y1 of the 512 image (default: head and shoulders); the head box is drawn."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = crop
    k = tile / (x1 - x0)
    rows = []
    header = np.full((28, tile * len(COLUMNS) + 120, 3), 255, np.uint8)
    for j, (label, _) in enumerate(COLUMNS):
        cv2.putText(header, label, (120 + j * tile + 4, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    rows.append(header)
    for name in names:
        ch = source.character(name)
        tiles = []
        for label, pose in COLUMNS:
            if label == "combo":
                expr, head = source.sample_pose(name, rng)
                pose = {**expr, **head}
            img = _on_grey(ch.render(pose))[y0:y1, x0:x1]
            img = np.ascontiguousarray(img)
            hx0, hy0, hx1, hy1 = HEAD_BOX
            cv2.rectangle(img, (hx0 - x0, hy0 - y0), (hx1 - x0 - 1, hy1 - y0 - 1), (255, 0, 0), 1)
            tiles.append(cv2.resize(img, (tile, int(round((y1 - y0) * k))), interpolation=cv2.INTER_AREA))
        label_img = np.full((tiles[0].shape[0], 120, 3), 255, np.uint8)
        cv2.putText(label_img, name, (4, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
        rows.append(np.concatenate([label_img] + tiles, axis=1))
    sheet = np.concatenate(rows, axis=0)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    return out
