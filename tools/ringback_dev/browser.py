"""Open the HTML report in headless Chromium: does every chart render, and a screenshot.

Development tooling (``make report``, the report test); the report itself needs no browser.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Chromium flags for this kind of machine: no sandbox as root, no GPU, no calls home.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        if found := shutil.which(name):
            return found
    return None


def chromium(html: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Open the report in headless Chromium (a throwaway profile) with extra ``args``."""
    binary = find_chromium()
    if binary is None:
        raise FileNotFoundError(
            "no Chromium found (Debian/Ubuntu: apt-get install chromium; `make browser` does it)"
        )
    with tempfile.TemporaryDirectory(prefix="ringback-chromium-") as profile:
        return subprocess.run(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, html.resolve().as_uri()],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )


def rendered_dom(html: Path) -> str:
    """The DOM after the page's script ran: it records what each chart drew."""
    return chromium(html, "--dump-dom").stdout


@dataclass
class RenderCheck:
    expected: int  # charts in the page
    rendered: int  # charts laid out larger than 100x100 px with at least one bar of some area
    bars_drawn: dict[str, int]  # per chart: "business:key", or "key" with one business

    @property
    def ok(self) -> bool:
        return self.expected > 0 and self.rendered == self.expected


def check_rendered(html: Path) -> RenderCheck:
    """Open the report in headless Chromium and read back what its script measured."""
    dom = rendered_dom(html)

    def attr(name: str) -> int:
        found = re.search(rf'{name}="(\d+)"', dom)
        return int(found.group(1)) if found else 0

    bars = re.findall(r'data-chart="([\w:]+)"[^>]*?data-bars-drawn="(\d+)"', dom)
    return RenderCheck(
        attr("data-charts-expected"),
        attr("data-charts-rendered"),
        {key: int(n) for key, n in bars},
    )


def screenshot(html: Path, png: Path, width: int = 1200, height: int = 4200) -> Path:
    png.parent.mkdir(parents=True, exist_ok=True)
    chromium(html, f"--screenshot={png.resolve()}", f"--window-size={width},{height}")
    return png
