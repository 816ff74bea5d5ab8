"""The web app under uvicorn with several worker processes, as ``benchmarks/search.py`` runs it.

    python benchmarks/search_serve.py --port 8000 --workers 2

Exactly ``uvicorn --factory aggregator.web.app:create_app --workers N`` (uvicorn's own
supervisor and worker processes), with one difference: the listening socket is created as TCP
(``IPPROTO_TCP``). ``uvicorn --workers`` creates it with protocol 0, and asyncio sets
``TCP_NODELAY`` only on connections whose socket says ``IPPROTO_TCP``; without it every response
uvicorn writes in two parts (headers, then body) waits for the client's delayed ACK, about 40 ms
per request. A deployment running several workers has the same problem (see docs/search.md).
"""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path

from uvicorn import Config
from uvicorn.supervisors import Multiprocess

# Run as a script, this folder comes first on sys.path, and its search.py and dedupe.py would
# hide the packages of the same names; the workers inherit the path.
ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    config = Config(
        "aggregator.web.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.set_inheritable(True)
    Multiprocess(config, sockets=[sock]).run()


if __name__ == "__main__":
    main()
