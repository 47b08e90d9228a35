"""Does a prepared picture animate as well as the true convention image?

    python -m app.intake.prepare_eval --n 30 --json /tmp/prepare_eval.json

Test pictures come from allowed Live2D characters (the validation rigs koharu and haruto and
some training rigs; never the held-out rig): each is rendered natively at another scale and
offset into a picture of another size (so the body and the sides may be cut off), left
transparent or put on white, a plain colour or a gradient, and saved as JPEG or PNG.
`omokage prepare` (the real command and face locator) frames each one; the framing it stores
in the PNG traces every point of the character's true convention image into the prepared one.

- Placement: the convention's face (target centre and width, where the true convention image
  has it) traced into the prepared image: centre error in px, size error in %.
- Animation: the engine animates the prepared image and the true convention image at the
  eval's eyes, mouth and head-yaw poses (engines.neural.evaluate.CATEGORIES). Each output is
  scored with the eval's changed-region PSNR against the character truly rendered at that pose
  in the framing of its own input (for the prepared image, the framing prepare chose, rendered
  afresh). The gap is prepared minus convention, in dB; 0 means preparing lost nothing.

The gap splits into placement (the true render in the framing prepare chose, animated, minus
the convention image: what landing the face elsewhere costs) and picture (the prepared image
minus that: resampling, JPEG, background removal, crops). The resampling floor is the gap of
the convention image itself drawn at 4x and shrunk to 512 by area averaging: the engine
learned from the renderer's own 512 px drawings and the truth is one of them, so every picture
larger than the canvas starts about that far behind; gap-floor is what prepare adds to it.

That truth asks the engine to turn a resampled picture into the renderer's own 512 px
drawing, texture sampling and edge aliasing included. The own-pixels gap judges each image
against its own truth instead: the test picture drawn at the pose (at its own size, on no
background) and framed exactly as prepare framed the rest picture. Two truths drawn
differently change which pixels count as changed and how far the rest image is from them,
so this gap compares gains over each image's own identity baseline (the eval's headline
figure), not raw PSNR. It still counts placement, JPEG, background removal, crops and how
the engine copes with a picture not drawn by its training renderer. Its floor: the
convention image drawn at 4x and shrunk, against its poses drawn the same way.

A picture fails when prepare refuses it, the face lands more than 6 px or 10% off, or a
category's gap is below -1 dB.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from app.intake import evaluate as intake_eval
from app.intake.frame import TARGET_CX, TARGET_CY, TARGET_W, Framing, extend_body, warp
from engines.convention import EVAL_HEAD_REGION

POSES: dict[str, str] = {"eyes": "eyes", "mouth": "mouth", "yaw": "head_yaw"}  # ours -> eval's
DEFAULT_CHARACTERS = ("koharu", "haruto", "chitose", "izumi", "shizuku")
MAX_CENTRE_PX, MAX_SIZE, MAX_GAP_DB = 6.0, 0.10, 1.0
MAX_SIDE = 2048


@dataclass
class Result:
    name: str  # the test picture's file name
    character: str
    background: str  # "transparent" or "opaque"
    fmt: str
    size: tuple[int, int]
    face_px: float  # the convention face's width in the test picture
    error: str = ""  # prepare refused the picture
    centre_err: float = math.nan  # px in the prepared image
    size_err: float = math.nan  # prepared face width / convention face width - 1
    convention: dict[str, float] = field(default_factory=dict)  # category -> mean PSNR dB
    prepared: dict[str, float] = field(default_factory=dict)
    framed: dict[str, float] = field(default_factory=dict)  # true render, prepare's framing
    gap: dict[str, float] = field(default_factory=dict)  # prepared - convention, dB
    floor: dict[str, float] = field(default_factory=dict)  # the character's resampling floor
    own: dict[str, float] = field(default_factory=dict)  # prepared's gain, own truth, dB
    own_gap: dict[str, float] = field(default_factory=dict)  # own - convention's gain, dB
    own_floor: dict[str, float] = field(default_factory=dict)

    def problems(self) -> list[str]:
        if self.error:
            return [self.error]
        out = []
        if not self.centre_err <= MAX_CENTRE_PX:
            out.append(f"face centre {self.centre_err:.1f} px off")
        if not abs(self.size_err) <= MAX_SIZE:
            out.append(f"face size {self.size_err:+.1%}")
        out += [f"{c} {g:+.2f} dB" for c, g in self.gap.items() if not g >= -MAX_GAP_DB]
        return out


class Subject:
    """One allowed Live2D character: its true renders at any framing, and the engine's
    scores on its true convention image (computed once)."""

    def __init__(self, name: str, engine) -> None:
        from app.intake.prepare import find_face
        from engines.datagen.live2d import Live2DCharacter
        from engines.datagen.live2d.models import HUMAN_HELDOUT, fetch_model

        if name in HUMAN_HELDOUT:
            raise ValueError(f"{name} is the held-out rig, scored once per release by "
                             "`omokage eval --live2d-heldout` only; choose another character")
        self.name = name
        self.engine = engine
        self.ch = Live2DCharacter(fetch_model(name))
        self.framing = self.ch.framing
        rest = self.ch.render({})
        # The resampling floors (see the module docstring)
        shrunk = self.ch.render({}, supersample=4)
        both = self.scores({"c": rest, "r": shrunk}, 1.0, 0.0, 0.0)
        self.convention, self.resampled = both["c"], both["r"]
        self.floor = {c: _mean_gap([(self.resampled[c], self.convention[c])]) for c in POSES}
        self.convention_gain = self.gains_against(rest, self.ch.render)
        own = self.gains_against(shrunk, lambda pose: self.ch.render(pose, supersample=4))
        self.own_floor = {c: _mean_gap([(own[c], self.convention_gain[c])]) for c in POSES}
        # Where the locator sees the face in the true convention image: a character-wide
        # bias of prepare shows here (the locator's box comes from the eyes and mouth by the
        # rule that framed these rigs, or, when it is unsure of them, from the face outline
        # where the procedural default character has it).
        self.seen = find_face(rest)

    def render(self, pose: dict, scale: float, tx: float, ty: float) -> np.ndarray:
        """The true 512x512 render with convention px mapped to px * scale + (tx, ty)."""
        return self.ch.render(pose, framing=self._framing(scale, tx, ty, 512))

    def picture(self, scale: float, tx: float, ty: float, w: int, h: int,
                pose: dict | None = None) -> np.ndarray:
        """The true render (rest by default) as a w x h picture, rendered at that size (not
        resampled)."""
        side = max(w, h)
        return self.ch.render(pose or {}, framing=self._framing(scale, tx, ty, side),
                              size=side)[:h, :w]

    def _framing(self, scale, tx, ty, size):
        from engines.datagen.live2d.framing import Framing

        f, k = self.framing, 512.0 / size  # render() takes 512-canvas units
        return Framing(f.scale * scale * k, (f.tx * scale + tx) * k, (f.ty * scale + ty) * k)

    def scores(self, images: dict[str, np.ndarray], scale: float, tx: float,
               ty: float) -> dict[str, dict[str, list[float]]]:
        """Changed-region PSNR per image, category and pose of the engine animating each of
        `images`, whose truth is this character at the framing (scale, tx, ty) of its
        convention image (the true renders are drawn once for all of them)."""
        return self._scores(images, lambda pose: self.render(pose, scale, tx, ty))

    def gains_against(self, image: np.ndarray, truth_of) -> dict[str, list[float]]:
        """Changed-region gain over identity per category and pose of the engine animating
        `image`, whose truth at a pose is `truth_of(pose)` (an RGBA image in the image's own
        pixels; its rest is `truth_of({})`)."""
        return self._scores({"x": image}, truth_of, gain=True)["x"]

    def _scores(self, images: dict[str, np.ndarray], truth_of,
                gain: bool = False) -> dict[str, dict[str, list[float]]]:
        from engines.neural.compose import over_grey
        from engines.neural.evaluate import CATEGORIES, changed_region, psnr_changed

        prepared = {k: self.engine.prepare(im) for k, im in images.items()}
        rest = over_grey(truth_of({}))
        out = {k: {cat: [] for cat in POSES} for k in images}
        for cat, eval_cat in POSES.items():
            for pose in CATEGORIES[eval_cat]:
                truth = over_grey(truth_of(pose))
                changed = changed_region(rest, truth)
                base = psnr_changed(rest, truth, changed) if gain else 0.0
                for k, p in prepared.items():
                    out[k][cat].append(psnr_changed(over_grey(self.engine.render(p, pose)),
                                                    truth, changed) - base)
        return out


def picture_geometry(rng: np.random.Generator) -> tuple[float, float, float, int, int]:
    """(scale, tx, ty, w, h): the convention image mapped into a w x h picture with the face
    110-420 px wide. The picture always shows the region the eval scores (the convention's
    x 128-384, y 0-256: what a picture does not show cannot be animated) and is cut anywhere
    outside it (at the chest or lower, on either side, with more or less room above the
    head); portrait or landscape, at most MAX_SIDE px a side."""
    fw = float(rng.uniform(110, 420))
    k = fw / TARGET_W
    x0, y0, x1, y1 = EVAL_HEAD_REGION
    r = (x1 - x0) * k  # the head region's side in the picture
    w, h = r * rng.uniform(1.0, 2.0), r * rng.uniform(1.0, 2.2)
    shrink = min(1.0, MAX_SIDE / max(w, h))
    w, h = int(max(r + 2, w * shrink)), int(max(r + 2, h * shrink))
    left = rng.uniform(0, w - r - 1)
    top = rng.uniform(0, 0.3) * (h - r - 1)
    return k, left - k * x0, top - k * y0, w, h


def run_case(subject: Subject, rng: np.random.Generator, index: int, out_dir: Path) -> Result:
    from app.cli import main as omokage
    from app.intake.command import read_framing

    k, ox, oy, w, h = picture_geometry(rng)
    image, fmt = intake_eval.backdrop(rng, subject.picture(k, ox, oy, w, h))
    half = TARGET_W / 2  # the convention's face box (as wide as tall) in the picture
    true_box = np.array([TARGET_CX - half, TARGET_CY - half, TARGET_CX + half,
                         TARGET_CY + half]) * k + np.array([ox, oy, ox, oy])
    case = intake_eval.Case(image, true_box, true_box, subject.name, fmt)
    rot = image.shape[2] == 3 and index % 10 == 3  # some phones store pictures turned
    src = intake_eval.write_case(case, out_dir / f"in_{index:03d}_{subject.name}."
                                 f"{'jpg' if rot else fmt}", rot)
    dst = out_dir / f"out_{index:03d}_{subject.name}.png"
    res = Result(src.name, subject.name, "transparent" if image.shape[2] == 4 else "opaque",
                 src.suffix[1:], (w, h), k * TARGET_W)
    code = omokage(["prepare", str(src), "--out", str(dst), "--quiet"])
    if code != 0 or not dst.exists():
        res.error = f"omokage prepare exited {code}"
        return res
    prepared = np.asarray(Image.open(dst).convert("RGBA"))
    s, tx, ty = read_framing(dst)
    # convention px -> picture px -> prepared px. Renders place pixel edges (pixel i spans
    # i..i+1), the stored framing pixel centres (OpenCV's warp): half a pixel apart, which
    # on line art is worth several dB.
    sc, tcx, tcy = s * k, s * ox + tx + 0.5 * (1 - s), s * oy + ty + 0.5 * (1 - s)
    res.centre_err = float(np.hypot(sc * TARGET_CX + tcx - TARGET_CX,
                                    sc * TARGET_CY + tcy - TARGET_CY))
    res.size_err = float(sc - 1.0)
    # The control: the true render in the framing prepare chose, which separates what the
    # placement costs (framed - convention) from what the picture costs (prepared - framed:
    # resampling, JPEG, background removal, crops).
    framed = subject.render({}, sc, tcx, tcy)
    mine = subject.scores({"prepared": prepared, "framed": framed}, sc, tcx, tcy)
    # The truth in the prepared image's own pixels: the picture drawn at the pose, framed as
    # prepare framed it (see the module docstring).
    fr = Framing(s, tx, ty)
    own = subject.gains_against(prepared, lambda pose: warp(
        extend_body(subject.picture(k, ox, oy, w, h, pose), fr)[0], fr))
    for cat in POSES:
        rows = [v for v in zip(mine["prepared"][cat], mine["framed"][cat], subject.convention[cat],
                               own[cat], subject.convention_gain[cat])
                if all(math.isfinite(x) for x in v)]  # poses the rig really changes
        if not rows:
            continue
        p, f, c, o, cg = np.mean(rows, axis=0)
        res.prepared[cat], res.framed[cat], res.convention[cat] = float(p), float(f), float(c)
        res.gap[cat] = float(p - c)
        res.floor[cat] = subject.floor[cat]
        res.own[cat], res.own_gap[cat] = float(o), float(o - cg)
        res.own_floor[cat] = subject.own_floor[cat]
    return res


def run(characters: list[str], n: int, out_dir: Path, seed: int = 0, engine=None,
        say=print, weights: Path | None = None) -> tuple[list[Result], list[Subject]]:
    """n test pictures spread over `characters`, each prepared, animated and scored by
    `engine`, or by an engine built from `weights` (None: the shipped weights)."""
    if engine is None:
        from app.build import PipelineOptions, build_engine

        engine = build_engine(PipelineOptions(threads=1, weights=weights))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    subjects = [Subject(c, engine) for c in characters]
    rng = np.random.default_rng(seed)
    results = []
    for i in range(n):
        r = run_case(subjects[i % len(subjects)], rng, i, out_dir)
        say(_line(r))
        results.append(r)
    return results, subjects


def _line(r: Result) -> str:
    head = f"{r.name:<26} {r.background:<11} face {r.face_px:4.0f}px"
    if r.error:
        return f"FAIL {head}  {r.error}"
    flag = "BAD " if r.problems() else "ok  "
    gaps = "  ".join(f"{c} {r.gap.get(c, math.nan):+5.2f}" for c in POSES)
    own = "  ".join(f"{c} {r.own_gap.get(c, math.nan):+5.2f}" for c in POSES)
    return (f"{flag}{head}  centre {r.centre_err:4.1f}px size {r.size_err:+6.1%}  gap dB: {gaps}"
            f"  own pixels: {own}")


def _mean_gap(pairs) -> float:
    """Mean over characters of the mean difference over poses the rig changes."""
    per = []
    for a, b in pairs:
        d = [x - y for x, y in zip(a, b) if math.isfinite(x) and math.isfinite(y)]
        if d:
            per.append(np.mean(d))
    return float(np.mean(per)) if per else math.nan


def summary(results: list[Result], subjects: list[Subject] = ()) -> list[str]:
    done = [r for r in results if not r.error]
    lines = [f"{len(results)} pictures of {len({r.character for r in results})} characters "
             f"({', '.join(sorted({r.character for r in results}))}); {len(done)} prepared"]
    for sub in subjects:
        f = sub.seen
        lines.append(f"  the locator on {sub.name}'s true convention image: centre "
                     f"({f.cx - TARGET_CX:+.1f}, {f.cy - TARGET_CY:+.1f}) px from the target, "
                     f"width {f.w / TARGET_W - 1:+.1%}" + (f" (from the {f.basis})" if f.basis else ""))
    if subjects:
        floor = "  ".join(f"{c} {np.nanmean([s.floor[c] for s in subjects]):+5.2f}"
                          for c in POSES)
        lines.append(f"  resampling floor (the convention image drawn at 4x and shrunk to 512, "
                     f"minus the convention image), dB: {floor}")
        floor = "  ".join(f"{c} {np.nanmean([s.own_floor[c] for s in subjects]):+5.2f}"
                          for c in POSES)
        lines.append(f"  own-pixels floor (the same, gain against its poses drawn the same "
                     f"way, minus the convention image's gain), dB: {floor}")
    if done:
        ce = np.array([r.centre_err for r in done])
        se = np.abs([r.size_err for r in done])
        lines.append(f"placement: centre error median {np.median(ce):.2f} max {ce.max():.2f} px; "
                     f"size error median {np.median(se):.1%} max {se.max():.1%}; within "
                     f"{MAX_CENTRE_PX:.0f} px and {MAX_SIZE:.0%}: "
                     f"{sum((ce <= MAX_CENTRE_PX) & (se <= MAX_SIZE))}/{len(done)}")
        lines.append(f"{'category':<8} {'convention dB':>13} {'prepared dB':>11} {'gap mean':>9} "
                     f"{'median':>7} {'worst':>7} {'within 1 dB':>11} {'placement':>9} "
                     f"{'picture':>8} {'floor':>6} {'gap-floor':>9}")
        for cat in POSES:
            rows = [r for r in done if cat in r.gap]
            g = np.array([r.gap[cat] for r in rows])
            lines.append(f"{cat:<8} {np.mean([r.convention[cat] for r in rows]):>13.2f} "
                         f"{np.mean([r.prepared[cat] for r in rows]):>11.2f} {g.mean():>+9.2f} "
                         f"{np.median(g):>+7.2f} {g.min():>+7.2f} "
                         f"{int((g >= -MAX_GAP_DB).sum()):>6}/{len(g):<4} "
                         f"{np.mean([r.framed[cat] - r.convention[cat] for r in rows]):>+9.2f} "
                         f"{np.mean([r.prepared[cat] - r.framed[cat] for r in rows]):>+8.2f} "
                         f"{np.nanmean([r.floor[cat] for r in rows]):>+6.2f} "
                         f"{np.nanmean([r.gap[cat] - r.floor[cat] for r in rows]):>+9.2f}")
        lines.append("gain over identity, each image against its own truth:")
        lines.append(f"{'category':<8} {'own gain dB':>13} {'gap mean':>9} {'median':>7} "
                     f"{'worst':>7} {'within 1 dB':>11} {'floor':>6} {'gap-floor':>9}")
        for cat in POSES:
            rows = [r for r in done if cat in r.own_gap]
            g = np.array([r.own_gap[cat] for r in rows])
            lines.append(f"{cat:<8} {np.mean([r.own[cat] for r in rows]):>13.2f} "
                         f"{g.mean():>+9.2f} {np.median(g):>+7.2f} {g.min():>+7.2f} "
                         f"{int((g >= -MAX_GAP_DB).sum()):>6}/{len(g):<4} "
                         f"{np.nanmean([r.own_floor[cat] for r in rows]):>+6.2f} "
                         f"{np.nanmean([r.own_gap[cat] - r.own_floor[cat] for r in rows]):>+9.2f}")

        def mean_gaps(mine: list[Result]) -> str:
            return "  ".join(f"{c} {np.mean([r.gap[c] for r in mine if c in r.gap]):+5.2f} / "
                             f"{np.mean([r.own_gap[c] for r in mine if c in r.own_gap]):+5.2f}"
                             for c in POSES)

        for who in sorted({r.character for r in done}):
            mine = [r for r in done if r.character == who]
            lines.append(f"  {who:<9} {len(mine)} pictures, mean gap / own-pixels gap dB: "
                         f"{mean_gaps(mine)}; centre {np.mean([r.centre_err for r in mine]):.1f}"
                         f" px, size {np.mean([r.size_err for r in mine]):+.1%}")
        for kind in ("transparent png", "opaque png", "opaque jpg"):
            mine = [r for r in done if f"{r.background} {r.fmt}" == kind]
            if mine:
                lines.append(f"  {kind:<15} {len(mine):>2} pictures, mean gap / own-pixels gap "
                             f"dB: {mean_gaps(mine)}")
    bad = [r for r in results if r.problems()]
    lines.append(f"failures: {len(bad)}/{len(results)}")
    lines += [f"  {r.name}: {'; '.join(r.problems())}" for r in bad]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m app.intake.prepare_eval",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30, help="test pictures (default 30)")
    ap.add_argument("--characters", default=",".join(DEFAULT_CHARACTERS),
                    help="allowed Live2D characters, comma-separated (default %(default)s)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/omokage-prepare-eval-live2d"),
                    help="where the test pictures and prepared images are written")
    ap.add_argument("--json", type=Path, default=None, help="every picture's figures")
    ap.add_argument("--weights", type=Path, default=None,
                    help="engine weights folder to score (default: the shipped weights)")
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error("--n must be at least 1")
    from engines.datagen.live2d.models import ALL, HUMAN_HELDOUT

    chars = [c.strip() for c in args.characters.split(",") if c.strip()]
    for c in chars:
        if c in HUMAN_HELDOUT:
            ap.error(f"--characters: {c} is the held-out rig, scored once per release by "
                     "`omokage eval --live2d-heldout` only; choose another character")
        if c not in ALL:
            ap.error(f"--characters: {c!r} is not an allowed Live2D character; choose from "
                     f"{', '.join(n for n in ALL if n not in HUMAN_HELDOUT)}")
    if not chars:
        ap.error("--characters: name at least one character")
    if args.weights is not None and not (args.weights / "manifest.json").is_file():
        ap.error(f"--weights: {args.weights} holds no manifest.json; give a folder written by "
                 "`python -m engines.neural.export --out FOLDER`")
    t = time.perf_counter()
    results, subjects = run(chars, args.n, args.dir, args.seed, weights=args.weights)
    for line in summary(results, subjects):
        print(line)
    print(f"({time.perf_counter() - t:.0f} s)")
    if args.json:
        from app.settings import atomic_write_text

        rows = [{k: (None if isinstance(v, float) and math.isnan(v) else v)
                 for k, v in asdict(r).items()} for r in results]  # NaN is not JSON
        atomic_write_text(args.json, json.dumps(rows, indent=1))
    return 1 if any(r.problems() for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
