"""Settings saved per user and per character: typed dataclasses with a schema version.

Files live in the platform's config directory (platformdirs) unless $OMOKAGE_CONFIG or an
explicit directory is given. Writes are atomic (temporary file + rename), so a crash never
leaves half a file. A file that cannot be read as settings is moved aside as
<name>.damaged-<time> and replaced by defaults; in a readable file only the values that are
wrong (type, range, not finite, too large: app/settings_schema.py) are reset, the original
being kept the same way. The caller gets a message to show.
"""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Optional, TypeVar

from platformdirs import user_config_dir

from app import settings_schema as schema

SCHEMA_VERSION = 1


@dataclass
class OutputSettings:
    virtual_camera: bool = False
    obs_source: bool = False
    obs_port: int = 8765
    record_dir: str = ""  # empty: the user's videos folder
    record_format: str = "gif"  # app.sinks.clips.FORMATS
    # Recorder options (added later: older files load with these defaults).
    record_size: int = 0  # longest side in px; 0: automatic (320 for GIF, 512 otherwise)
    record_fps: int = 25  # 25 fps = 40 ms a frame, exact in GIF's 10 ms units
    record_background: str = "transparent"  # or "#rrggbb": every format over that colour
    record_max_seconds: int = 20  # a recording stops by itself after this long
    # Virtual camera picture (added later: older files load with these defaults).
    vcam_width: int = 1280
    vcam_height: int = 720
    vcam_fps: int = 30
    vcam_background: str = "green"  # green, magenta, color or image
    vcam_color: str = "#00ff00"  # used when vcam_background == "color"
    vcam_image: str = ""  # used when vcam_background == "image"
    vcam_mirror: bool = False
    vcam_backend: str = ""  # pyvirtualcam backend ("obs", "unitycapture", "v4l2loopback"); "" tries each
    vcam_device: str = ""  # e.g. /dev/video10 when several loopback devices exist; "" = the backend's default

    def virtual_camera_dict(self) -> dict[str, Any]:
        """These choices as VirtualCameraConfig.from_dict() takes them."""
        c = self.vcam_color.lstrip("#")
        try:
            rgb = [int(c[i:i + 2], 16) for i in (0, 2, 4)] if len(c) == 6 else [0, 255, 0]
        except ValueError:
            rgb = [0, 255, 0]
        return {"enabled": True, "width": self.vcam_width, "height": self.vcam_height,
                "fps": float(self.vcam_fps), "background": self.vcam_background,
                "color": rgb, "image_path": self.vcam_image or None,
                "mirror": self.vcam_mirror, "backend": self.vcam_backend or None,
                "device": self.vcam_device or None}


@dataclass
class UserSettings:
    schema_version: int = SCHEMA_VERSION
    camera: str = "0"  # index ("0") or a device name
    camera_width: int = 640
    camera_height: int = 480
    camera_fps: int = 30
    mirror: bool = True  # show the camera like a mirror
    last_character: str = ""  # path of the character shown last
    background: str = "checker"  # "checker" or a colour "#rrggbb"
    show_camera: bool = False
    show_landmarks: bool = True
    preview_fps_cap: int = 60
    threads: int = 0  # engine threads, 0 = automatic
    single_pass: bool = False  # render without the engine's mirror ensemble (faster, less accurate)
    tracker_size: int = 0  # longest side of the picture the face tracker sees; 0: full frames
    calibration: dict[str, Any] = field(default_factory=dict)  # the user's neutral face
    outputs: OutputSettings = field(default_factory=OutputSettings)


@dataclass
class CharacterSettings:
    schema_version: int = SCHEMA_VERSION
    mapper: dict[str, Any] = field(default_factory=dict)  # MapperConfig.to_dict()
    pins: dict[str, float] = field(default_factory=dict)  # pose names held over tracking


class SettingsError(ValueError):
    pass


S = TypeVar("S")


def config_dir() -> Path:
    return Path(os.environ.get("OMOKAGE_CONFIG") or user_config_dir("omokage"))


