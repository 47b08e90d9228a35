"""Measure the face locator and the whole prepare step on characters never used in training.

    python -m app.intake.evaluate locator --n 300 [--looks own] [--model X.onnx]
                                                          # hit rate, box errors, ms/image
    python -m app.intake.evaluate prepare --n 40 --dir /tmp/prep   # omokage prepare end to end

Test characters are procedural ones drawn from EVAL_SEED0 on (training draws its banks from
seeds 1,000,000 and 2,000,000 + seed * bank size on, far below) and the bundled default
character; each is placed at another scale and offset, cropped, on an opaque or transparent
background, as JPEG or PNG. The locator is scored on the face outline (hit rate, centre and
width error) and on the convention face box it frames by, whose truth comes from the
character's true eyes and mouth (what closing the eyes and opening the mouth change) by the
convention's rule (engines.convention.face_framing); prepare is scored on where that box lands.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from app.intake import scenes
from app.intake.frame import TARGET_CX, TARGET_CY, TARGET_W

EVAL_SEED0 = 5_000_000
ROOT = Path(__file__).resolve().parents[2]


def default_identity():
    from engines.datagen.procedural.identity import Identity

    return Identity(**json.loads((ROOT / "assets" / "default_character.json").read_text()))


def default_character() -> tuple[np.ndarray, np.ndarray]:
    from engines.datagen.procedural.render import draw_character

    ident = default_identity()
    return draw_character(ident, {}), scenes.face_box(ident, {})


def test_identity(i: int, looks: str = "plain"):
    """The identity of test character i (0: the default character)."""
    if i == 0:
        return default_identity()
    from engines.datagen.procedural.identity import sample_identity
    from engines.datagen.procedural.look import Look

    ident = sample_identity(np.random.default_rng(EVAL_SEED0 + i))
    if looks == "plain":
        return replace(ident, look=Look())
    if looks != "own":
        raise ValueError(f"looks must be 'plain' or 'own', not {looks!r}")
    return ident


def test_character(i: int, looks: str = "plain") -> tuple[np.ndarray, np.ndarray, str]:
    """(convention RGBA at rest, its face box, name): i = 0 is the default character.
    looks "plain": every character in the default drawing style (Look()), so the figures stay
    those of one fixed set of pictures; "own": each in the style sampled with it (lines,
    shading, texture), as the generator draws characters now."""
    if i == 0:
        rgba = np.asarray(Image.open(ROOT / "assets" / "default_character.png").convert("RGBA"))
        return rgba, default_character()[1], "default"
    from engines.datagen.procedural.render import draw_character

    ident = test_identity(i, looks)
    return draw_character(ident, {}), scenes.face_box(ident, {}), f"seed{EVAL_SEED0 + i}"


def test_features(i: int, looks: str = "plain") -> np.ndarray:
    """Eyes and mouth boxes (2x4, pixel centres) of test character i in its convention image,
    measured as the Live2D framing measures a rig's."""
    eyes, mouth = scenes.feature_boxes(test_identity(i, looks), {})
    return np.array([eyes, mouth]) - 0.5


def convention_box(features: np.ndarray) -> np.ndarray:
    """The face box (x0, y0, x1, y1, pixel centres) that app.intake.frame takes to the target
    when the picture's eyes and mouth are `features`: where the convention wants the face."""
    from app.intake.locate import rule_framing

    s, tx, ty = rule_framing(tuple(features[0]), tuple(features[1]))
    w = TARGET_W / s
    cx, cy = (TARGET_CX - tx) / s, (TARGET_CY - ty) / s
    return np.array([cx - w / 2, cy - w / 2, cx + w / 2, cy + w / 2])


