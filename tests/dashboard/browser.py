"""Debian's Chromium, headless, driven through its chromedriver by Selenium.

``make browser`` (part of ``make test``) installs the packages ``chromium`` and
``chromium-driver``; a browser build downloaded by a test tool does not run here. The
flags are the ones this machine needs (no sandbox as root, no GPU, no background
connections to Google's hosts), with a fresh profile per browser so no session storage
survives between tests. The driver's path is given, so Selenium Manager never runs.

Chromium's performance log (the DevTools Network events) is on: :func:`requested_urls`
reads every URL the page asked for, to check that the token never was in one.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

from tests.dashboard import png

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1400",
    "--force-device-scale-factor=1",
)
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SAVED: list[Path] = []
"""Every screenshot this run saved, listed at the end of the run."""

T = TypeVar("T")


def executables() -> tuple[str, str]:
    """Chromium and chromedriver (REMEDY_CHROMIUM / REMEDY_CHROMEDRIVER, else on PATH)."""
    chromium = os.environ.get("REMEDY_CHROMIUM") or shutil.which("chromium")
    driver = os.environ.get("REMEDY_CHROMEDRIVER") or shutil.which("chromedriver")
    missing = [
        name for name, path in (("chromium", chromium), ("chromedriver", driver)) if not path
    ]
    if missing or chromium is None or driver is None:
        pytest.fail(
            f"{' and '.join(missing)} not found: the dashboard's browser tests need Debian's "
            "chromium and chromium-driver packages; `make browser` installs them "
            "(or set REMEDY_CHROMIUM and REMEDY_CHROMEDRIVER)",
            pytrace=False,
        )
    return chromium, driver


def start(profile: Path, log: Path) -> webdriver.Chrome:
    chromium, driver = executables()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    service = webdriver.ChromeService(executable_path=driver, log_output=str(log))
    return webdriver.Chrome(options=options, service=service)


@dataclass
class Page:
    """The browser, with the waits and reads the tests share."""

    driver: webdriver.Chrome
    timeout: float = 20.0

    def wait(
        self, check: Callable[[webdriver.Chrome], T], what: str, timeout: float | None = None
    ) -> T:
        wait = WebDriverWait(self.driver, timeout or self.timeout, poll_frequency=0.05)
        return wait.until(check, message=f"{what} (page: {self.text('main')[:600]!r})")

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str) -> str:
        """The rendered text of the first match ("" if none), read in one step (the page
        re-renders live parts, so an element found first may be replaced before it is read)."""
        script = "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';"
        return str(self.driver.execute_script(script, css))

    def texts(self, css: str) -> list[str]:
        script = "return [...document.querySelectorAll(arguments[0])].map((e) => e.innerText);"
        return [str(t) for t in self.driver.execute_script(script, css)]

    def attributes(self, css: str, key: str, value: str) -> dict[str, str]:
        """``key`` attribute → ``value`` attribute of every match, read in one step."""
        script = (
            "return Object.fromEntries([...document.querySelectorAll(arguments[0])]"
            ".map((e) => [e.getAttribute(arguments[1]), e.getAttribute(arguments[2])]));"
        )
        return {
            str(k): str(v) for k, v in self.driver.execute_script(script, css, key, value).items()
        }

    def focused(self) -> str:
        """The focused element, as ``tag#id`` or ``tag:text`` (for links and buttons)."""
        script = (
            "const e = document.activeElement;"
            "return e.id ? `${e.tagName.toLowerCase()}#${e.id}`"
            " : `${e.tagName.toLowerCase()}:${(e.textContent || '').trim()}`;"
        )
        return str(self.driver.execute_script(script))

    def tab(self, *, back: bool = False) -> str:
        """Press Tab (Shift+Tab with ``back``); what has the focus then."""
        chain = webdriver.ActionChains(self.driver)
        if back:
            chain.key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT)
        else:
            chain.send_keys(Keys.TAB)
        chain.perform()
        return self.focused()

    def press(self, *keys: str) -> None:
        webdriver.ActionChains(self.driver).send_keys(*keys).perform()

    def focus_outline(self) -> str:
        """The focused element's outline style (a keyboard focus must be visible)."""
        return str(self.driver.execute_script(
            "const s = getComputedStyle(document.activeElement);"
            "return `${s.outlineStyle} ${s.outlineWidth}`;"
        ))  # fmt: skip

    def screenshot(self, name: str) -> Path:
        """Save the whole page as ``artifacts/<name>.png``; fail if it (or <main>) is blank."""
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        size = self.driver.execute_script(
            "const e = document.documentElement; return [e.scrollWidth, e.scrollHeight];"
        )
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1},
        })  # fmt: skip
        path.write_bytes(base64.b64decode(shot["data"]))
        SAVED.append(path)
        whole = png.blankness(path)
        assert not whole.looks_blank(), f"{path} looks blank: {whole}"
        box = self.driver.execute_script(
            "const r = document.querySelector('main').getBoundingClientRect();"
            "return [r.left + scrollX, r.top + scrollY, r.width, r.height].map(Math.floor);"
        )
        main = png.blankness(path, tuple(box))
        assert not main.looks_blank(max_background=0.98), f"{path}: <main> looks blank: {main}"
        return path

    def requested_urls(self) -> list[str]:
        """Every URL the page requested so far (Chromium's performance log)."""
        urls = []
        for entry in self.driver.get_log("performance"):
            message: dict[str, Any] = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                urls.append(str(message["params"]["request"]["url"]))
        return urls

    def console_errors(self) -> list[str]:
        return [e["message"] for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]
