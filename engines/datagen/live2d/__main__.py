"""python -m engines.datagen.live2d build|sheet ... (see --help)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m engines.datagen.live2d",
                                 description="Training triples rendered from Live2D characters.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="write dataset shards (resumable, deterministic for a seed)")
    b.add_argument("--out", required=True, type=Path)
    b.add_argument("--split", choices=("train", "val"), default="train")
    b.add_argument("--shards", required=True, type=int)
    b.add_argument("--shard-size", type=int, default=64)
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--no-augment", action="store_true", help="plain renders (no colours/params/jitter/flips)")
    b.add_argument("--humans-only", action="store_true",
                   help="leave out the dot-eyed head-only figures (nico, nipsilon, ni-j, nietzsche, nito)")
    b.add_argument("--turn-gains", type=float, default=0.0, metavar="P",
                   help="share of triples whose parts follow head turns by random per-part gains "
                        "(variety of rigs for the rotator; default 0)")
    b.add_argument("--turn-gain-spread", type=float, default=0.25, metavar="SIGMA",
                   help="spread of log(gain) per part for --turn-gains triples (default 0.25); wider "
                        "spreads show more ways a face, its fringe and its back hair move apart")
    b.add_argument("--turn-gain-floor", type=float, default=0.55, metavar="G",
                   help="lowest per-part gain, from 0 to 1 (default 0.55; the highest is 1.45, past "
                        "which a part saturates at the rig's extreme keyform)")
    b.add_argument("--supersample", type=float, default=0.0, metavar="P",
                   help="share of triples drawn at 2, 3 or 4 times the size and shrunk by area averaging, "
                        "as art scaled down to the canvas looks (default 0)")
    s = sub.add_parser("sheet", help="contact sheet of every character and control")
    s.add_argument("--out", required=True, type=Path)
    s.add_argument("--characters", nargs="*", help="default: all allowed characters")
    args = ap.parse_args(argv)

    from engines.datagen.live2d.augment import Augment
    from engines.datagen.live2d.source import Live2DSource

    if args.cmd == "build":
        from engines.datagen.dataset import write_dataset

        if args.shards < 1 or args.shard_size < 1:
            ap.error("--shards and --shard-size must be at least 1")
        for flag, share in (("--turn-gains", args.turn_gains), ("--supersample", args.supersample)):
            if not 0.0 <= share <= 1.0:
                ap.error(f"{flag} is a share of the triples: give a value from 0 to 1")
        if not 0.0 <= args.turn_gain_floor <= 1.0 or not 0.0 <= args.turn_gain_spread <= 2.0:
            ap.error("--turn-gain-floor takes 0 to 1 and --turn-gain-spread 0 to 2")
        from engines.datagen.live2d.models import HEAD_ONLY, HUMAN_TRAIN

        train = HUMAN_TRAIN if args.humans_only else HUMAN_TRAIN + HEAD_ONLY
        src = Live2DSource(train=train, augment=Augment(enabled=not args.no_augment,
                                                            gain_prob=args.turn_gains,
                                                            gain_sigma=args.turn_gain_spread,
                                                            gain_floor=args.turn_gain_floor,
                                                            supersample_prob=args.supersample))
        t0 = time.time()
        paths = write_dataset(src, args.out, args.split, args.shards, args.shard_size, args.seed)
        print(f"{len(paths)} shards in {args.out / args.split} ({time.time() - t0:.1f} s)")
        return 0
    from engines.datagen.live2d.models import ALL
    from engines.datagen.live2d.sheet import make_sheet

    src = Live2DSource()
    names = args.characters or list(ALL)
    print(make_sheet(src, names, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
