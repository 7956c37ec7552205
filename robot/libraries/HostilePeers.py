"""Robot keywords for hostile, slow and many peers of the board's HTTPS server, on
``host_tools/hostile_peers.py`` (loopback only: the board's 127.0.0.1 forward).

| ${port}=    Get Forwarded Port
| ${pki}=     Ensure Test PKI
| ${reply}=   Send Hostile Input    sslv3    ${port}    ${pki}
| Should Start With    ${reply}    TLS alert
| Fetch Pages At Once    ${port}    ${pki}    50
| Open Silent Connections    ${port}    5
| Start Slow Client    ${port}
| Close Hostile Connections
"""

import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from robot.api import logger  # noqa: E402
from robot.api.deco import keyword, library  # noqa: E402

from host_tools import hostile_peers as hp  # noqa: E402
from host_tools.ssl_client import FetchError, fetch  # noqa: E402


@library(scope="SUITE")
class HostilePeers:
    def __init__(self):
        self._sockets = []
        self._stop = threading.Event()
        self._threads = []

    @keyword("Hostile Input Cases")
    def hostile_input_cases(self) -> list:
        """The names of the cases `Send Hostile Input` knows, e.g. ``sslv3``, ``64k-line``."""
        return list(hp.CASES)

    @keyword("Send Hostile Input")
    def send_hostile_input(self, case: str, port, pki) -> str:
        """Sends the hostile input ``case`` to the board's HTTPS server at
        127.0.0.1:``port`` (``pki``: the lab PKI directory, for the CA) and returns a
        one-line summary of the answer: ``HTTP/1.0 400 Bad Request``, ``TLS alert level 2
        description 70``, ``closed, nothing sent back`` or ``N bytes (...)``."""
        if case not in hp.CASES:
            raise AssertionError(f"No hostile input '{case}'; use one of {', '.join(hp.CASES)}.")
        c = hp.CASES[case]
        try:
            reply = c.run(int(port), Path(pki) / "ca.pem")
        except OSError as e:
            reply = b""
            logger.info(f"{case}: {type(e).__name__}: {e}")
        summary = hp._summary(reply)
        logger.info(f"{case} ({c.what}): {summary}")
        return summary

    @keyword("Fetch Pages At Once")
    def fetch_pages_at_once(self, port, pki, count=50, timeout=600) -> list:
        """``count`` HTTPS clients fetch the board's page at the same time; fails unless
        every one got ``200``. Returns the page hits they saw, sorted."""
        results, errors = {}, {}

        def one(i):
            try:
                results[i] = fetch(f"https://127.0.0.1:{int(port)}/", ca=Path(pki) / "ca.pem",
                                   timeout=float(timeout))
            except FetchError as e:
                errors[i] = str(e)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(int(count))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(float(timeout) + 30)
        if errors:
            raise AssertionError(f"{len(errors)} of {count} clients failed: "
                                 f"{sorted(set(errors.values()))[:3]}")
        statuses = sorted(r.status for r in results.values())
        if statuses != [200] * int(count):
            raise AssertionError(f"Expected {count} pages, got statuses {statuses}.")
        hits = []
        for r in results.values():
            text = r.body.decode(errors="replace")
            start = text.find("Page hits: ")
            hits.append(int(text[start + 11:text.find("<", start)]))
        return sorted(hits)

    @keyword("Open Silent Connections")
    def open_silent_connections(self, port, count=5):
        """Opens ``count`` TCP connections to the board that never send a byte (closed by
        `Close Hostile Connections`)."""
        self._sockets += hp.silent("127.0.0.1", int(port), int(count))

    @keyword("Start Slow Client")
    def start_slow_client(self, port, interval=15):
        """Starts a client sending a ClientHello one byte every ``interval`` s."""
        t = threading.Thread(target=hp.slow_client,
                             args=("127.0.0.1", int(port), self._stop, float(interval)),
                             daemon=True)
        t.start()
        self._threads.append(t)

    @keyword("Close Hostile Connections")
    def close_hostile_connections(self):
        """Closes the silent connections and stops the slow clients."""
        self._stop.set()
        for s in self._sockets:
            s.close()
        for t in self._threads:
            t.join(5)
        self._sockets, self._threads = [], []
        self._stop = threading.Event()
