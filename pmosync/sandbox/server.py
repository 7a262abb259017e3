"""Run a WSGI app on a real threaded server on 127.0.0.1, in a background thread."""

from __future__ import annotations

import logging
import ssl
import threading
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    # The real services speak HTTP/1.1 (or 2) with persistent connections (RFC 9112 §9.3:
    # persistence is the default), so a client pays one TLS handshake per connection, not per
    # request. Werkzeug's default, HTTP/1.0, closed the connection after every answer.
    protocol_version = "HTTP/1.1"

    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002
        logging.getLogger("pmosync.sandbox").debug(message, *args)


class ServedApp:
    """Context manager: ``with ServedApp(app) as served: served.url``."""

    def __init__(
        self, app: Any, *, ssl_context: ssl.SSLContext | None = None, port: int = 0
    ) -> None:
        self.app = app
        self.ssl_context = ssl_context
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_port}"

    def start(self) -> ServedApp:
        self._server = make_server(
            "127.0.0.1",
            self.port,
            self.app,
            threaded=True,
            ssl_context=self.ssl_context,
            request_handler=_QuietHandler,
        )
        self._server.daemon_threads = True  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"sandbox:{self.url}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> ServedApp:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
