"""Command line: build training shards, draw a contact sheet, redraw the default character.

    python -m engines.datagen.procedural build --out DIR --split train --shards 100 [--atlas] [--restyle] [--flow] [--turnings]
    python -m engines.datagen.procedural sheet --out sheet.png --n 8 [--cell 160] [--palette]
    python -m engines.datagen.procedural sheet --styles --n 24 --cell 200 --out docs/procedural_styles.png
    python -m engines.datagen.procedural sheet --styles --with-rigs --atlas --out /tmp/rigs_vs_procedural.png
    python -m engines.datagen.procedural bench --n 30
    python -m engines.datagen.procedural default  # assets/default_character.json -> .png
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np


def _build(args: argparse.Namespace) -> None:
    from engines.datagen.dataset import write_dataset
    from engines.datagen.procedural.source import ProceduralSource, ensure_atlases

    if args.atlas:
        print(f"atlas detail: {ensure_atlases()} tiles from the training rigs")
    src = ProceduralSource(n_train=args.train_characters, n_val=args.val_characters, atlas=args.atlas,
                           restyle=args.restyle, flow=args.flow, turnings=args.turnings,
                           expressions=args.expressions)
    t0 = time.perf_counter()
    paths = write_dataset(src, Path(args.out), args.split, args.shards, args.shard_size, args.seed)
    dt = time.perf_counter() - t0
    print(f"{len(paths)} shards in {args.out}/{args.split} ({dt:.1f} s)")


def _sheet(args: argparse.Namespace) -> None:
    from engines.datagen.procedural.identity import sample_identity
    from engines.datagen.procedural.sheet import style_grid, write_image, write_sheet

    if (args.with_rigs or args.atlas) and _inside_repo(Path(args.out)):
        raise SystemExit(f"{args.out}: renders of the Live2D rigs and fills from their atlases never go "
                         "into the repository (licence); write the sheet outside it, e.g. /tmp/styles.png")
    rng = np.random.default_rng(args.seed)
    idents = [sample_identity(rng, atlas=args.atlas) for _ in range(args.n)]
    if not args.styles:
        print(write_sheet(Path(args.out), idents, args.cell, palette=args.palette))
        return
    extra = _rig_renders() if args.with_rigs else []
    print(write_image(Path(args.out), style_grid(idents, args.cols, args.cell, extra), palette=args.palette))


def _inside_repo(path: Path) -> bool:
    repo = Path(__file__).resolve().parents[3]
    try:
        path.absolute().resolve().relative_to(repo)
    except ValueError:
        return False
    return True


def _rig_renders() -> list[tuple[str, np.ndarray]]:
    """The Live2D training rigs at rest (fetched into the cache; needs the EGL renderer)."""
    from engines.datagen.live2d.character import Live2DCharacter
    from engines.datagen.live2d.models import HUMAN_TRAIN, fetch_model

    return [(f"rig {name}", Live2DCharacter(fetch_model(name)).render({})) for name in HUMAN_TRAIN]


def _bench(args: argparse.Namespace) -> None:
    from engines.datagen.procedural.source import ProceduralSource

    src = ProceduralSource()
    rng = np.random.default_rng(args.seed)
    chars = src.characters("train")
    t0 = time.perf_counter()
    for _ in range(args.n):
        src.make_triple(chars[int(rng.integers(len(chars)))], rng)
    dt = time.perf_counter() - t0
    print(f"{args.n} triples in {dt:.2f} s: {args.n / dt:.1f} triples/s, {3 * args.n / dt:.1f} images/s")


def _default(args: argparse.Namespace) -> None:
    import cv2

    from engines.datagen.procedural.identity import Identity
    from engines.datagen.procedural.render import draw_character

    ident = Identity.from_json(Path(args.params).read_text())
    img = draw_character(ident, {})
    if not cv2.imwrite(str(args.out), cv2.cvtColor(img, cv2.COLOR_RGBA2BGRA)):
        raise SystemExit(f"could not write {args.out}")
    print(args.out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m engines.datagen.procedural", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="write training shards (engines.datagen.dataset format)")
    b.add_argument("--out", required=True)
    b.add_argument("--split", choices=("train", "val"), default="train")
    b.add_argument("--shards", type=int, required=True)
    b.add_argument("--shard-size", type=int, default=64)
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--train-characters", type=int, default=100_000)
    b.add_argument("--val-characters", type=int, default=1_000)
    b.add_argument("--atlas", action="store_true",
                   help="let looks fill parts with detail from the Live2D training rigs' atlases "
                        "(fetched into the cache; never the validation or held-out rigs)")
    b.add_argument("--restyle", action="store_true",
                   help="a new random drawing style for every triple instead of one per character")
    b.add_argument("--flow", action="store_true",
                   help="store each triple's true backward flow and visibility "
                        "(engines.datagen.procedural.flow; about 0.2 s more a triple)")
    b.add_argument("--turnings", action="store_true",
                   help="draw every triple with a random way of turning (geometry.Turning: depth, "
                        "parallax between layers, foreshortening, roll pivot)")
    b.add_argument("--expressions", action="store_true",
                   help="also sample the expression parameters (smiling lids, brow angles); "
                        "without it they stay at rest")
    b.set_defaults(fn=_build)
    s = sub.add_parser("sheet", help="contact sheet of random identities x pose columns, or (--styles) "
                                     "a grid of characters at rest in their drawing styles")
    s.add_argument("--out", required=True)
    s.add_argument("--n", type=int, default=8)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--cell", type=int, default=160)
    s.add_argument("--palette", action="store_true", help="256-colour PNG (small, for docs/)")
    s.add_argument("--styles", action="store_true", help="a grid of characters at rest, labelled by style")
    s.add_argument("--cols", type=int, default=6, help="columns of the --styles grid")
    s.add_argument("--atlas", action="store_true",
                   help="allow fills from the training rigs' atlases (training-data look; never for docs/)")
    s.add_argument("--with-rigs", action="store_true",
                   help="put the Live2D training rigs first in the --styles grid (for your eyes only: "
                        "refused inside the repository)")
    s.set_defaults(fn=_sheet)
    m = sub.add_parser("bench", help="measure drawing speed (triples and images per second)")
    m.add_argument("--n", type=int, default=30)
    m.add_argument("--seed", type=int, default=0)
    m.set_defaults(fn=_bench)
    d = sub.add_parser("default", help="draw an identity JSON at rest into a PNG")
    d.add_argument("--params", default="assets/default_character.json")
    d.add_argument("--out", default="assets/default_character.png")
    d.set_defaults(fn=_default)
    args = ap.parse_args(argv)
    if getattr(args, "shards", 1) < 1 or getattr(args, "n", 1) < 1:
        ap.error("--shards and --n must be at least 1")
    args.fn(args)


if __name__ == "__main__":
    main(sys.argv[1:])
