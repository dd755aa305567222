"""Serving the app with gunicorn from inside the ``leadwheel`` command."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from capture.config import Config


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any], config: Config):
        self.options = options
        self.leadwheel_config = config
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # settings newer than the installed gunicorn are skipped
                self.cfg.set(key, value)

    def load(self) -> Any:
        from capture.app import create_app

        return create_app(self.leadwheel_config)


def serve_app(bind: str | list[str], *, workers: int, config: Config, threads: int = 4) -> None:
    binds = [bind] if isinstance(bind, str) else bind
    _Gunicorn(
        {
            "bind": binds,
            "workers": workers,
            "threads": threads,
            "accesslog": "-",
            "worker_tmp_dir": "/tmp",
            "access_log_format": '"%(m)s %(U)s" %(s)s %(b)s %(M)sms',
            # gunicorn 24+ opens a control socket at one fixed path per user; two servers
            # (the demo and a test, say) would fight over it, and Leadwheel does not use it.
            "control_socket_disable": True,
        },
        config,
    ).run()
