"""Headless Chromium for the page tests: Debian's `chromium`, driven by Playwright, never a downloaded browser.

`.ci/run` installs Chromium (and mermaid.js for the Mermaid test) when missing, so in CI these tests never
skip: a missing piece fails them. Elsewhere they skip, saying what to install.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, ROOT

CHROMIUM = Path(os.environ.get("REACH_CHROMIUM", "/usr/bin/chromium"))
MERMAID_JS = Path(os.environ.get("REACH_MERMAID_JS", ROOT / ".ci/node_modules/mermaid/dist/mermaid.min.js"))
# The flags the machine notes recommend: no sandbox as root, and no background traffic to anywhere.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]


def missing(what: str) -> None:
    """In CI a missing browser piece is a failure; on a developer's machine, a skip that says what to install."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} (.ci/run installs it)")
    pytest.skip(what)


@dataclass
class Opened:
    """A page as Chromium rendered it, with everything it tried to do besides."""

    page: Any  # playwright.sync_api.Page
    url: str
    requests: list[str] = field(default_factory=list)  # every URL asked for, the page's own included
    console_errors: list[str] = field(default_factory=list)

    @property
    def foreign_requests(self) -> list[str]:
        return [u for u in self.requests if u != self.url]


class Browser:
    def __init__(self, browser: Any, tmp: Path) -> None:
        self._browser = browser
        self._tmp = tmp

    def open(self, html: str, name: str = "page.html") -> Opened:
        """Write the page to a file and open it from there, as a user would; refuse every other request."""
        path = self._tmp / name
        path.write_text(html, encoding="utf-8")
        context = self._browser.new_context(viewport={"width": 1240, "height": 900})
        page = context.new_page()
        opened = Opened(page=page, url=path.as_uri())
        page.on("request", lambda request: opened.requests.append(request.url))
        page.on("console", lambda message: opened.console_errors.append(message.text)
                if message.type == "error" else None)
        page.on("pageerror", lambda error: opened.console_errors.append(str(error)))
        page.route("**/*", lambda route: route.continue_() if route.request.url == opened.url else route.abort())
        page.goto(opened.url, wait_until="load")
        return opened


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the page tests need Playwright: pip install -e '.[test]'")
    if not CHROMIUM.exists():
        missing(f"the page tests need Debian's Chromium at {CHROMIUM}: apt-get install -y chromium")
    with sync_playwright() as playwright:
        # Playwright gives each launch a fresh, empty profile (its own --user-data-dir).
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield Browser(browser, tmp_path_factory.mktemp("pages"))
        finally:
            browser.close()


@pytest.fixture(scope="session")
def mermaid_js() -> Path:
    if not MERMAID_JS.exists():
        missing(f"the Mermaid test renders with mermaid.js at {MERMAID_JS}: "
                "npm install --prefix .ci --no-save --no-package-lock mermaid@12.3.0")
    return MERMAID_JS


# ----- pages as data, and snapshots with names chosen to break them ---------------------------------------

HOSTILE = '<script>alert("x")</script>"]; h0 --> evil["#1; %% &amp; ] } ` é'


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """Every start tag of a page with its attributes, in document order."""
    parser = _Elements()
    parser.feed(html)
    return parser.found


def hostile_snapshot(fixture: str, into: Path) -> Path:
    """A copy of a fixture's snapshot whose every Name tag starts with HOSTILE."""
    source = FIXTURES / fixture / "snapshot"

    def spoil(value: Any) -> Any:
        if isinstance(value, dict):
            if value.get("Key") == "Name" and isinstance(value.get("Value"), str):
                return {**value, "Value": HOSTILE + value["Value"]}
            return {k: spoil(v) for k, v in value.items()}
        if isinstance(value, list):
            return [spoil(v) for v in value]
        return value

    for file in source.rglob("*.json"):
        target = into / file.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(spoil(json.loads(file.read_text()))))
    return into