def _from_dict(cls: type[S], data: Any, where: str, problems: list[str]) -> S:
    """Build dataclass `cls` from `data`. Unknown keys are ignored (a newer version may add
    some); a value of the wrong type, out of range or not finite is left at its default
    and described in `problems`, so the rest of the file is kept."""
    if not isinstance(data, dict):
        problems.append(f"{where}: expected an object, found {type(data).__name__}")
        return cls()
    kwargs = {}
    defaults = cls()
    for f in fields(cls):
        if f.name not in data or f.name == "schema_version":
            continue
        value = data[f.name]
        default = getattr(defaults, f.name)
        at = f"{where}.{f.name}"
        try:
            if dataclasses.is_dataclass(default):
                value = _from_dict(type(default), value, at, problems)
            elif cls is CharacterSettings and f.name == "pins":
                value = schema.pins(value, at, problems)
            else:
                value = schema.field(cls.__name__, f.name, value, default, at)
        except schema.BadValue as exc:
            problems.append(str(exc))
            continue
        kwargs[f.name] = value
    return cls(**kwargs)


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def character_key(image_path: str | Path) -> str:
    """Settings follow the image's content, so a renamed or moved file keeps them."""
    h = hashlib.sha256()
    with open(image_path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


class SettingsStore:
    """Loads and saves UserSettings and CharacterSettings under one directory."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self.dir = Path(directory) if directory is not None else config_dir()

    @property
    def user_path(self) -> Path:
        return self.dir / "settings.json"

    def character_path(self, image_path: str | Path) -> Path:
        return self.dir / "characters" / f"{character_key(image_path)}.json"

    def load_user(self) -> tuple[UserSettings, Optional[str]]:
        """(settings, message): message is None unless the file was damaged and reset."""
        return self._load(self.user_path, UserSettings)

    def save_user(self, settings: UserSettings) -> None:
        self._save(self.user_path, settings)

    def load_character(self, image_path: str | Path) -> tuple[CharacterSettings, Optional[str]]:
        return self._load(self.character_path(image_path), CharacterSettings)

    def save_character(self, image_path: str | Path, settings: CharacterSettings) -> None:
        self._save(self.character_path(image_path), settings)

    def _save(self, path: Path, settings: Any) -> None:
        data = asdict(settings)
        data["schema_version"] = SCHEMA_VERSION
        atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")

    def _load(self, path: Path, cls: type[S]) -> tuple[S, Optional[str]]:
        if not path.exists():
            return cls(), None
        problems: list[str] = []
        try:
            data = schema.read_json(path)
            version = data.get("schema_version")
            if version is None:
                raise SettingsError("schema_version is missing")
            if not isinstance(version, int) or isinstance(version, bool):
                raise SettingsError(f"schema_version must be a whole number, found {version!r}")
            if version > SCHEMA_VERSION:
                raise SettingsError(
                    f"written by a newer Omokage (schema {version}, this one reads "
                    f"up to {SCHEMA_VERSION})")
            settings = _from_dict(cls, data, path.name, problems)
        except (OSError, UnicodeDecodeError, schema.NotSettings, SettingsError) as exc:
            where = self._move_aside(path)
            settings = cls()
            where += self._save_repaired(path, settings)
            return settings, (
                f"Settings file {path} was damaged ({exc}); {where} and defaults are used.")
        if not problems:
            return settings, None
        # Only the bad values are reset; the file as it was is kept for the user to see.
        where = self._move_aside(path)
        where += self._save_repaired(path, settings)
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more"
                                            if len(problems) > 5 else "")
        return settings, (f"Settings file {path} had unusable values ({shown}); those were "
                          f"reset to their defaults and the rest kept; {where}.")

    def _save_repaired(self, path: Path, settings: Any) -> str:
        # A read-only folder must not stop the app from starting with the repaired values.
        try:
            self._save(path, settings)
            return ""
        except OSError as exc:
            return f"; the repaired file could not be written ({exc})"

    @staticmethod
    def _move_aside(path: Path) -> str:
        """Keep the damaged file as <name>.damaged-<time>; says where it went."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        backup = path.with_name(f"{path.name}.damaged-{stamp}")
        n = 1
        while backup.exists():  # damaged twice in one second: keep both originals
            n += 1
            backup = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
        try:
            os.replace(path, backup)
            return f"the original was moved to {backup}"
        except OSError as move_exc:
            return f"the original could not be moved aside ({move_exc})"


@dataclass
class Snapshot:
    """A copy of everything saved, taken on the thread that changes the settings, so the
    file write can run elsewhere while the originals keep changing."""
    seq: int  # order of taking: a later snapshot is newer
    user: UserSettings
    character_path: Optional[Path]  # the character `character` belongs to
    character: CharacterSettings

    def same_as(self, other: Optional["Snapshot"]) -> bool:
        return other is not None and (self.user, self.character_path, self.character) == (
            other.user, other.character_path, other.character)


class SettingsSaver:
    """Saves snapshots of the user's and the current character's settings, newest wins.

    Saves may run on several threads (a periodic save in a worker, the final one on exit):
    one writes at a time and a snapshot older than what is already on disk is dropped, so a
    slow early save can never overwrite a later one.
    """

    def __init__(self, store: SettingsStore) -> None:
        self.store = store
        self._seq = 0
        self._seq_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self.saved: Optional[Snapshot] = None  # the last snapshot written

    def take(self, user: UserSettings, character_path: Optional[Path],
             character: CharacterSettings) -> Snapshot:
        with self._seq_lock:
            self._seq += 1
            seq = self._seq
        return Snapshot(seq, copy.deepcopy(user), character_path, copy.deepcopy(character))

    def changed(self, user: UserSettings, character_path: Optional[Path],
                character: CharacterSettings) -> bool:
        """Whether these settings differ from the last ones written (cheap: no copy)."""
        last = self.saved
        return last is None or (user, character_path, character) != (
            last.user, last.character_path, last.character)

    def write(self, snap: Snapshot) -> bool:
        """Write `snap` atomically unless something newer is on disk already; returns
        whether it was written. Raises OSError when a file cannot be written."""
        with self._write_lock:
            if self.saved is not None and snap.seq <= self.saved.seq:
                return False
            if not snap.same_as(self.saved):
                self.store.save_user(snap.user)
                path = snap.character_path
                if path is not None and Path(path).exists():
                    self.store.save_character(path, snap.character)
            self.saved = snap
            return True
