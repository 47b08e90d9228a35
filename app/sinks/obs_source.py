"""A transparent source for OBS (and any browser): a local web page that draws the RGBA frames.

A server bound to 127.0.0.1 serves the page at / and streams PNG (or WebP) frames with alpha
over a WebSocket at /stream. Paste `url` into an OBS "Browser Source": the character arrives
with real transparency on Windows, macOS and Linux alike.

Flow control keeps latency flat: each client has at most one frame in flight. The page says
"ready" after drawing; meanwhile newer frames replace the unsent one, so a slow or hung
client only sees fewer, always-fresh frames, and never slows the pipeline or other clients.
"""
from __future__ import annotations

import asyncio
import errno
import ipaddress
import threading
from dataclasses import asdict, dataclass, fields
from http import HTTPStatus
from importlib import resources
from typing import Any

import cv2
import numpy as np

from app.frames import OneSlot, RenderedFrame, now
from app.sinks import ErrorCallback, SinkError

HOST = "127.0.0.1"  # never reachable from other machines
IMAGE_FORMATS = ("png", "webp")


@dataclass
class ObsSourceConfig:
    enabled: bool = False
    port: int = 8765  # 0 picks a free port (tests)
    image_format: str = "png"  # png: lossless, fast to encode; webp: smaller, slower
    webp_quality: int = 90

    def validate(self) -> "ObsSourceConfig":
        if not 0 <= int(self.port) <= 65535 or 0 < int(self.port) < 1024:
            raise ValueError(f"port {self.port} cannot be used; choose a number from 1024 to 65535")
        if self.image_format not in IMAGE_FORMATS:
            raise ValueError(f"unknown image format {self.image_format!r}; use png or webp")
        if not 1 <= int(self.webp_quality) <= 100:
            raise ValueError(f"WebP quality {self.webp_quality} must be 1-100")
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ObsSourceConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known}).validate()


def page_html() -> bytes:
    return resources.files("app.sinks").joinpath("obs_page.html").read_bytes()


