"""control-api serving the dashboard's files (no browser: functions-framework's test client).

Covers: ``GET /dashboard/`` answers index.html without a token, with headers that keep
the page from loading foreign code, being framed, leaking a referrer or submitting a
form natively; every file in static/ is served with its content type and exact bytes,
and everything index.html and the modules load is served; ``/dashboard`` redirects
relatively; unknown names, sources of the package and escapes from the folder are 404;
other methods 405 with Allow; HEAD and ``If-None-Match`` (304) work; the API itself
still needs a token and ``/`` stays an unknown path; pyproject's package data ships
every file in the wheel.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from werkzeug.test import Client

from tests.dashboard import STATIC
from tests.intake.conftest import ROOT, function_app
from tests.support.platform import OPERATOR_TOKEN

PACKAGE = ROOT / "shared" / "remedy"
FILES = sorted(path.name for path in STATIC.iterdir())
DIRECTIVES = (
    "default-src 'none'",
    "script-src 'self'",
    "connect-src 'self'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
)
TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript"}


@pytest.fixture(scope="module")
def control() -> Client:
    return function_app("control-api").test_client()


def test_the_page_needs_no_token_and_forbids_what_could_leak_one(control: Client) -> None:
    response = control.get("/dashboard/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.get_data() == (STATIC / "index.html").read_bytes()
    policy = response.headers["Content-Security-Policy"]
    for directive in DIRECTIVES:
        assert directive in policy
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("name", FILES)
def test_every_file_is_served_as_it_is(control: Client, name: str) -> None:
    response = control.get(f"/dashboard/{name}")
    assert response.status_code == 200
    assert response.mimetype == TYPES[Path(name).suffix]
    assert response.get_data() == (STATIC / name).read_bytes()


def test_everything_the_page_loads_is_served(control: Client) -> None:
    index = (STATIC / "index.html").read_text()
    wanted = set(re.findall(r'(?:src|href)="([a-z]+\.(?:js|css))"', index))
    for module in STATIC.glob("*.js"):
        wanted |= set(re.findall(r'from "\./([a-z]+\.js)"', module.read_text()))
    assert {"app.js", "style.css", "api.js", "dom.js", "tasks.js", "task.js"} <= wanted
    for name in sorted(wanted):
        assert control.get(f"/dashboard/{name}").status_code == 200, name


def test_the_folder_without_a_slash_redirects_relatively(control: Client) -> None:
    response = control.get("/dashboard")
    assert response.status_code == 308
    assert response.headers["Location"] == "dashboard/"


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/nope.js",
        "/dashboard/files.py",
        "/dashboard/__init__.py",
        "/dashboard/static/app.js",
        "/dashboard/%2e%2e/files.py",
        "/dashboard/..%2ffiles.py",
        "/dashboard/.%2e/.%2e/.%2e/.%2e/.%2e/pyproject.toml",
    ],
)
def test_only_the_static_files_are_served(control: Client, path: str) -> None:
    response = control.get(path)
    assert response.status_code == 404
    assert response.json is not None and response.json["error"] == "not_found"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_methods_are_refused(control: Client, method: str) -> None:
    response = control.open("/dashboard/app.js", method=method)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"


def test_head_and_revalidation(control: Client) -> None:
    head = control.head("/dashboard/app.js")
    assert head.status_code == 200 and head.get_data() == b""
    etag = head.headers["ETag"]
    again = control.get("/dashboard/app.js", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    other = control.get("/dashboard/app.js", headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200


def test_the_api_still_needs_a_token(
    platform_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REMEDY_API_TOKENS", f"operator:alice={OPERATOR_TOKEN}")
    monkeypatch.setenv("K_SINK", "http://127.0.0.1:9")
    control = function_app("control-api").test_client()
    assert control.get("/v1/tasks").status_code == 401
    bearer = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    assert control.get("/v1/tasks", headers=bearer).status_code == 200
    root = control.get("/", headers=bearer)
    assert root.status_code == 404 and root.json is not None
    assert root.json["error"] == "not_found"


def test_the_wheel_ships_every_file() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["remedy"]
    shipped = {path for pattern in patterns for path in PACKAGE.glob(pattern)}
    assert {STATIC / name for name in FILES} <= shipped
