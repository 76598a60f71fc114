"""Real faults for the fault-injection tests: a TCP proxy in front of PostgreSQL that can refuse connections
(the database "goes away" for the server behind it while it keeps running for everyone else), and helpers
that kill the server's own PostgreSQL backends."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]


class TcpProxy:
    """Forwards 127.0.0.1:<port> to the database. `refuse()` closes every connection and the listening socket
    (new connections are refused, as when PostgreSQL is down); `restore()` listens on the same port again."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def proxied_url(self, url: str) -> str:
        return make_url(url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    def __enter__(self) -> TcpProxy:
        self.restore()
        return self

    def __exit__(self, *exc: object) -> None:
        self.refuse()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def refuse(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            for sock in list(self._open):
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    sock.close()  # linger 0: a reset, as a dead server's host sends
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.close()
            with self._lock:
                self._open.discard(source)
                self._open.discard(sink)


def admin_engine(url: str):  # type: ignore[no-untyped-def]
    """A connection outside the server under test (its own pool), for locking tables and killing backends."""
    return create_engine(url, isolation_level="AUTOCOMMIT")


def wait_for_lock_waiter(engine, *, timeout: float = 10.0) -> int:  # type: ignore[no-untyped-def]
    """The pid of a backend of this database that waits for a lock (the request under test), once there is one."""
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            pid = conn.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND wait_event_type = 'Lock' LIMIT 1")).scalar()
            if pid:
                return int(pid)
            time.sleep(0.02)
    raise AssertionError("no request started waiting for the lock")


def terminate(engine, pid: int) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()


class ServeProcess:
    """`voronka serve` as operators run it: a real process tree (uvicorn's supervisor and its workers)."""

    def __init__(self, url: str, log: Path, *, workers: int = 2, embedded_worker: bool = False,
                 env: dict[str, str] | None = None) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = {**os.environ, "VORONKA_DATABASE_URL": url, "VORONKA_BOOTSTRAP_ADMIN": "admin:admin-secret",
                    "VORONKA_FAST_PASSWORD_HASHING": "true", "VORONKA_EMBEDDED_WORKER": str(embedded_worker).lower(),
                    "PYTHONPATH": str(ROOT), **(env or {})}
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.args = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                     "--workers", str(workers), "--migrate"]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, timeout: float = 60.0) -> ServeProcess:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        try:
            return self._wait_ready(timeout)
        except BaseException:
            self.process.kill()
            self.process.wait(10)
            raise

    def _wait_ready(self, timeout: float) -> ServeProcess:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200 and self.ready_children():
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"serve did not answer /health in {timeout} s:\n{self.log.read_text()[-3000:]}")

    def ready_children(self) -> bool:
        expected = int(self.args[self.args.index("--workers") + 1])
        return expected == 1 or len(self.children()) >= expected

    def children(self) -> list[int]:
        assert self.process is not None
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = [int(pid) for pid in path.read_text().split()] if path.exists() else []
        return [pid for pid in pids if b"resource_tracker" not in _cmdline(pid)]  # uvicorn's workers only

    def stop(self, timeout: float = 30.0) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
            raise AssertionError("serve did not stop on SIGTERM") from None

    def __enter__(self) -> ServeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def with_application_name(url: str, name: str) -> str:
    """The URL whose connections show `name` in pg_stat_activity (to find the servers' own backends)."""
    return make_url(url).update_query_dict({"application_name": name}).render_as_string(hide_password=False)


def backends_of(engine, application_name: str) -> list[int]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return [int(pid) for pid in conn.execute(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = :name"),
            {"name": application_name}).scalars()]
