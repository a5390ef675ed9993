"""CPU per request of lockcheck's HttpSession (issue 17): GETs in one thread, `thread_time`.

Run it with the interpreter of the venv to measure (lockcheck installed there), against a
loopback server (a 2 KB answer with five headers; the default) or against the URLs in a
file (one per line, asked in turn), e.g. index pages:

    .venv/bin/python benchmarks/http_per_request.py                  # loopback, GET
    .venv/bin/python benchmarks/http_per_request.py --stream         # loopback, streamed
    PIP_CONFIG_FILE=/dev/null .venv/bin/python benchmarks/http_per_request.py --urls pages.txt

Prints the median and the minimum of five rounds of --requests requests each.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

_SERVER = r"""
import http.server
HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 2000\r\n"
        b"Date: Mon, 30 Nov 2026 07:08:41 GMT\r\nAccept-Ranges: bytes\r\nETag: \"v1\"\r\n\r\n")
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.wfile.write(HEAD + b"x" * 2000)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""
_ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--urls", help="file of URLs to ask (default: a loopback server)")
    parser.add_argument("--requests", type=int, default=500, help="requests per round")
    parser.add_argument("--stream", action="store_true", help="HttpSession.stream, not get")
    args = parser.parse_args()

    from lockcheck.index.http import HttpSession
    from lockcheck.index.settings import IndexSettings

    server = None
    if args.urls:
        with open(args.urls, encoding="utf-8") as fh:
            urls = [line.strip() for line in fh if line.strip()]
    else:
        server = subprocess.Popen(
            [sys.executable, "-c", _SERVER], stdout=subprocess.PIPE, text=True
        )
        assert server.stdout is not None
        urls = [f"http://127.0.0.1:{int(server.stdout.readline())}/f/a.whl.metadata"]
    session = HttpSession(IndexSettings(index_url=urls[0]))
    try:

        def ask(url: str) -> None:
            if args.stream:
                session.stream(url, lambda response: response.read(), headers={"Range": "x"})
            else:
                session.get(url, headers={"Accept": _ACCEPT})

        for url in urls[:20]:
            ask(url)  # connections, TLS, imports: not counted
        rounds = []
        for _ in range(5):
            start = time.thread_time()
            for i in range(args.requests):
                ask(urls[i % len(urls)])
            rounds.append((time.thread_time() - start) / args.requests * 1e6)
    finally:
        session.close()
        if server is not None:
            server.kill()
    kind = "stream" if args.stream else "get"
    print(f"{kind}: median {statistics.median(rounds):.0f} us, min {min(rounds):.0f} us CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
