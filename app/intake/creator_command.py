"""`omokage create --seed N --out OUT.png`: an original character from the project's
generator (the window's File > New character), with its identity in OUT.json beside it."""
from __future__ import annotations

from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser(
        "create", help="a new original character from the generator (PNG + identity JSON)",
        description=__doc__.splitlines()[0] + " " + __doc__.splitlines()[1])
    p.add_argument("--seed", type=int, default=None,
                   help="the random identity's seed, 0..2147483647 (default: a new one, printed)")
    p.add_argument("--out", type=Path, required=True,
                   help="the character (.png, 512x512 RGBA); its identity goes beside it as "
                        "the same name with .json (redraw an edited one with "
                        "`omokage avatar --params OUT.json --out NEW.png`)")
    p.add_argument("--quiet", action="store_true", help="print only errors")
    p.set_defaults(func=cmd_create)


def cmd_create(args, say=print) -> int:
    from app.errors import CliError
    from app.intake.creator import MAX_SEED, random_creation, save_creation

    if args.seed is not None and not 0 <= args.seed <= MAX_SEED:
        raise CliError(f"--seed {args.seed}: use 0..{MAX_SEED}", 2)
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise CliError(f"--out {out}: the character is an RGBA PNG; name it *.png", 2)
    if not out.absolute().parent.is_dir():
        raise CliError(f"--out {out}: the folder {out.parent} does not exist", 2)
    made = random_creation(args.seed)
    png, js = save_creation(made, out)
    if not args.quiet:
        ident = made.identity
        say(f"  seed {made.seed}: {ident.back_hair} {ident.hair_color} hair, "
            f"{ident.bangs} fringe, {ident.iris_color} eyes, {ident.clothing}"
            + (f", {', '.join(ident.accessories)}" if ident.accessories else ""))
        say(f"wrote {png} (512x512 RGBA) and {js}")
    return 0
