"""The Docker image's Python stages, replayed without a Docker daemon: the build stage's ENV, WORKDIR, COPY and RUN
lines of the Dockerfile run in a temporary folder with a plain virtualenv for /opt/venv (the assets stage's
output is `make ui`'s bundle), then the runtime stage's files are laid out the same way and the installed server
migrates, deploys the bundled models and serves /health and the diagram viewer. A change to the Dockerfile's
install steps that breaks the image breaks this test."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "app" / "ui" / "static" / "vendor"
IGNORED = shutil.ignore_patterns("__pycache__", "node_modules", "vendor", "*.pyc")  # as .dockerignore


def stage(name: str) -> list[tuple[str, str]]:
    """The instructions of one stage (`FROM ... AS name`), continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    instructions, inside = [], False
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if keyword == "FROM":
            inside = rest.endswith(f"AS {name}")
            continue
        if inside:
            instructions.append((keyword, rest))
    return instructions


def replay(name: str, root: Path, venv: Path, env: dict[str, str]) -> Path:
    """Run a stage's instructions with `/` mapped to `root` and /opt/venv to `venv`; returns the last WORKDIR."""
    workdir = root

    def local(path: str) -> Path:
        return venv if path == "/opt/venv" else root / path.lstrip("/")

    for keyword, rest in stage(name):
        if keyword == "ENV":
            for key, value in re.findall(r"(\w+)=(\S+)", rest):
                if key != "PIP_NO_CACHE_DIR":  # the replay may use pip's cache (the image build does not)
                    env[key] = value.replace("/opt/venv", str(venv)).replace("$PATH", env.get("PATH", ""))
        elif keyword == "WORKDIR":
            workdir = local(rest)
            workdir.mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY":
            parts = rest.split()
            from_stage = next((p.split("=", 1)[1] for p in parts if p.startswith("--from=")), None)
            *sources, target = [p for p in parts if not p.startswith("--")]
            if from_stage == "build":
                continue  # the virtualenv: already in place
            destination = local(target) if target.startswith("/") else workdir / target
            for source in sources:
                origin = VENDOR if from_stage == "assets" else ROOT / source
                if origin.is_dir():
                    shutil.copytree(origin, destination, ignore=IGNORED, dirs_exist_ok=True)
                else:
                    folder = destination if target.endswith("/") else destination.parent
                    folder.mkdir(parents=True, exist_ok=True)
                    shutil.copy(origin, folder / origin.name if target.endswith("/") else destination)
        elif keyword == "RUN":
            command = rest.replace("/opt/venv", str(venv))
            if command.startswith(("useradd", "mkdir -p /data")):
                continue  # the runtime stage's user and volume: nothing to install
            done = subprocess.run(shlex.split(command), cwd=workdir, env=env, capture_output=True, text=True,
                                  timeout=600)
            assert done.returncode == 0, f"RUN {rest}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return workdir


def test_the_images_python_stages_install_and_serve_from_a_plain_virtualenv(tmp_path: Path) -> None:
    if not (VENDOR / "bpmn-viewer.js").exists():
        pytest.fail("the diagram viewer bundle is missing: run `make ui` (the image's assets stage)")
    venv = tmp_path / "opt-venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON", "VORONKA_"))}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"  # `python` in RUN lines: a python 3.11+
    replay("build", tmp_path / "build", venv, env)
    assert (venv / "bin" / "voronka").exists()
    installed = next((venv / "lib").glob("python3*/site-packages/app"))
    assert not (installed / "ui" / "node_modules").exists()
    for needed in ("ui/static/vendor/bpmn-viewer.js", "ui/templates", "ui/translations/ru/LC_MESSAGES/messages.po"):
        assert (installed / needed).exists(), needed

    env["PATH"] = f"{venv / 'bin'}:{env['PATH']}"
    app_dir = replay("runtime", tmp_path / "runtime", venv, env)
    env["VORONKA_DATABASE_URL"] = f"sqlite:///{tmp_path / 'data' / 'voronka.db'}"
    env["VORONKA_BOOTSTRAP_ADMIN"] = "admin:admin-secret"
    for command in (["voronka", "migrate"], ["voronka", "deploy", "bpmn"]):
        done = subprocess.run(command, cwd=app_dir, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(["voronka", "serve", "--host", "127.0.0.1", "--port", str(port)], cwd=app_dir, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "the installed server did not start"
            time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/ui/static/vendor/bpmn-viewer.js", timeout=10).status_code == 200
        login = httpx.get(f"http://127.0.0.1:{port}/ui/login", headers={"Accept-Language": "ru"}, timeout=10)
        assert login.status_code == 200 and "Войти" in login.text  # templates and ru catalog installed
    finally:
        server.terminate()
        server.wait(20)
