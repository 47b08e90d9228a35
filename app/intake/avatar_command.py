"""`omokage avatar PHOTO --out OUT.png` (or `--params EDITED.json --out OUT.png`): an
original anime character fitted to a photo of a person, with its parameters in OUT.json."""
from __future__ import annotations

from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser(
        "avatar", help="an anime character fitted to a photo of a person (PNG + parameters)",
        description=__doc__.splitlines()[0] + " " + __doc__.splitlines()[1])
    p.add_argument("photo", type=Path, nargs="?", default=None,
                   help="a photo with one face looking at the camera (JPEG, PNG, ...)")
    p.add_argument("--params", type=Path, default=None, metavar="JSON",
                   help="redraw from a parameters file (as written beside an avatar, possibly "
                        "edited) instead of a photo")
    p.add_argument("--out", type=Path, required=True,
                   help="the character (.png, 512x512 RGBA); its parameters go beside it as "
                        "the same name with .json")
    p.add_argument("--face-model", type=Path, default=None, metavar="TASK",
                   help="another face_landmarker.task (default: the packaged one)")
    p.add_argument("--quiet", action="store_true", help="print only errors")
    p.set_defaults(func=cmd_avatar)


def cmd_avatar(args, say=print) -> int:
    from app.errors import CliError
    from app.intake.avatar import (AvatarError, avatar_from_params, avatar_from_rgb, load_photo,
                                   params_path, save_avatar)

    out = Path(args.out)
    if (args.photo is None) == (args.params is None):
        raise CliError("give either a PHOTO or --params JSON (not both, not neither)", 2)
    if out.suffix.lower() != ".png":
        raise CliError(f"--out {out}: the avatar is an RGBA PNG; name it *.png", 2)
    if not out.absolute().parent.is_dir():
        raise CliError(f"--out {out}: the folder {out.parent} does not exist", 2)
    src = Path(args.photo if args.photo is not None else args.params)
    for target in (out, params_path(out)):
        if target.absolute().resolve() == src.absolute().resolve():
            raise CliError(f"--out {out} would write {target.name} over the input {src}; "
                           "choose another name (the input is never overwritten)", 2)
    if args.params is not None:
        avatar = avatar_from_params(args.params)
    else:
        try:
            avatar = avatar_from_rgb(load_photo(args.photo), args.face_model)
        except AvatarError as exc:
            msg = str(exc)
            raise AvatarError(msg if msg.startswith(str(src)) else f"{src}: {msg}") from None
    png, js = save_avatar(avatar, out, source=str(src))
    if not args.quiet:
        r = avatar.reading
        if r is not None:
            ident = avatar.identity
            say(f"  skin {ident.skin} from the cheeks, iris {ident.iris_color}, hair "
                f"{ident.hair_color} ({'from the photo' if r.hair else 'random: no hair seen'})")
            say(f"  face width {ident.face_width:.2f}, jaw {ident.jaw:.2f}, eye spacing "
                f"{ident.eye_spacing:.2f}; hair {ident.back_hair}, fringe {ident.bang_len:.2f}"
                f"{'; glasses' if r.glasses else ''}")
            for note in r.notes:
                say(f"  note: {note}")
        say(f"wrote {png} (512x512 RGBA) and {js} (edit it and run "
            f"`omokage avatar --params {js} --out NEW.png`)")
    return 0
