"""`omokage prepare IN --out OUT.png`: frame any character picture to the input convention
and print every step taken. The result is written atomically and never over the input."""
from __future__ import annotations

import math
from pathlib import Path


FRAMING_KEY = "omokage-framing"  # PNG text: how input pixels map to the written image


def framing_text(done) -> str:
    """'scale tx ty' (output = input * scale + (tx, ty), input after EXIF rotation) and the
    face box found, so tools and tests can trace any input point into the result."""
    fr = done.framing
    s, tx, ty = (fr.scale, fr.tx, fr.ty) if fr else (1.0, 0.0, 0.0)
    f = done.face
    return f"scale={s:.6f} tx={tx:.3f} ty={ty:.3f} face={f.cx:.2f},{f.cy:.2f},{f.w:.2f},{f.h:.2f}"


def read_framing(path) -> tuple[float, float, float]:
    """(scale, tx, ty) from a file written by `omokage prepare`."""
    from PIL import Image

    with Image.open(path) as im:
        fields = dict(kv.split("=") for kv in im.text[FRAMING_KEY].split())
    return float(fields["scale"]), float(fields["tx"]), float(fields["ty"])


def add_parser(sub) -> None:
    p = sub.add_parser(
        "prepare", help="frame a character picture to the input convention (512x512 RGBA)",
        description=__doc__.splitlines()[0])
    p.add_argument("input", type=Path, help="the picture: PNG, JPEG, WebP... (EXIF rotation "
                   "is honoured)")
    p.add_argument("--out", type=Path, required=True, help="the prepared character (.png)")
    p.add_argument("--face", default=None, metavar="CX,CY,W",
                   help="the face box by hand (centre and width in pixels of the upright "
                        "input), when the face is not found or found wrongly")
    p.add_argument("--quiet", action="store_true", help="print only errors")
    p.set_defaults(func=cmd_prepare)


def parse_face(text: str):
    from app.intake.locate import FaceBox

    try:
        cx, cy, w = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"--face {text}: give the face centre and width in pixels as "
                         "CX,CY,W, e.g. --face 400,380,300") from None
    if not all(math.isfinite(v) for v in (cx, cy, w)):
        raise ValueError(f"--face {text}: give finite numbers (pixels of the input picture), "
                         "e.g. --face 400,380,300")
    if not w > 0:
        raise ValueError(f"--face {text}: the width must be positive")
    return FaceBox(cx, cy, w, w * 1.25)  # outline height/width of a typical anime face


MIN_FACE = 8  # px: a smaller face box would be scaled up into a blur


def check_face(text: str, face, width: int, height: int) -> None:
    """The face box given by hand against the picture: its centre inside it, its width
    from MIN_FACE to the picture's longer side (framing scales by target width / w)."""
    if not (0 <= face.cx <= width and 0 <= face.cy <= height):
        raise ValueError(f"--face {text}: the centre ({face.cx:g}, {face.cy:g}) is outside "
                         f"the {width}x{height} picture")
    if not MIN_FACE <= face.w <= max(width, height):
        raise ValueError(f"--face {text}: the face width {face.w:g} px must be "
                         f"{MIN_FACE}..{max(width, height)} px for this {width}x{height} "
                         "picture")


def cmd_prepare(args, say=print) -> int:
    from app.character import CharacterError, decode_image, save_rgba_png
    from app.errors import CliError
    from app.intake.prepare import PrepareError, prepare_image

    src, out = Path(args.input), Path(args.out)
    if out.suffix.lower() != ".png":
        raise CliError(f"--out {out}: the prepared character is an RGBA PNG; name it *.png", 2)
    if src.is_dir():
        raise CharacterError(f"{src} is a folder; choose a picture (PNG, JPEG, WebP...).")
    if not src.is_file():
        raise CharacterError(f"{src}: file not found.")
    if out.resolve() == src.resolve():
        raise CliError(f"--out {out} is the input picture; choose another name (the input "
                       "is never overwritten)", 2)
    if not out.parent.is_dir():
        raise CliError(f"--out {out}: the folder {out.parent} does not exist", 2)
    try:
        face = parse_face(args.face) if args.face else None
    except ValueError as exc:
        raise CliError(str(exc), 2) from None
    rgba, notes = decode_image(src.read_bytes(), src.name)
    if face is not None:
        try:
            check_face(args.face, face, rgba.shape[1], rgba.shape[0])
        except ValueError as exc:
            raise CliError(str(exc), 2) from None
    try:
        done = prepare_image(rgba, face=face)
    except PrepareError as exc:
        raise CharacterError(f"{src.name}: {exc}") from None
    save_rgba_png(done.rgba, out, {FRAMING_KEY: framing_text(done)})
    if not args.quiet:
        for line in notes + done.steps:
            say(f"  {line}")
        f = done.face_out
        say(f"wrote {out} (512x512 RGBA; face box centre ({f.cx:.0f}, {f.cy:.0f}), "
            f"{f.w:.0f} px wide)")
    return 0
