"""A small HTTP server for the page, on the standard library alone.

Safe by construction rather than by configuration: the static files are read once
from the package into a table, and a request names one of its keys, never a path;
bodies are bounded (``MAX_BODY``) and must announce their length; every reply is
JSON or one of those files, and a failure is a JSON error, not a traceback. Bound
to a loopback address, it answers only requests whose ``Host`` is a loopback name,
so a web page elsewhere cannot reach it by re-pointing its own domain name at
127.0.0.1 (DNS rebinding).
"""

import ipaddress
import json
import socket
import sys
import threading
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qs, urlsplit

from ._app import RequestError, parse_count, parse_drawing

__all__ = ["MAX_BODY", "make_server", "running"]

MAX_BODY = 1 << 20  # bytes; a 280x280 drawing as JSON is about 200 kB
_STATIC = {"/": ("index.html", "text/html; charset=utf-8"),
           "/app.js": ("app.js", "text/javascript; charset=utf-8"),
           "/style.css": ("style.css", "text/css; charset=utf-8")}
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _read_static():
    folder = resources.files(__package__) / "static"
    return {route: ((folder / name).read_bytes(), ctype)
            for route, (name, ctype) in _STATIC.items()}


class _Handler(BaseHTTPRequestHandler):
    server_version = "sknumpy-mlp"
    sys_version = ""
    timeout = 10  # seconds a slow client may hold a connection

    def do_GET(self):  # noqa: N802 (the standard library's name)
        self._answer(self._get)

    def do_POST(self):  # noqa: N802
        self._answer(self._post)

    def _answer(self, route):
        try:
            if not self._host_allowed():
                raise _Refusal(HTTPStatus.FORBIDDEN, "unexpected Host header")
            route(urlsplit(self.path))
        except RequestError as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
        except _Refusal as exc:
            self._json(exc.status, {"error": exc.message})
        except Exception as exc:  # a bug: say so briefly, keep serving
            self.log_error("internal error: %s: %s", type(exc).__name__, exc)
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "internal error"})

    def _get(self, url):
        reader = self.server.reader
        if url.path in self.server.static:
            body, ctype = self.server.static[url.path]
            return self._send(HTTPStatus.OK, body, ctype)
        if url.path == "/api/info":
            return self._json(HTTPStatus.OK, reader.info())
        if url.path == "/api/samples":
            n = parse_count(parse_qs(url.query).get("n", [None])[-1])
            return self._json(HTTPStatus.OK, reader.samples(n))
        raise _Refusal(HTTPStatus.NOT_FOUND, f"no such page: {url.path}")

    def _post(self, url):
        if url.path != "/api/predict":
            raise _Refusal(HTTPStatus.NOT_FOUND, f"no such endpoint: {url.path}")
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise _Refusal(HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                           "send the drawing as Content-Type: application/json")
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise _Refusal(HTTPStatus.LENGTH_REQUIRED, "a Content-Length is required")
        if int(length) > MAX_BODY:
            self.close_connection = True  # the unread body must not be parsed as a request
            raise _Refusal(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                           f"the body has {length} bytes; at most {MAX_BODY}")
        ink = parse_drawing(self.rfile.read(int(length)))
        self._json(HTTPStatus.OK, self.server.reader.read(ink))

    def _host_allowed(self):
        if not self.server.loopback_only:
            return True
        host = self.headers.get("Host", "")
        name = host[1:host.find("]")] if host.startswith("[") else host.rsplit(":", 1)[0]
        return name.lower() in _LOOPBACK_NAMES

    def _json(self, status, obj):
        self._send(status, json.dumps(obj).encode(), "application/json")

    def _send(self, status, body, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in _HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def send_error(self, code, message=None, explain=None):
        """The standard library's own refusals (bad request line, unknown method,
        oversized headers) as JSON too, like every other answer.
        """
        self.close_connection = True
        self._json(code, {"error": message or HTTPStatus(code).phrase})

    def log_message(self, format, *args):  # noqa: A002 (the standard library's name)
        if self.server.verbose:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")

    def log_error(self, format, *args):  # noqa: A002
        sys.stderr.write(f"sknumpy-mlp serve: {format % args}\n")


class _Server6(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class _Refusal(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


def make_server(reader, host="127.0.0.1", port=0, *, verbose=False):
    """An HTTP server for ``reader`` (a :class:`DigitReader`), not yet serving.

    Parameters
    ----------
    reader : DigitReader
        The model behind the page.
    host : str, default="127.0.0.1"
        Address to listen on. Only a loopback address keeps the page to this
        machine; anything else (e.g. ``"0.0.0.0"``) lets others on the network in.
    port : int, default=0
        Port; 0 picks a free one (see the server's ``url``).
    verbose : bool, default=False
        Log every request to stderr.

    Returns
    -------
    server : http.server.ThreadingHTTPServer
        Call ``serve_forever()`` (or use :func:`running`), then ``server_close()``.
        Its ``url`` attribute is the page's address.
    """
    server = (_Server6 if ":" in host else ThreadingHTTPServer)((host, port), _Handler)
    server.daemon_threads = True
    server.reader, server.static, server.verbose = reader, _read_static(), verbose
    server.loopback_only = _is_loopback(host)
    shown = f"[{host}]" if ":" in host else host
    server.url = f"http://{shown}:{server.server_address[1]}/"
    return server


@contextmanager
def running(server):
    """Serve in a background thread for the ``with`` block, then shut down."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
