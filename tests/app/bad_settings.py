"""Settings files a launch must survive, one per kind of damage.

Each case: (file text, what the loaded settings must look like, words the message must
hold). `reset` cases keep the rest of the file and reset only the bad values; `whole`
cases replace the whole file by defaults.
"""
from __future__ import annotations

V = '"schema_version": 1'


def _nest(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


# name -> (settings.json text, {field: expected value after loading}, words in the message)
USER_CASES: dict[str, tuple[str, dict, list[str]]] = {
    "nan fps": ('{%s, "camera_fps": NaN, "mirror": false}' % V,
                {"camera_fps": 30, "mirror": False}, ["camera_fps", "not a finite number"]),
    "infinite width": ('{%s, "camera_width": Infinity, "camera": "2"}' % V,
                       {"camera_width": 640, "camera": "2"}, ["camera_width", "inf"]),
    "minus infinity": ('{%s, "preview_fps_cap": -Infinity}' % V, {"preview_fps_cap": 60},
                       ["preview_fps_cap"]),
    "nan inside calibration": ('{%s, "calibration": {"head": [1.0, NaN]}, "threads": 2}' % V,
                               {"calibration": {}, "threads": 2}, ["calibration", "finite"]),
    "deeply nested file": ("{%s, \"calibration\": %s}" % (V, _nest(200_000)), {"camera": "0"},
                           ["damaged", "nested too deeply"]),
    "nested value": ('{%s, "calibration": {"a": %s}, "mirror": false}' % (V, _nest(50)),
                     {"calibration": {}, "mirror": False}, ["calibration", "nested deeper"]),
    "long camera name": ('{%s, "camera": "%s", "camera_fps": 24}' % (V, "x" * 10_000),
                         {"camera": "0", "camera_fps": 24}, ["camera", "10000 characters"]),
    "text for a number": ('{%s, "camera_fps": "fast"}' % V, {"camera_fps": 30},
                          ["camera_fps", "expected a number", "'fast'"]),
    "text for a flag": ('{%s, "mirror": "yes", "show_camera": true}' % V,
                        {"mirror": True, "show_camera": True}, ["mirror", "true/false"]),
    "fraction for a count": ('{%s, "camera_fps": 29.5}' % V, {"camera_fps": 30},
                             ["whole number"]),
    "zero fps": ('{%s, "camera_fps": 0}' % V, {"camera_fps": 30}, ["outside 1..240"]),
    "threads 9999": ('{%s, "threads": 9999}' % V, {"threads": 0}, ["threads", "0..64"]),
    "negative threads": ('{%s, "threads": -3}' % V, {"threads": 0}, ["threads"]),
    "huge port": ('{%s, "outputs": {"obs_port": 70000, "obs_source": true}}' % V,
                  {"outputs.obs_port": 8765, "outputs.obs_source": True}, ["obs_port"]),
    "outputs a list": ('{%s, "outputs": [1, 2], "camera": "1"}' % V,
                       {"outputs.obs_port": 8765, "camera": "1"}, ["outputs", "expected an object"]),
    "unknown background": ('{%s, "background": "plaid"}' % V, {"background": "checker"},
                           ["background", "#rrggbb"]),
    "unknown vcam picture": ('{%s, "outputs": {"vcam_background": "plaid"}}' % V,
                             {"outputs.vcam_background": "green"}, ["vcam_background"]),
    "bad key colour": ('{%s, "outputs": {"vcam_color": "#12345"}}' % V,
                       {"outputs.vcam_color": "#00ff00"}, ["vcam_color"]),
    "nul in a path": ('{%s, "last_character": "a\\u0000b"}' % V, {"last_character": ""},
                      ["last_character"]),
    "calibration a number": ('{%s, "calibration": 5}' % V, {"calibration": {}},
                             ["calibration", "expected an object"]),
    "not json": ("{ not json", {"camera": "0"}, ["damaged", "not valid JSON"]),
    "empty file": ("", {"camera": "0"}, ["damaged"]),
    "a list": ("[1, 2, 3]", {"camera": "0"}, ["damaged", "expected a JSON object"]),
    "a bare NaN": ("NaN", {"camera": "0"}, ["damaged"]),
    "no version": ('{"camera": "1"}', {"camera": "0"}, ["damaged", "schema_version"]),
    "version NaN": ('{"schema_version": NaN}', {"camera": "0"}, ["damaged", "schema_version"]),
    "newer version": ('{"schema_version": 99}', {"camera": "0"}, ["newer"]),
}

# name -> (character settings text, expected pins, words in the message)
CHARACTER_CASES: dict[str, tuple[str, dict, list[str]]] = {
    "pin text": ('{%s, "pins": {"head_yaw": "abc", "mouth_open": 0.5}}' % V,
                 {"mouth_open": 0.5}, ["pins.head_yaw", "'abc'"]),
    "pin NaN": ('{%s, "pins": {"head_yaw": NaN, "iris_x": 0.2}}' % V, {"iris_x": 0.2},
                ["pins.head_yaw", "finite"]),
    "pin true": ('{%s, "pins": {"mouth_open": true}}' % V, {}, ["pins.mouth_open"]),
    "pin a list": ('{%s, "pins": {"mouth_open": [1]}}' % V, {}, ["pins.mouth_open"]),
    "pins a list": ('{%s, "pins": ["head_yaw"]}' % V, {}, ["pins", "expected an object"]),
    "mapper NaN": ('{%s, "mapper": {"min_cutoff": NaN}, "pins": {"mouth_open": 1}}' % V,
                   {"mouth_open": 1.0}, ["mapper", "finite"]),
}


def user_value(settings, dotted: str):
    obj = settings
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def huge_settings_text(mb: int = 60) -> bytes:
    return ('{%s, "camera": "' % V).encode() + b"a" * (mb << 20) + b'"}'