def default_by_rule() -> np.ndarray:
    """The bundled default character framed by the convention's rule from its eyes and mouth,
    as prepare frames a picture of it (a little smaller than its own convention image)."""
    from app.intake.frame import framing_for, warp
    from app.intake.locate import FaceBox

    x0, y0, x1, y1 = convention_box(test_features(0))
    rgba = np.asarray(Image.open(ROOT / "assets" / "default_character.png").convert("RGBA"))
    return warp(rgba, framing_for(FaceBox((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0)))


@dataclass
class Case:
    image: np.ndarray  # RGB (opaque) or RGBA (transparent background)
    box: np.ndarray  # true face box in the image
    conv_box: np.ndarray  # the same character's face box in its convention image
    name: str
    fmt: str  # "jpg" or "png"
    features: np.ndarray | None = None  # true eyes and mouth boxes in the image (2x4)


def make_case(rng: np.random.Generator, rgba: np.ndarray, box: np.ndarray, name: str,
              features: np.ndarray | None = None) -> Case:
    """The convention image at another scale and offset, maybe cropped, on a background;
    `features` (eyes and mouth boxes in the convention image) are traced along."""
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
    if features is not None:
        features = features * k + np.array([m[0, 2], m[1, 2], m[0, 2], m[1, 2]])
    image, fmt = backdrop(rng, placed)
    return Case(image, true, box, name, fmt, features)


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

    loc = FaceLocator(args.model) if args.model else FaceLocator()
    rng = np.random.default_rng(args.seed)
    rows, bases = [], []
    for i in range(args.n):
        j = i % max(args.characters, 1)
        rgba, box, name = test_character(j, args.looks)
        case = make_case(rng, rgba, box, name, test_features(j, args.looks))
        img = case.image if case.image.shape[2] == 3 else on_white(case.image)
        if case.fmt == "jpg":
            img = scenes.jpeg(img, 85)
        t = time.perf_counter()
        f = loc.locate(img)
        ms = (time.perf_counter() - t) * 1000
        bases.append(f.basis)
        o = np.array(f.outline_box)
        tw, tc = case.box[2] - case.box[0], (case.box[:2] + case.box[2:]) / 2
        conv = convention_box(case.features)
        cw, cc = conv[2] - conv[0], (conv[:2] + conv[2:]) / 2
        rows.append((f.score, np.hypot(*((o[:2] + o[2:]) / 2 - tc)) / tw, (o[2] - o[0]) / tw - 1,
                     np.hypot(f.cx - cc[0], f.cy - cc[1]) / cw, f.w / cw - 1, ms))
    score, cerr, werr, kerr, kw, ms = (np.array(c) for c in zip(*rows))
    hit = (score >= MIN_SCORE) & (cerr < 0.2) & (np.abs(werr) < 0.2)
    # prepare's tolerance (6 px, 10% at the 95 px target width) as a share of the face width
    placed = (score >= MIN_SCORE) & (kerr <= 6 / TARGET_W) & (np.abs(kw) <= 0.10)
    print(f"{len(rows)} pictures, {args.characters} characters never trained on "
          f"(default character + seeds {EVAL_SEED0 + 1}..), {args.looks} looks")
    print(f"found (confidence >= {MIN_SCORE}): {np.mean(score >= MIN_SCORE):.1%}; hit (found, "
          f"outline centre within 20% and width within 20% of the face width): {hit.mean():.1%}")
    print(f"face outline: centre error / face width median {np.median(cerr):.3f}, 90th pct "
          f"{np.percentile(cerr, 90):.3f}, max {cerr.max():.3f}; width error median "
          f"|{np.median(np.abs(werr)):.3f}|, 90th pct {np.percentile(np.abs(werr), 90):.3f}, "
          f"max {np.abs(werr).max():.3f}")
    print(f"convention face box (what prepare frames by; truth from the true eyes and mouth by "
          f"the convention's rule): centre error / box width median {np.median(kerr):.3f}, 90th "
          f"pct {np.percentile(kerr, 90):.3f}; width error median {np.median(kw):+.3f}, median "
          f"|{np.median(np.abs(kw)):.3f}|, 90th pct {np.percentile(np.abs(kw), 90):.3f}, max "
          f"{np.abs(kw).max():.3f}; within prepare's 6 px and 10%: {placed.mean():.1%}")
    kinds = {b: bases.count(b) for b in sorted(set(bases))}
    print("box set by: " + ", ".join(f"{b or 'hand'} {n}" for b, n in kinds.items()))
    print(f"time per picture: median {np.median(ms):.1f} ms, max {ms.max():.1f} ms (1 thread)")
    return 0


def run_prepare_cases(n: int, out_dir: Path, characters: int, seed: int):
    """Write n test pictures, run `omokage prepare` on each, and measure where the face lands
    in the written 512x512 file: the convention face box (from the character's true eyes and
    mouth by the convention's rule), and for comparison the face outline. Returns (results,
    failures)."""
    from app.cli import main as omokage
    from app.intake.command import read_framing

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    results, failures = [], []
    for i in range(n):
        j = i % max(characters, 1)
        rgba, box, name = test_character(j)
        case = make_case(rng, rgba, box, name, test_features(j))
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
        # Where the true boxes landed: the framing the command stored in the PNG, applied.
        scale, tx, ty = read_framing(dst)

        def landed(b):
            x0, y0, x1, y1 = b[0] * scale + tx, b[1] * scale + ty, b[2] * scale + tx, b[3] * scale + ty
            return (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0

        cx, cy, w = landed(convention_box(case.features))
        results.append(dict(name=src.name, centre_err=float(np.hypot(cx - TARGET_CX, cy - TARGET_CY)),
                            size_err=float(w / TARGET_W - 1),
                            outline_size_err=float(landed(case.box)[2] / TARGET_W - 1),
                            alpha_border=float((written[..., 3][[0, -1]] > 0).mean())))
    return results, failures


def cmd_prepare(args) -> int:
    results, failures = run_prepare_cases(args.n, Path(args.dir), args.characters, args.seed)
    ok = [r for r in results if r["centre_err"] <= 6 and abs(r["size_err"]) <= 0.10]
    for r in results:
        flag = "ok " if r in ok else "BAD"
        print(f"{flag} {r['name']:<32} centre {r['centre_err']:5.2f} px  size {r['size_err']:+6.1%}"
              f"  (face outline {r['outline_size_err']:+6.1%} of the default character's)")
    for f in failures:
        print("FAIL", f)
    ce = np.array([r["centre_err"] for r in results])
    se = np.abs([r["size_err"] for r in results])
    print(f"{len(ok)}/{args.n} within 6 px and 10% of where the convention wants the face (its "
          f"box at centre ({TARGET_CX}, {TARGET_CY}), width {TARGET_W} px); centre error median "
          f"{np.median(ce):.2f} max {ce.max():.2f} px; size error median {np.median(se):.1%} "
          f"max {se.max():.1%}")
    return 0 if len(ok) == args.n and not failures else 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("locator")
    p.add_argument("--n", type=int, default=300)
    p.add_argument("--characters", type=int, default=60)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--looks", choices=("plain", "own"), default="plain",
                   help="plain: the default drawing style; own: each character's own look")
    p.add_argument("--model", type=Path, default=None,
                   help="a face locator ONNX file to measure (default: the shipped one)")
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
