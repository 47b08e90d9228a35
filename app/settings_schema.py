"""What a valid settings file holds: types, ranges, finite numbers and size caps.

Settings files are hand-editable JSON, so anything can be in them. Reading is in two
steps: read_json() refuses a file that cannot be settings at all (too large, not JSON,
nested too deeply, not an object), and field() checks one value against its default's
type and the limits below. A bad value is reset on its own and reported, so one wrong
number does not cost the user the rest of their settings.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

MAX_FILE_BYTES = 1 << 20  # a real settings file is a few KB; more is not settings
MAX_TEXT = 4096  # longest path or name kept
MAX_DEPTH = 8  # nesting inside free-form values (calibration, mapper)
MAX_ITEMS = 2000  # values inside one free-form field
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")

# (class name, field) -> inclusive (lo, hi) for numbers.
RANGES: dict[tuple[str, str], tuple[float, float]] = {
    ("UserSettings", "camera_width"): (16, 8192),
    ("UserSettings", "camera_height"): (16, 8192),
    ("UserSettings", "camera_fps"): (1, 240),
    ("UserSettings", "preview_fps_cap"): (1, 240),
    ("UserSettings", "threads"): (0, 64),  # 0 = automatic
    ("UserSettings", "tracker_size"): (0, 4096),  # 0 = full frames; else 96.. (NUMBER_RULES)
    ("OutputSettings", "obs_port"): (0, 65535),  # 0 = any free port
    ("OutputSettings", "vcam_width"): (16, 7680),
    ("OutputSettings", "vcam_height"): (16, 4320),
    ("OutputSettings", "vcam_fps"): (1, 120),
    ("OutputSettings", "record_size"): (0, 4096),  # 0 = automatic; else 16.. (NUMBER_RULES)
    ("OutputSettings", "record_fps"): (1, 60),
    # GIF and APNG keep a clip's frames in memory; the controller caps those at 60 s.
    ("OutputSettings", "record_max_seconds"): (1, 600),
}
# (class name, field) -> (test, what is allowed) for numbers a range cannot describe.
NUMBER_RULES = {
    # MediaPipe's face detector looks at 128x128; smaller pictures lose the face.
    ("UserSettings", "tracker_size"): (lambda v: v == 0 or 96 <= v <= 4096,
                                       "0 (full frames) or 96..4096 px"),
    ("OutputSettings", "record_size"): (lambda v: v == 0 or 16 <= v <= 4096,
                                        "0 (automatic) or 16..4096 px"),
}
# (class name, field) -> (test, what is allowed) for text.
TEXT_RULES = {
    ("UserSettings", "background"): (lambda s: s == "checker" or bool(_COLOUR.fullmatch(s)),
                                     '"checker" or a colour "#rrggbb"'),
    ("OutputSettings", "vcam_background"): (
        lambda s: s in ("green", "magenta", "color", "image"), "green, magenta, color or image"),
    ("OutputSettings", "vcam_color"): (lambda s: bool(_COLOUR.fullmatch(s)), 'a colour "#rrggbb"'),
    # app.sinks.clips.FORMATS (not imported: that module loads the encoders)
    ("OutputSettings", "record_format"): (
        lambda s: s in ("gif", "apng", "mp4", "webm", "mov", "png_sequence"),
        "gif, apng, mp4, webm, mov or png_sequence"),
    ("OutputSettings", "record_background"): (
        lambda s: s == "transparent" or bool(_COLOUR.fullmatch(s)),
        '"transparent" or a colour "#rrggbb"'),
}


class BadValue(ValueError):
    """One field's value is unusable; the message says what was expected."""


class NotSettings(ValueError):
    """The whole file is unusable (too large, not JSON, too deep, not an object)."""


def read_json(path: Path) -> dict:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise NotSettings(f"it is {size / 2**20:.0f} MB; a settings file is a few KB")
    try:  # utf-8-sig: editors such as Windows Notepad start UTF-8 files with a BOM
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NotSettings("it is not UTF-8 text (saved in another encoding?)") from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise NotSettings("it is nested too deeply to be settings") from None
    except ValueError as exc:  # JSONDecodeError, and integers of thousands of digits
        raise NotSettings(f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise NotSettings(f"expected a JSON object, found {type(data).__name__}")
    return data


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadValue(f"{where}: expected a number, found {_show(value)}")
    if not math.isfinite(value):
        raise BadValue(f"{where}: {value} is not a finite number")
    return value


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_tree(value: Any, where: str) -> None:
    """A free-form value (calibration, mapper settings): finite numbers, short texts,
    bounded depth and size. Walked without recursion, so no input can overflow the stack."""
    stack = [(value, 0)]
    count = 0
    while stack:
        v, depth = stack.pop()
        count += 1
        if count > MAX_ITEMS:
            raise BadValue(f"{where}: more than {MAX_ITEMS} values")
        if depth > MAX_DEPTH:
            raise BadValue(f"{where}: nested deeper than {MAX_DEPTH} levels")
        if isinstance(v, dict):
            for k, item in v.items():
                if len(k) > MAX_TEXT:
                    raise BadValue(f"{where}: a key is {len(k)} characters long")
                stack.append((item, depth + 1))
        elif isinstance(v, list):
            stack.extend((item, depth + 1) for item in v)
        elif isinstance(v, str):
            if len(v) > MAX_TEXT:
                raise BadValue(f"{where}: a text of {len(v)} characters")
        elif isinstance(v, float) and not math.isfinite(v):
            raise BadValue(f"{where}: {v} is not a finite number")


def pins(value: Any, where: str, problems: list[str]) -> dict[str, float]:
    """Pose name -> held value; entries that are not a finite number are dropped one by one
    (names are checked against the engine's PoseSpec when they are applied)."""
    if not isinstance(value, dict):
        raise BadValue(f"{where}: expected an object of name: value, found {_show(value)}")
    out = {}
    for name, v in value.items():
        try:
            if len(name) > 64:
                raise BadValue(f"{where}: a pose name of {len(name)} characters")
            out[name] = float(_number(v, f"{where}.{name}"))
        except BadValue as exc:
            problems.append(str(exc))
    return out


def field(owner: str, name: str, value: Any, default: Any, where: str) -> Any:
    """`value` for field `name` of settings class `owner`, typed like `default`; BadValue
    if it cannot be used (the caller resets the field)."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise BadValue(f"{where}: expected true/false, found {_show(value)}")
        return value
    if isinstance(default, (int, float)):
        v = _number(value, where)
        if isinstance(default, int):
            if v != int(v):
                raise BadValue(f"{where}: expected a whole number, found {v}")
            v = int(v)
        lo, hi = RANGES.get((owner, name), (-math.inf, math.inf))
        if not lo <= v <= hi:
            raise BadValue(f"{where}: {v} is outside {lo:g}..{hi:g}")
        rule = NUMBER_RULES.get((owner, name))
        if rule is not None and not rule[0](v):
            raise BadValue(f"{where}: {v} is not {rule[1]}")
        return type(default)(v)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise BadValue(f"{where}: expected text, found {_show(value)}")
        if len(value) > MAX_TEXT or "\x00" in value:
            raise BadValue(f"{where}: a text of {len(value)} characters is not a setting")
        rule = TEXT_RULES.get((owner, name))
        if rule is not None and not rule[0](value):
            raise BadValue(f"{where}: {_show(value)} is not {rule[1]}")
        return value
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise BadValue(f"{where}: expected an object, found {_show(value)}")
        check_tree(value, where)
        return value
    if not isinstance(value, type(default)):
        raise BadValue(f"{where}: expected {type(default).__name__}, found {_show(value)}")
    return value
