"""The snippet's files are public, cacheable, typed, and nothing else on disk is reachable."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI, ROOT


@pytest.mark.parametrize(("name", "mimetype"), [("embed.js", "text/javascript"), ("embed.css", "text/css")])
def test_the_snippet_files_are_served_to_any_site(client: Any, name: str, mimetype: str) -> None:
    response = client.get(f"/static/{name}", headers={"Origin": "https://any-customer.example"})
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert len(response.data) > 500


@pytest.mark.parametrize(
    "path", ["/static/../pyproject.toml", "/static/%2e%2e/README.md", "/static/nope.js", "/static/src/embed.js"]
)
def test_nothing_outside_static_is_served(client: Any, path: str) -> None:
    assert client.get(path).status_code == 404


def test_the_snippet_stays_within_its_size_budget() -> None:
    """Issue 3's budget, in bytes after gzip -9: a snippet on every page of a site must stay small."""
    from bench.size import BUDGETS, STATIC, sizes

    for name, budget in BUDGETS.items():
        assert sizes((STATIC / name).read_bytes())[1] <= budget, name


def test_the_served_snippet_is_the_build_of_its_readable_source(tmp_path: Path) -> None:
    """static/embed.js is esbuild's output for static/src/embed.js: nobody edits the minified file by hand."""
    if shutil.which("npx") is None:
        message = "npx is missing: apt-get install npm (scripts/build-embed fetches esbuild from the npm registry)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    built = tmp_path / "embed.js"
    subprocess.run([str(ROOT / "scripts" / "build-embed"), str(built)], check=True, timeout=180)
    assert built.read_bytes() == (ROOT / "static" / "embed.js").read_bytes(), "run scripts/build-embed and commit"
