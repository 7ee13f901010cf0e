"""The local BigQuery emulator (local-bigquery in .bqemu/, set up by `make test-bigquery`) as a
separate process on 127.0.0.1, reached through the real google-cloud-bigquery client."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
EMULATOR = ROOT / ".bqemu" / ".venv" / "bin" / "local-bigquery"
PROJECT = "ringback-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Emulator:
    def __init__(self, data_dir: Path) -> None:
        if not EMULATOR.exists():
            pytest.fail("no BigQuery emulator in .bqemu/: run `make test-bigquery`")
        self.port = _free_port()
        env = {**os.environ, "HOME": str(ROOT / ".bqemu" / "home")}
        self.log = (data_dir / "emulator.log").open("w")
        self.proc = subprocess.Popen(
            [
                str(EMULATOR),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--grpc-port",
                str(_free_port()),
                "--project",
                PROJECT,
                "--data-dir",
                str(data_dir / "data"),
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{self.endpoint}/bigquery/v2/projects/{PROJECT}/datasets", timeout=2)
                break
            except httpx.TransportError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"the BigQuery emulator did not start: see {self.log.name}")
                time.sleep(0.3)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, location: str = "EU") -> str:
        return f"bigquery://{PROJECT}?location={location}&endpoint={self.endpoint}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