def encode_rgba(rgba: np.ndarray, image_format: str = "png", webp_quality: int = 90) -> bytes:
    """PNG or WebP bytes with alpha for a straight-alpha RGBA frame."""
    bgra = cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA)
    if image_format == "webp":
        ok, buf = cv2.imencode(".webp", bgra, [cv2.IMWRITE_WEBP_QUALITY, int(webp_quality)])
    else:
        ok, buf = cv2.imencode(".png", bgra, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise RuntimeError(f"could not encode a {rgba.shape} frame as {image_format}")
    return buf.tobytes()


def is_loopback(host: str) -> bool:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


class ObsSourceSink:
    """Serves the OBS page and streams the newest frame to every connected page."""

    name = "obs_source"

    def __init__(self, config: ObsSourceConfig, on_error: ErrorCallback | None = None) -> None:
        self.config = config.validate()
        self.on_error = on_error
        self._slot: OneSlot[RenderedFrame] = OneSlot()
        self._stop = threading.Event()
        self._refresh = threading.Event()  # a client joined: re-send the current picture
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server = None
        self._threads: list[threading.Thread] = []
        self._port: int | None = None
        self._latest: tuple[int, bytes] | None = None  # (sequence, encoded frame), loop-owned
        self._waiters: set[asyncio.Event] = set()
        self._last_frame: RenderedFrame | None = None
        self.frames_encoded = 0
        self.frames_streamed = 0  # summed over clients
        self.encode_ms: float | None = None
        self.refused = 0

    # -- public -----------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._port is None:
            raise SinkError("the OBS source is not running; turn it on first")
        return self._port

    @property
    def url(self) -> str:
        """The address to paste into an OBS Browser Source."""
        return f"http://{HOST}:{self.port}/"

    @property
    def clients(self) -> int:
        return len(self._waiters)

    @property
    def frames_dropped(self) -> int:
        return self._slot.dropped

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def open(self) -> None:
        if self.is_open:
            return
        ready = threading.Event()
        failure: list[BaseException] = []
        self._stop.clear()
        t = threading.Thread(target=self._serve, args=(ready, failure), name="omokage-obs-server",
                             daemon=True)
        t.start()
        ready.wait(10)
        if failure or self._port is None:
            t.join(2)
            e = failure[0] if failure else TimeoutError("server did not start")
            if isinstance(e, OSError) and e.errno == errno.EADDRINUSE:
                raise SinkError(f"Port {self.config.port} is already used by another program. "
                                "Choose another port for the OBS source (and update the "
                                "Browser Source URL in OBS).") from None
            raise SinkError(f"The OBS source could not start: {e}") from None
        enc = threading.Thread(target=self._encode_loop, name="omokage-obs-encoder", daemon=True)
        enc.start()
        self._threads = [t, enc]

    def send(self, frame: RenderedFrame) -> None:
        if self.is_open:
            self._slot.put(frame)

    def close(self) -> None:
        self._stop.set()
        loop = self._loop
        if loop is not None and self._server is not None:
            loop.call_soon_threadsafe(self._server.close)
        for t in self._threads:
            t.join(timeout=5)
        self._threads = []
        self._port = None
        self._loop = None

    # -- encoder thread ---------------------------------------------------------------
    def _encode_loop(self) -> None:
        seq = 0
        while not self._stop.is_set():
            item = self._slot.take(timeout=0.1)
            if item is None:
                if not (self._refresh.is_set() and self._last_frame is not None):
                    continue
                item = self._last_frame
            self._last_frame = item
            if not self._waiters:  # nobody watching: skip the encoding work
                continue
            self._refresh.clear()
            try:
                t0 = now()
                data = encode_rgba(item.rgba, self.config.image_format, self.config.webp_quality)
                self.encode_ms = (now() - t0) * 1000.0
            except Exception as e:
                self._report(f"The OBS source could not encode a frame: {e}")
                continue
            seq += 1
            self.frames_encoded += 1
            loop = self._loop
            if loop is not None:
                try:
                    loop.call_soon_threadsafe(self._publish, seq, data)
                except RuntimeError:  # loop closed during shutdown
                    return

    def _publish(self, seq: int, data: bytes) -> None:
        self._latest = (seq, data)
        for ev in self._waiters:
            ev.set()

    # -- server thread ----------------------------------------------------------------
    def _serve(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main(ready))
        except BaseException as e:  # bind errors end up here before `ready` is set
            failure.append(e)
        finally:
            ready.set()
            loop.close()

    async def _main(self, ready: threading.Event) -> None:
        from websockets.asyncio.server import serve

        async with serve(self._client, HOST, int(self.config.port),
                         process_request=self._http, ping_interval=5, ping_timeout=5, close_timeout=1,
                         max_size=4096, write_limit=2 ** 20) as server:
            self._server = server
            self._port = server.sockets[0].getsockname()[1]
            ready.set()
            await server.wait_closed()

    def _allowed_hosts(self) -> set[str]:
        return {f"{HOST}:{self._port}", f"localhost:{self._port}"}

    def _http(self, connection, request):
        peer = connection.remote_address[0] if connection.remote_address else ""
        host = request.headers.get("Host", "")
        origin = request.headers.get("Origin")
        # Refuse other machines, and pages of other sites reaching in through the browser
        # (a wrong Host is DNS rebinding, a foreign Origin is a cross-site WebSocket).
        if not is_loopback(peer) or host not in self._allowed_hosts() or (
                origin is not None and origin.removeprefix("http://") not in self._allowed_hosts()):
            self.refused += 1
            return connection.respond(HTTPStatus.FORBIDDEN, "Omokage serves this computer only.\n")
        path = request.path.split("?", 1)[0]
        if path in ("/", "/index.html"):
            resp = connection.respond(HTTPStatus.OK, "")
            body = page_html()
            resp.body = body
            del resp.headers["Content-Type"]
            del resp.headers["Content-Length"]
            resp.headers["Content-Type"] = "text/html; charset=utf-8"
            resp.headers["Content-Length"] = str(len(body))
            resp.headers["Cache-Control"] = "no-store"
            return resp
        if path == "/stream":
            return None  # continue with the WebSocket handshake
        return connection.respond(HTTPStatus.NOT_FOUND, "Not found. Open / in OBS.\n")

    async def _client(self, ws) -> None:
        wake = asyncio.Event()
        self._waiters.add(wake)
        self._refresh.set()
        if self._latest is not None:
            wake.set()
        sent = 0
        closed = asyncio.ensure_future(ws.wait_closed())
        try:
            while True:
                # Wait for a new frame, but leave as soon as the connection ends (the
                # server's shutdown waits for every handler).
                woken = asyncio.ensure_future(wake.wait())
                await asyncio.wait((woken, closed), return_when=asyncio.FIRST_COMPLETED)
                if closed.done():
                    woken.cancel()
                    break
                wake.clear()
                if self._latest is None or self._latest[0] == sent:
                    continue
                sent, data = self._latest
                await ws.send(data)
                self.frames_streamed += 1
                await ws.recv()  # the page has drawn it; the next send is the newest frame
        except Exception:  # the page closed, reloaded or vanished: it will reconnect
            pass
        finally:
            closed.cancel()
            self._waiters.discard(wake)

    def _report(self, message: str) -> None:
        if self.on_error is not None:
            self.on_error(message)
