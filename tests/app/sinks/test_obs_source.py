"""The OBS source server: local-only access, newest-frame-only delivery, and a slow, hung or
vanished client never slowing the pipeline or the other clients (measured)."""
from __future__ import annotations

import contextlib
import socket
import statistics
import threading
import time
import urllib.error
import urllib.request

import cv2
import numpy as np
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from app.frames import FrameMeta, RenderedFrame
from app.sinks import SinkError, create_sink
from app.sinks.obs_source import ObsSourceConfig, ObsSourceSink, encode_rgba, is_loopback


def tagged(draw, i: int) -> RenderedFrame:
    """The character with its frame index written into pixel (0, 0), readable after PNG."""
    rgba = draw(i).copy()
    rgba[0, 0] = (i & 255, (i >> 8) & 255, 0, 255)
    return RenderedFrame(rgba, FrameMeta(i, time.perf_counter()))


def index_of(png: bytes) -> int:
    bgra = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    return int(bgra[0, 0, 2]) + 256 * int(bgra[0, 0, 1])


@pytest.fixture
def server():
    sink = create_sink("obs_source", ObsSourceConfig(port=0))
    sink.open()
    yield sink
    sink.close()


def test_page_is_served_and_the_url_is_local(server):
    assert server.url == f"http://127.0.0.1:{server.port}/"
    with urllib.request.urlopen(server.url, timeout=5) as r:
        body = r.read().decode()
        assert r.headers["Content-Type"].startswith("text/html")
    assert "<canvas" in body and "/stream" in body
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(server.url + "nothing", timeout=5)
    assert e.value.code == 404


def test_foreign_hosts_and_origins_are_refused(server):
    req = urllib.request.Request(server.url, headers={"Host": f"evil.example:{server.port}"})
    with pytest.raises(urllib.error.HTTPError) as e:  # DNS rebinding
        urllib.request.urlopen(req, timeout=5)
    assert e.value.code == 403
    with pytest.raises(InvalidStatus) as e2:  # another site's page reaching in
        connect(f"ws://127.0.0.1:{server.port}/stream", origin="http://evil.example")
    assert e2.value.response.status_code == 403
    assert server.refused == 2
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("::ffff:127.0.0.1")
    assert not is_loopback("192.168.1.20") and not is_loopback("10.0.0.5") and not is_loopback("")


def test_not_reachable_from_other_interfaces(server):
    addrs = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            addrs.add(info[4][0])
    except socket.gaierror:
        pass
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        try:  # no packet is sent: this only asks the kernel which address a route would use
            u.connect(("10.255.255.255", 1))
            addrs.add(u.getsockname()[0])
        except OSError:
            pass
    addrs = [a for a in addrs if not is_loopback(a)]
    if not addrs:
        pytest.skip("this machine has no non-loopback IPv4 address")
    with pytest.raises(OSError):
        socket.create_connection((addrs[0], server.port), timeout=2)


def test_port_in_use_is_explained(server):
    other = ObsSourceSink(ObsSourceConfig(port=server.port))
    with pytest.raises(SinkError, match=f"Port {server.port} is already used.*Choose another port"):
        other.open()
    assert ObsSourceConfig.from_dict(ObsSourceConfig(port=9000, image_format="webp").to_dict()).port == 9000
    with pytest.raises(ValueError, match="1024 to 65535"):
        ObsSourceConfig(port=80).validate()


def test_webp_keeps_alpha(draw):
    rgba = draw(1)
    data = encode_rgba(rgba, "webp", 90)
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    back = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert back.shape == (512, 512, 4)
    assert np.array_equal(back[..., 3] > 127, rgba[..., 3] > 127)


