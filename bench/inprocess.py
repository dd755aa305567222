"""CPU per ask and per answer in process (Flask's test client, no server), for this checkout and another.

    .venv/bin/python bench/inprocess.py [--against DIR] [--requests 200] [--rounds 5]

A server benchmark (bench/run.py) measures what a visitor meets, but on a shared machine its
figures move with whatever else runs. This one measures the CPU time one process spends per
request, best of ``--rounds`` runs of ``--requests`` each, on the same database setup as
bench/run.py (a returning visitor with 10 known fields; three answers per post, each with a fresh
ticket). With ``--against DIR`` (a checkout of another version, e.g. a ``git worktree``) each
version runs in its own child process, alternately, twice, and the ratio this/other is printed.
Not a test: it reports.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def measure(repo: Path, requests: int, rounds: int) -> dict[str, float]:
    """Runs inside the child: µs of CPU per ask and per answer, best of ``rounds``."""
    sys.path.insert(0, str(repo))
    os.chdir(repo)
    import bench.run as run

    tmp = Path(tempfile.mkdtemp(prefix="leadwheel-inprocess-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    site_key = run.prepare_database(url, leads=0)
    secret = secrets.token_urlsafe(48)
    os.environ.update({
        "SECRET_KEY": secret, "DATABASE_URL": url, "LEADWHEEL_MIN_FILL_SECONDS": "0",
        "LEADWHEEL_TICKET_SECONDS": str(30 * 24 * 3600), **run.limit_settings("off"),
    })  # fmt: skip
    from capture.config import Config
    from capture.web.app import create_app

    client = create_app(Config.from_env()).test_client()
    base = f"/api/v1/sites/{site_key}/forms/{run.SLUG}"

    def post(path: str, body: dict, expect: int) -> dict:  # type: ignore[type-arg]
        response = client.post(path, json=body, headers={"Origin": run.ORIGIN})
        if response.status_code != expect:
            raise SystemExit(f"{path}: {response.status_code} {response.get_json()}")
        return response.get_json()  # type: ignore[no-any-return]

    run.post = lambda url, body, expect: post(url, body, expect)  # the setup's requests go in process too
    ask_body, _ = run.returning_visitor(base, "asker@example.com")
    _, to_answer = run.returning_visitor(base, "answerer@example.com")
    answer_body = {
        "ticket": to_answer["ticket"], "answers": {q["key"]: run.ANSWERS[q["key"]] for q in to_answer["questions"]},
        "skipped": [], "locale": "en", "page_url": run.PAGE_URL,
    }  # fmt: skip
    pool = run.TicketPool(secret, to_answer["ticket"], answer_body, 1, 0)
    work = {
        "ask": lambda: post(f"{base}/ask", ask_body, 200),
        "answer": lambda: post(f"{base}/answers", pool.body_with_fresh_ticket(), 201),
    }
    best: dict[str, float] = {}
    for name, request in work.items():
        for _ in range(requests // 2):  # warm: caches, the page cache, the compiled statements
            request()
        for _ in range(rounds):
            started = time.process_time()
            for _ in range(requests):
                request()
            spent = (time.process_time() - started) / requests * 1e6
            best[name] = min(best.get(name, spent), spent)
    return best


def child(repo: Path, requests: int, rounds: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", str(repo), "--requests", str(requests), "--rounds", str(rounds)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{repo}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", type=Path, help="another checkout to compare with")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(measure(args.child, args.requests, args.rounds)))
        return 0
    versions = [("this", REPO)] + ([("other", args.against.resolve())] if args.against else [])
    results: dict[str, list[dict[str, float]]] = {name: [] for name, _ in versions}
    for _ in range(2 if args.against else 1):
        for name, repo in versions:
            results[name].append(child(repo, args.requests, args.rounds))
            print(f"  {name:<6} " + "  ".join(f"{k} {v:6.0f} µs" for k, v in results[name][-1].items()), flush=True)
    best = {name: {k: min(run[k] for run in runs) for k in runs[0]} for name, runs in results.items()}
    print("\nCPU per request, best of all runs:")
    for key in best["this"]:
        line = f"  {key:<7} this {best['this'][key]:6.0f} µs"
        if "other" in best:
            line += f"   other {best['other'][key]:6.0f} µs   this/other {best['this'][key] / best['other'][key]:.2f}"
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
