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
    # A value of the wrong type (or out of range) for each key not named above; the other
    # value in each file shows that the rest is kept.
    "camera a number": ('{%s, "camera": 0, "camera_fps": 24}' % V,
                        {"camera": "0", "camera_fps": 24}, ["camera", "expected text, found 0"]),
    "height as text": ('{%s, "camera_height": "720p", "camera": "1"}' % V,
                       {"camera_height": 480, "camera": "1"},
                       ["camera_height", "expected a number, found '720p'"]),
    "width a flag": ('{%s, "camera_width": true}' % V, {"camera_width": 640},
                     ["camera_width", "expected a number, found True"]),
    "mirror a number": ('{%s, "mirror": 1, "camera_fps": 24}' % V,
                        {"mirror": True, "camera_fps": 24}, ["mirror", "true/false"]),
    "character path a number": ('{%s, "last_character": 42}' % V, {"last_character": ""},
                                ["last_character", "expected text"]),
    "background a list": ('{%s, "background": ["#ffffff"]}' % V, {"background": "checker"},
                          ["background", "expected text"]),
    "show camera null": ('{%s, "show_camera": null, "mirror": false}' % V,
                         {"show_camera": False, "mirror": False}, ["show_camera", "None"]),
    "landmarks the text false": ('{%s, "show_landmarks": "false"}' % V,
                                 {"show_landmarks": True},
                                 ["show_landmarks", "true/false, found 'false'"]),
    "fps cap overflowing": ('{%s, "preview_fps_cap": 1e400}' % V, {"preview_fps_cap": 60},
                            ["preview_fps_cap", "inf is not a finite number"]),
    "fps cap 1000": ('{%s, "preview_fps_cap": 1000}' % V, {"preview_fps_cap": 60},
                     ["preview_fps_cap", "outside 1..240"]),
    "single pass text": ('{%s, "single_pass": "on", "threads": 2}' % V,
                         {"single_pass": False, "threads": 2}, ["single_pass", "true/false"]),
    "calibration text": ('{%s, "calibration": "neutral"}' % V, {"calibration": {}},
                         ["calibration", "expected an object"]),
    "calibration too many values": ('{%s, "calibration": {"a": [%s]}}' % (V, ",".join(
        ["0.5"] * 3000)), {"calibration": {}}, ["calibration", "more than 2000 values"]),
    "calibration long key": ('{%s, "calibration": {"%s": 1}}' % (V, "k" * 5000),
                             {"calibration": {}}, ["calibration", "a key is 5000 characters"]),
    "calibration long text": ('{%s, "calibration": {"a": "%s"}}' % (V, "t" * 5000),
                              {"calibration": {}}, ["calibration", "a text of 5000 characters"]),
    "virtual camera text": ('{%s, "outputs": {"virtual_camera": "on", "obs_port": 9000}}' % V,
                            {"outputs.virtual_camera": False, "outputs.obs_port": 9000},
                            ["outputs.virtual_camera", "true/false"]),
    "obs source a number": ('{%s, "outputs": {"obs_source": 1}}' % V,
                            {"outputs.obs_source": False}, ["outputs.obs_source", "true/false"]),
    "port as text": ('{%s, "outputs": {"obs_port": "8765"}}' % V, {"outputs.obs_port": 8765},
                     ["outputs.obs_port", "expected a number, found '8765'"]),
    "negative port": ('{%s, "outputs": {"obs_port": -1}}' % V, {"outputs.obs_port": 8765},
                      ["outputs.obs_port", "outside 0..65535"]),
    "record folder a flag": ('{%s, "outputs": {"record_dir": false}}' % V,
                             {"outputs.record_dir": ""}, ["outputs.record_dir", "expected text"]),
    "record format avi": ('{%s, "outputs": {"record_format": "avi", "record_fps": 30}}' % V,
                          {"outputs.record_format": "gif", "outputs.record_fps": 30},
                          ["outputs.record_format", "'avi' is not gif, apng"]),
    "record format a number": ('{%s, "outputs": {"record_format": 3}}' % V,
                               {"outputs.record_format": "gif"},
                               ["outputs.record_format", "expected text"]),
    "vcam width zero": ('{%s, "outputs": {"vcam_width": 0}}' % V, {"outputs.vcam_width": 1280},
                        ["outputs.vcam_width", "outside 16..7680"]),
    "vcam height NaN": ('{%s, "outputs": {"vcam_height": NaN}}' % V,
                        {"outputs.vcam_height": 720}, ["outputs.vcam_height", "not a finite"]),
    "vcam fps 1000": ('{%s, "outputs": {"vcam_fps": 1000}}' % V, {"outputs.vcam_fps": 30},
                      ["outputs.vcam_fps", "outside 1..120"]),
    "vcam image an object": ('{%s, "outputs": {"vcam_image": {}}}' % V,
                             {"outputs.vcam_image": ""}, ["outputs.vcam_image", "expected text"]),
    "vcam mirror text": ('{%s, "outputs": {"vcam_mirror": "true"}}' % V,
                         {"outputs.vcam_mirror": False}, ["outputs.vcam_mirror", "true/false"]),
    "vcam backend null": ('{%s, "outputs": {"vcam_backend": null}}' % V,
                          {"outputs.vcam_backend": ""}, ["outputs.vcam_backend", "expected text"]),
    "vcam device a number": ('{%s, "outputs": {"vcam_device": 10}}' % V,
                             {"outputs.vcam_device": ""},
                             ["outputs.vcam_device", "expected text, found 10"]),
    "outputs null": ('{%s, "outputs": null, "camera": "1"}' % V,
                     {"outputs.obs_port": 8765, "camera": "1"}, ["outputs", "expected an object"]),
    # Whole files that cannot be settings (hand edits, other editors' encodings).
    "null file": ("null", {"camera": "0"}, ["damaged", "expected a JSON object"]),
    "a string": ('"camera 1"', {"camera": "0"}, ["damaged", "expected a JSON object"]),
    "trailing comma": ('{%s, "camera_fps": 24,}' % V, {"camera_fps": 30},
                       ["damaged", "not valid JSON"]),
    "comment": ('{%s, // my camera\n "camera_fps": 24}' % V, {"camera_fps": 30},
                ["damaged", "not valid JSON"]),
    "nul bytes": ("\x00" * 64, {"camera": "0"}, ["damaged", "not valid JSON"]),
    "integer of 5000 digits": ('{%s, "camera_fps": %s}' % (V, "9" * 5000), {"camera": "0"},
                               ["damaged", "4300 digits"]),
    "version a flag": ('{"schema_version": true, "camera": "1"}', {"camera": "0"},
                       ["schema_version must be a whole number, found True"]),
    "version as text": ('{"schema_version": "1"}', {"camera": "0"},
                        ["schema_version must be a whole number, found '1'"]),
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
    "pins null": ('{%s, "pins": null}' % V, {}, ["pins", "expected an object"]),
    "pin with a long name": ('{%s, "pins": {"%s": 1, "mouth_open": 0.2}}' % (V, "n" * 100),
                             {"mouth_open": 0.2}, ["pins", "a pose name of 100 characters"]),
    "pin overflowing": ('{%s, "pins": {"head_yaw": -1e400, "iris_x": 0.1}}' % V,
                        {"iris_x": 0.1}, ["pins.head_yaw", "-inf is not a finite number"]),
    "pin an object": ('{%s, "pins": {"mouth_open": {"value": 1}}}' % V, {},
                      ["pins.mouth_open", "expected a number"]),
    "mapper a list": ('{%s, "mapper": [1, 2], "pins": {"mouth_open": 0.3}}' % V,
                      {"mouth_open": 0.3}, ["mapper", "expected an object"]),
    "mapper nested deep": ('{%s, "mapper": {"a": %s}, "pins": {"iris_y": 0.4}}' % (V, _nest(40)),
                           {"iris_y": 0.4}, ["mapper", "nested deeper than 8"]),
    "character file not JSON": ('{"pins": {"mouth_open": 1', {}, ["damaged", "not valid JSON"]),
    "character file newer": ('{"schema_version": 7, "pins": {"mouth_open": 1}}', {},
                             ["newer Omokage (schema 7"]),
}


def user_value(settings, dotted: str):
    obj = settings
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def huge_settings_text(mb: int = 60) -> bytes:
    return ('{%s, "camera": "' % V).encode() + b"a" * (mb << 20) + b'"}'