def test_slow_hung_and_vanished_clients_do_not_slow_the_pipeline(server, draw):
    """Behaviour, not speed: with a hung page (never reads) and a vanished one (TCP gone
    without a close) connected, the producer's send() calls all return, a good page and a
    sluggish page both end on the newest frame, each only ever moving forward, and the
    sluggish page skips stale frames instead of working through a backlog. Figures (send
    cost, latency) are printed for information only."""
    produced = 75
    sent = threading.Condition()
    sent_count = [0]  # frames handed to send() so far
    sent_at: dict[int, float] = {}
    stop = threading.Event()
    results: dict[str, list[int]] = {"good": [], "sluggish": []}
    latency: dict[str, list[float]] = {"good": [], "sluggish": []}
    url = f"ws://127.0.0.1:{server.port}/stream"

    def client(kind: str, lag_frames: int) -> None:
        with connect(url) as ws:
            while not stop.is_set():
                try:
                    data = ws.recv(timeout=1)
                except TimeoutError:
                    continue
                i = index_of(data)
                results[kind].append(i)
                latency[kind].append(time.perf_counter() - sent_at[i])
                # The sluggish page is busy until the producer has moved `lag_frames` on
                # (counted in frames, so the test means the same on any machine).
                with sent:
                    sent.wait_for(lambda: sent_count[0] >= min(i + 1 + lag_frames, produced)
                                  or stop.is_set(), timeout=30)
                ws.send("ready")

    # A hung page: connects, takes one frame, never says ready and never reads again.
    stack = contextlib.ExitStack()
    stack.enter_context(connect(url))
    # A vanished page: its TCP connection dies without a WebSocket close.
    vanished = socket.create_connection(("127.0.0.1", server.port))
    vanished.sendall(b"GET /stream HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     b"Sec-WebSocket-Version: 13\r\n\r\n" % server.port)
    threads = [threading.Thread(target=client, args=("good", 0), daemon=True),
               threading.Thread(target=client, args=("sluggish", 8), daemon=True)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30  # every page connected before the first frame
    while server.clients < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    costs = []

    def produce() -> None:
        for i in range(produced):
            f = tagged(draw, i)
            sent_at[i] = time.perf_counter()
            t0 = time.perf_counter()
            server.send(f)
            costs.append(time.perf_counter() - t0)
            with sent:
                sent_count[0] = i + 1
                sent.notify_all()
            if i == 20:
                vanished.close()
            time.sleep(1 / 30)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    # A send() that waited on the hung page would never return: the watchdog is only there
    # so a regression fails instead of hanging the suite.
    producer.join(120)
    assert not producer.is_alive(), "send() blocked on a client"
    last = produced - 1
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(r and r[-1] == last for r in results.values()):
        time.sleep(0.05)
    stop.set()
    with sent:
        sent.notify_all()
    for t in threads:
        t.join(5)
    stack.close()

    good, sluggish = results["good"], results["sluggish"]
    print(f"send() max {max(costs) * 1e3:.3f} ms; good page {len(good)}/{produced} frames, "
          f"median latency {statistics.median(latency['good']) * 1e3:.1f} ms; sluggish page "
          f"{len(sluggish)} frames {sluggish}; encode {server.encode_ms:.1f} ms")
    # Both live pages end on the newest frame: neither the hung nor the vanished page held
    # the stream back.
    assert good and good[-1] == last, good
    assert sluggish and sluggish[-1] == last, sluggish
    # Frames only move forward (a stale frame is never sent after a newer one).
    assert all(b > a for a, b in zip(good, good[1:])), good
    assert all(b > a for a, b in zip(sluggish, sluggish[1:])), sluggish
    # The sluggish page jumped to the newest frame each time it was ready, instead of
    # working through the frames it missed: far fewer frames than were produced.
    assert len(sluggish) <= produced // 2, sluggish
    assert any(b - a > 1 for a, b in zip(sluggish, sluggish[1:])), sluggish


def test_client_can_reconnect(server, draw):
    url = f"ws://127.0.0.1:{server.port}/stream"
    for attempt in range(3):
        with connect(url) as ws:
            if attempt:  # a returning client is first shown the current picture at once
                assert index_of(ws.recv(timeout=5)) == 10 + attempt - 1
                ws.send("ready")
            server.send(tagged(draw, 10 + attempt))
            assert index_of(ws.recv(timeout=5)) == 10 + attempt
    # A new client gets the current picture at once, even if the pipeline is idle.
    with connect(url) as ws:
        assert index_of(ws.recv(timeout=5)) == 12
