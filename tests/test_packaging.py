"""What `pip install .` builds: every package and data file the service needs, and no packaging warnings.

A listed set of packages once left capture/db/models out of the wheel: an installed Leadwheel could not start.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT

NEEDED = (
    "capture/db/models/leads.py",
    "capture/web/openapi.yaml",
    "capture/web/static/embed.js",
    "capture/web/static/embed.css",
    "capture/web/templates/confirm.html",
    "capture/workbench/templates/workbench/base.html",
    "capture/workbench/static/htmx.min.js",
    "capture/workbench/translations/da/LC_MESSAGES/messages.mo",
    "migrations/env.py",
    "migrations/script.py.mako",
    "scoring/defaults/default.yaml",
    "profiling/document.py",
    "forms/validate.py",
)


def test_the_wheel_holds_every_package_and_data_file_and_builds_without_warnings(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(
        ROOT,
        source,
        symlinks=True,
        ignore=shutil.ignore_patterns(".git", ".venv", "node_modules", "build", "*.egg-info"),
    )
    out = tmp_path / "out"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "-v", "-w", str(out)],
        cwd=source, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-2000:]
    assert "BuildBackendWarning" not in built.stdout + built.stderr
    assert "would be ignored" not in built.stdout + built.stderr
    (wheel,) = out.glob("leadwheel-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert [name for name in NEEDED if name not in names] == []
    metadata = next(name for name in names if name.endswith("METADATA"))
    requires = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "Requires-Dist: click" in requires
