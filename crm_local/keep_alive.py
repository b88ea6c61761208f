"""HTTP keep-alive for the local servers (the AWS endpoint and the gateway), which werkzeug's development
server turns off: it answers every request with ``Connection: close``, because Python's http.server reads the
next request from where the application stopped reading the last one's body.

So every boto3 call of the CRM to the local endpoint, and every call of a client to the gateway, opened a
TCP connection and left it in TIME_WAIT: a third of a request's time spent in connecting and closing, and a
loaded machine that ran out of local ports for a moment refused a connection. Here a request whose body has
a ``Content-Length`` is read whole before the application sees it (from a buffer), so the connection is
where the next request starts and can stay open, and werkzeug's discarding of what a request left unread
(which would eat the next request) reads nothing; a request with a chunked body still closes its
connection. An idle connection is closed after ``IDLE_SECONDS``.
"""

from __future__ import annotations

import io
from typing import Any

from werkzeug.serving import WSGIRequestHandler

IDLE_SECONDS = 60


class _NothingLeft:
    """What werkzeug's discarding reads from a request's connection once its body was read whole."""

    def read(self, size: int = -1) -> bytes:
        return b""


class KeepAlive(WSGIRequestHandler):
    """Werkzeug's request handler, with keep-alive for requests whose body has a length."""

    timeout = IDLE_SECONDS
    disable_nagle_algorithm = True  # an answer written in parts must not wait for the last part's ACK
    _keep_alive = False

    def run_wsgi(self) -> None:
        connection = self.rfile
        try:
            super().run_wsgi()
        finally:
            self.rfile = connection

    def make_environ(self) -> Any:
        environ = super().make_environ()
        length = environ.get("CONTENT_LENGTH")
        self._keep_alive = not environ.get("wsgi.input_terminated") and (
            length in (None, "") or length.isdigit()
        )
        if self._keep_alive:
            environ["wsgi.input"] = io.BytesIO(self.rfile.read(int(length)) if length else b"")
            self.rfile = _NothingLeft()  # type: ignore[assignment]
        return environ

    def log_error(self, format: str, *args: Any) -> None:
        if format.startswith("Request timed out"):
            return  # a kept-alive connection idle for IDLE_SECONDS, closed: nothing went wrong
        super().log_error(format, *args)

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == "connection" and value.lower() == "close" and self._keep_alive:
            return  # the body was read whole: the connection can carry the next request
        super().send_header(keyword, value)


def install() -> None:
    """moto's threaded server answers with a keep-alive handler of its own handler's kind."""
    from moto.moto_server import threaded_moto_server
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    if issubclass(threaded_moto_server.MotoRequestHandler, KeepAlive):
        return

    class MotoKeepAlive(KeepAlive, MotoRequestHandler):
        pass

    threaded_moto_server.MotoRequestHandler = MotoKeepAlive  # type: ignore[misc]
