"""Sizes of the snippet's files as a browser downloads them: raw, gzip -9 and brotli (quality 11).

    .venv/bin/python bench/size.py

Budgets (issue 3): embed.js <= 5 KB gzip -9 (aim for 3 KB; Mautic's form script is 9-12 KB),
embed.css <= 2 KB gzip -9. embed.js is measured as served: esbuild's build of static/src/embed.js
(scripts/build-embed). Prints a table and the share of each budget used; exits non-zero only
when a file is missing. Not a test: sizes are figures to keep in the README, and CI runs the
same check as a test (tests/capture/web/test_assets.py) so the budget cannot quietly be broken.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import brotli

STATIC = Path(__file__).resolve().parents[1] / "static"
#: gzip -9 budgets in bytes
BUDGETS = {"embed.js": 5 * 1024, "embed.css": 2 * 1024}


def sizes(data: bytes) -> tuple[int, int, int]:
    return len(data), len(gzip.compress(data, compresslevel=9, mtime=0)), len(brotli.compress(data, quality=11))


def main() -> int:
    print(f"{'file':<12}{'raw':>8}{'gzip -9':>10}{'brotli':>9}{'budget':>9}  used")
    for name, budget in BUDGETS.items():
        path = STATIC / name
        if not path.exists():
            print(f"{name}: missing ({path})", file=sys.stderr)
            return 1
        raw, gz, br = sizes(path.read_bytes())
        print(f"{name:<12}{raw:>8}{gz:>10}{br:>9}{budget:>9}  {gz / budget:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
