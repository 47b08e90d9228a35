"""One message channel: every stage, worker thread and the controller report here, and
whoever shows messages (the window per stage, the command line as log lines) listens.

A Message has a severity, the stage it concerns, a text and the time it was made. The
channel keeps each stage's current problem: an error or warning stays until the same stage
reports success or info (the camera that failed is replaced by a video that plays), so a
window can show what is wrong now rather than the last thing that went wrong. A stage that
fails on every frame would flood the listeners: a message equal to the stage's previous one
is passed on at most once every `repeat_seconds` (a different one, such as the same error
again after the stage had recovered, always passes; so do answers to a user's action,
stage "character").
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

log = logging.getLogger("omokage")

SEVERITIES = ("info", "success", "warning", "error")
# The stage each worker thread serves, by the thread's name (every thread is omokage-<what>),
# so a thread that dies is reported under the stage that stopped with it.
THREAD_STAGES = {
    "omokage-capture": "source", "omokage-cameras": "source",
    "omokage-track": "tracking",
    "omokage-render": "engine", "omokage-start": "engine",
    "omokage-load-character": "character", "omokage-switch-character": "character",
    "omokage-outputs": "output", "omokage-vcam": "output", "omokage-obs-server": "output",
    "omokage-obs-encoder": "output", "omokage-clip": "output", "omokage-stickers": "output",
    "omokage-autosave": "settings",
}
PROBLEMS = ("warning", "error")
ALWAYS_PASS = ("character",)  # stages whose messages answer a user's action


@dataclass(frozen=True)
class Message:
    severity: str  # "info" | "success" | "warning" | "error"
    stage: str  # "source" | "tracking" | "mapping" | "engine" | "character" | "output" | ...
    text: str
    time: float = field(default_factory=time.time)  # wall-clock seconds, for a log view

    # The names earlier listeners read (Notice.level / Notice.message).
    @property
    def level(self) -> str:
        return self.severity

    @property
    def message(self) -> str:
        return self.text

    @property
    def problem(self) -> bool:
        return self.severity in PROBLEMS


Listener = Callable[[Message], None]


class MessageChannel:
    def __init__(self, repeat_seconds: float = 5.0, keep: int = 200,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.repeat_seconds = repeat_seconds
        self._clock = clock
        self._listeners: list[Listener] = []
        self._last: dict[str, tuple[str, str, float]] = {}  # stage -> severity, text, time
        self._problems: dict[str, Message] = {}
        self._log: deque[Message] = deque(maxlen=keep)
        self._lock = threading.Lock()
        self.thread_failures: list[Message] = []  # threads that died (install_thread_hook)

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def publish(self, message: Message) -> bool:
        """Record and pass `message` on; False if it repeated too soon and was dropped."""
        if message.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {message.severity!r}; use one of {SEVERITIES}")
        t = self._clock()
        with self._lock:
            prev = self._last.get(message.stage)
            if (message.stage not in ALWAYS_PASS and prev is not None
                    and prev[:2] == (message.severity, message.text)
                    and t - prev[2] < self.repeat_seconds):
                return False
            self._last[message.stage] = (message.severity, message.text, t)
            if message.problem:
                self._problems[message.stage] = message
            else:  # the stage works again: its problem is over
                self._problems.pop(message.stage, None)
            self._log.append(message)
        getattr(log, {"error": "error", "warning": "warning"}.get(message.severity, "info"))(
            "%s: %s", message.stage, message.text)
        for listener in list(self._listeners):
            try:
                listener(message)
            except Exception:  # a broken listener must not stop the stage that reported
                log.exception("message listener failed")
        return True

    def report(self, severity: str, stage: str, text: str) -> bool:
        return self.publish(Message(severity, stage, text))

    def problems(self) -> dict[str, Message]:
        """Each stage's current error or warning (stages that work are absent)."""
        with self._lock:
            return dict(self._problems)

    def history(self) -> list[Message]:
        """The last messages, oldest first (for a log view)."""
        with self._lock:
            return list(self._log)

    def install_thread_hook(self, stage: str | None = None,
                            chain: bool = True) -> Callable[[], None]:
        """Route uncaught exceptions of every worker thread here (threading.excepthook) as
        errors naming the thread, under `stage` or else the stage the thread serves
        (THREAD_STAGES; "internal" for others). With `chain` the previous hook still runs
        (it prints the traceback); without, the message is the one report and the traceback
        goes to the debug log. Each such failure is kept in `thread_failures`: the stage
        stopped, which a command treats as fatal. Returns an undo."""
        previous = threading.excepthook

        def hook(args) -> None:
            if args.exc_type is SystemExit:  # a thread that ended itself did not fail
                return
            name = args.thread.name if args.thread is not None else "a thread"
            where = stage or THREAD_STAGES.get(name, "internal")
            msg = Message("error", where, f"{name} stopped: {args.exc_type.__name__}: "
                                          f"{args.exc_value}")
            with self._lock:
                self.thread_failures.append(msg)
            self.publish(msg)
            if chain:
                previous(args)
            else:
                log.debug("%s stopped", name,
                          exc_info=(args.exc_type, args.exc_value, args.exc_traceback))
        threading.excepthook = hook

        def undo() -> None:
            if threading.excepthook is hook:
                threading.excepthook = previous
        return undo

__all__ = ["Message", "MessageChannel", "SEVERITIES", "THREAD_STAGES"]
