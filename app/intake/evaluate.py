"""Measure the face locator and the whole prepare step on characters never used in training.

    python -m app.intake.evaluate locator --n 300          # hit rate, box error, ms/image
    python -m app.intake.evaluate prepare --n 40 --dir /tmp/prep   # omokage prepare end to end

Test characters are procedural ones drawn from EVAL_SEED0 on (training draws its banks from
seeds 1,000,000 + seed * bank size on, far below) and the bundled default character; each is placed at
another scale and offset, cropped, on an opaque or transparent background, as JPEG or PNG.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from app.intake import scenes
from app.intake.frame import TARGET_CX, TARGET_CY, TARGET_W

EVAL_SEED0 = 5_000_000
ROOT = Path(__file__).resolve().parents[2]


def default_character() -> tuple[np.ndarray, np.ndarray]:
    from engines.datagen.procedural.identity import Identity
    from engines.datagen.procedural.render import draw_character

    ident = Identity(**json.loads((ROOT / "assets" / "default_character.json").read_text()))
    return draw_character(ident, {}), scenes.face_box(ident, {})


def test_character(i: int) -> tuple[np.ndarray, np.ndarray, str]:
    """(convention RGBA at rest, its face box, name): i = 0 is the default character."""
    if i == 0:
        rgba = np.asarray(Image.open(ROOT / "assets" / "default_character.png").convert("RGBA"))
        return rgba, default_character()[1], "default"
    from engines.datagen.procedural.identity import sample_identity
    from engines.datagen.procedural.look import Look
    from engines.datagen.procedural.render import draw_character

    # The drawing style the face locator was trained on (Look()): the figures stay those of
    # one fixed set of pictures when the generator gains looks, until it is retrained on them.
    ident = replace(sample_identity(np.random.default_rng(EVAL_SEED0 + i)), look=Look())
    return draw_character(ident, {}), scenes.face_box(ident, {}), f"seed{EVAL_SEED0 + i}"


@dataclass
class Case:
    image: np.ndarray  # RGB (opaque) or RGBA (transparent background)
    box: np.ndarray  # true face box in the image
    conv_box: np.ndarray  # the same character's face box in its convention image
    name: str
    fmt: str  # "jpg" or "png"


def make_case(rng: np.random.Generator, rgba: np.ndarray, box: np.ndarray, name: str) -> Case:
    """The convention image at another scale and offset, maybe cropped, on a background."""
    body = scenes.extend_body(rgba)
    fw = float(rng.uniform(110, 460))  # face width in the picture, px
    k = fw / (box[2] - box[0])
    # picture size: a head-and-shoulders crop to a half-body shot, sometimes landscape
    w = int(fw * rng.uniform(1.6, 3.6))
    h = int(w * rng.uniform(0.7, 1.5))
    cx = w / 2 + rng.uniform(-0.25, 0.25) * (w - fw)
    cy = rng.uniform(0.6, 1.1) * fw + rng.uniform(0, 0.3) * max(0.0, h - 2.2 * fw)
    bc = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
    m = np.array([[k, 0, cx - k * bc[0]], [0, k, cy - k * bc[1]]])
    placed = scenes.place(body, m, w, h)
    true = np.array([cx - k * (box[2] - box[0]) / 2, cy - k * (box[3] - box[1]) / 2,
                     cx + k * (box[2] - box[0]) / 2, cy + k * (box[3] - box[1]) / 2])
    image, fmt = backdrop(rng, placed)
    return Case(image, true, box, name, fmt)


def backdrop(rng: np.random.Generator, placed: np.ndarray) -> tuple[np.ndarray, str]:
    """A placed character as users' art arrives: (picture, "png" or "jpg"). A quarter stay
    transparent PNGs; the rest go on white, a plain colour or a gradient (backgrounds prepare
    can remove), saved as JPEG or PNG."""
    h, w = placed.shape[:2]
    kind = rng.random()
    if kind < 0.25:  # transparent PNG, not framed to the convention
        return placed, "png"
    if kind < 0.6:
        bg = np.full((h, w, 3), 255, np.uint8)
    elif kind < 0.8:
        bg = np.broadcast_to(rng.uniform(60, 255, 3), (h, w, 3)).astype(np.uint8).copy()
    else:
        a, b = rng.uniform(60, 255, 3), rng.uniform(60, 255, 3)
        bg = (a + (b - a) * np.linspace(0, 1, h)[:, None, None] * np.ones((1, w, 1))).astype(np.uint8)
    rgb = scenes.composite(placed, bg)
    return rgb, "jpg" if rng.random() < 0.6 else "png"


def write_case(case: Case, path: Path, exif_rotate: bool = False) -> Path:
    if case.image.shape[2] == 4:
        Image.fromarray(case.image, "RGBA").save(path, compress_level=1)
        return path
    img = Image.fromarray(case.image, "RGB")
    if exif_rotate:  # stored turned a quarter left, with EXIF orientation 6 to turn it back
        ex = Image.Exif()
        ex[0x0112] = 6
        img.transpose(Image.Transpose.ROTATE_90).save(path, quality=90, exif=ex.tobytes())
    elif case.fmt == "jpg":
        img.save(path, quality=int(np.random.default_rng(len(case.name)).integers(80, 96)))
    else:
        img.save(path, compress_level=1)
    return path


def cmd_locator(args) -> int:
    from app.intake.locate import MIN_SCORE, FaceLocator
    from app.intake.prepare import on_white

    loc = FaceLocator()
    rng = np.random.default_rng(args.seed)
    rows = []
    for i in range(args.n):
        rgba, box, name = test_character(i % max(args.characters, 1))
        case = make_case(rng, rgba, box, name)
        img = case.image if case.image.shape[2] == 3 else on_white(case.image)
        if case.fmt == "jpg":
            img = scenes.jpeg(img, 85)
        t = time.perf_counter()
        f = loc.locate(img)
        ms = (time.perf_counter() - t) * 1000
        tw = case.box[2] - case.box[0]
        tc = (case.box[:2] + case.box[2:]) / 2
        rows.append((f.score, np.hypot(f.cx - tc[0], f.cy - tc[1]) / tw, f.w / tw - 1, ms, name))
    score = np.array([r[0] for r in rows])
    cerr = np.array([r[1] for r in rows])
    werr = np.array([r[2] for r in rows])
    ms = np.array([r[3] for r in rows])
    hit = (score >= MIN_SCORE) & (cerr < 0.2) & (np.abs(werr) < 0.2)
    print(f"{len(rows)} pictures, {args.characters} characters never trained on "
          f"(default character + seeds {EVAL_SEED0 + 1}..)")
    print(f"found (confidence >= {MIN_SCORE}): {np.mean(score >= MIN_SCORE):.1%}; hit (found, "
          f"centre within 20% and width within 20% of the face width): {hit.mean():.1%}")
    print(f"centre error / face width: median {np.median(cerr):.3f}, 90th pct "
          f"{np.percentile(cerr, 90):.3f}, max {cerr.max():.3f}")
    print(f"width error: median |{np.median(np.abs(werr)):.3f}|, 90th pct "
          f"{np.percentile(np.abs(werr), 90):.3f}, max {np.abs(werr).max():.3f}")
    print(f"time per picture: median {np.median(ms):.1f} ms, max {ms.max():.1f} ms (1 thread)")
    return 0


def run_prepare_cases(n: int, out_dir: Path, characters: int, seed: int):
    """Write n test pictures, run `omokage prepare` on each, and measure where the true face
    box ends up in the written 512x512 file. Returns (results, failures)."""
    from app.cli import main as omokage
    from app.intake.command import read_framing

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    results, failures = [], []
    for i in range(n):
        rgba, box, name = test_character(i % max(characters, 1))
        case = make_case(rng, rgba, box, name)
        rot = case.image.shape[2] == 3 and i % 10 == 3
        src = write_case(case, out_dir / f"in_{i:03d}_{name}.{'jpg' if rot else case.fmt}", rot)
        dst = out_dir / f"out_{i:03d}_{name}.png"
        code = omokage(["prepare", str(src), "--out", str(dst), "--quiet"])
        if code != 0 or not dst.exists():
            failures.append(f"{src.name}: omokage prepare exited {code}")
            continue
        written = np.asarray(Image.open(dst))  # read back by Pillow
        if written.shape != (512, 512, 4) or written[0, 0, 3] != 0:
            failures.append(f"{src.name}: not a 512x512 RGBA with a transparent corner")
        # Where the true face landed: the framing the command stored in the PNG, applied to
        # the true box.
        scale, tx, ty = read_framing(dst)
        b = case.box
        x0, y0, x1, y1 = b[0] * scale + tx, b[1] * scale + ty, b[2] * scale + tx, b[3] * scale + ty
        cx, cy, w = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0
        own_w = case.conv_box[2] - case.conv_box[0]
        results.append(dict(name=src.name, centre_err=float(np.hypot(cx - TARGET_CX, cy - TARGET_CY)),
                            size_err=float(w / TARGET_W - 1), own_size_err=float(w / own_w - 1),
                            alpha_border=float((written[..., 3][[0, -1]] > 0).mean())))
    return results, failures


def cmd_prepare(args) -> int:
    results, failures = run_prepare_cases(args.n, Path(args.dir), args.characters, args.seed)
    ok = [r for r in results if r["centre_err"] <= 6 and abs(r["size_err"]) <= 0.10]
    for r in results:
        flag = "ok " if r in ok else "BAD"
        print(f"{flag} {r['name']:<32} centre {r['centre_err']:5.2f} px  size {r['size_err']:+6.1%}"
              f"  (vs its own convention image {r['own_size_err']:+6.1%})")
    for f in failures:
        print("FAIL", f)
    ce = np.array([r["centre_err"] for r in results])
    se = np.abs([r["size_err"] for r in results])
    print(f"{len(ok)}/{args.n} within 6 px and 10% of the target (centre ({TARGET_CX}, "
          f"{TARGET_CY}), width {TARGET_W} px); centre error median {np.median(ce):.2f} max "
          f"{ce.max():.2f} px; size error median {np.median(se):.1%} max {se.max():.1%}")
    return 0 if len(ok) == args.n and not failures else 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("locator")
    p.add_argument("--n", type=int, default=300)
    p.add_argument("--characters", type=int, default=60)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_locator)
    p = sub.add_parser("prepare")
    p.add_argument("--n", type=int, default=40)
    p.add_argument("--characters", type=int, default=40)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--dir", default="/tmp/omokage-prepare-eval")
    p.set_defaults(func=cmd_prepare)
    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
