"""Command line: build training shards, draw a contact sheet, redraw the default character.

    python -m engines.datagen.procedural build --out DIR --split train --shards 100
    python -m engines.datagen.procedural sheet --out sheet.png --n 8 [--cell 160] [--palette]
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
    from engines.datagen.procedural.source import ProceduralSource

    src = ProceduralSource(n_train=args.train_characters, n_val=args.val_characters)
    t0 = time.perf_counter()
    paths = write_dataset(src, Path(args.out), args.split, args.shards, args.shard_size, args.seed)
    dt = time.perf_counter() - t0
    print(f"{len(paths)} shards in {args.out}/{args.split} ({dt:.1f} s)")


def _sheet(args: argparse.Namespace) -> None:
    from engines.datagen.procedural.identity import sample_identity
    from engines.datagen.procedural.sheet import write_sheet

    rng = np.random.default_rng(args.seed)
    idents = [sample_identity(rng) for _ in range(args.n)]
    print(write_sheet(Path(args.out), idents, args.cell, palette=args.palette))


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
    b.set_defaults(fn=_build)
    s = sub.add_parser("sheet", help="contact sheet of random identities x pose columns")
    s.add_argument("--out", required=True)
    s.add_argument("--n", type=int, default=8)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--cell", type=int, default=160)
    s.add_argument("--palette", action="store_true", help="256-colour PNG (small, for docs/)")
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
