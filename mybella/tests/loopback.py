"""The common part of the fake remote APIs the tests start: an HTTP server on 127.0.0.1."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LoopbackServer(ThreadingHTTPServer):
    """Serve `handler` on a free port of 127.0.0.1 in a background thread until stop()."""

    daemon_threads = True  # a stalled handler must not hold up stop()

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.lock = threading.Lock()
        self.stall = 0.0
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)

    def start(self) -> None:
        """Start answering requests (once the subclass has set itself up)."""
        self._thread.start()

    def stall_next(self, seconds: float) -> None:
        """Wait `seconds` before answering the next request."""
        with self.lock:
            self.stall = seconds

    def stop(self) -> None:
        """Stop serving and free the port."""
        self.shutdown()
        self.server_close()
