"""An open-loop load: POSTs at a fixed rate, whatever the answers' latency, so a pipeline that
cannot keep up shows a growing backlog instead of slowing the load down (as wrk's closed loop
would). Light enough for the rates we offer (a few hundred a second) to cost the measured system
little CPU."""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class PacedLoad:
    url: str
    body: bytes
    rate: float  # requests per second
    seconds: float
    connections: int = 10
    accepted: int = 0
    refused: int = 0
    late: int = 0  # requests sent more than one interval after their slot: the server lagged
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self) -> None:
        start = time.monotonic() + 0.1
        total = int(self.rate * self.seconds)
        threads = [
            threading.Thread(target=self._connection, args=(start, index, total), daemon=True)
            for index in range(self.connections)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _connection(self, start: float, index: int, total: int) -> None:
        target = urlsplit(self.url)
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        interval = 1.0 / self.rate
        for slot in range(index, total, self.connections):
            due = start + slot * interval
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            late = -wait > interval
            connection.request("POST", target.path, self.body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            with self._lock:
                self.late += late
                if response.status == 201:
                    self.accepted += 1
                else:
                    self.refused += 1
        connection.close()
