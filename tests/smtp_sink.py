"""A local SMTP sink for the alert tests (aiosmtpd): accepts every mail on 127.0.0.1:PORT and
writes each one, as received, to MAILDIR/<n>.eml. Never relays anything.

    python -m tests.smtp_sink PORT MAILDIR

The fixture in tests/test_alerts.py starts it in its own process group on a free port, waits
(bounded) until it accepts connections, and kills the group after the test."""

from __future__ import annotations

import itertools
import signal
import sys
import threading
from pathlib import Path

from aiosmtpd.controller import Controller


class Maildir:
    def __init__(self, folder: Path):
        self.folder = folder
        self.numbers = itertools.count(1)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            n = next(self.numbers)
        part = self.folder / f".{n}.eml.part"
        part.write_bytes(envelope.original_content or envelope.content)
        part.rename(self.folder / f"{n:04d}.eml")  # whole files only: a reader never sees half a mail
        return "250 Message accepted for delivery"


def main(port: int, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(Maildir(folder), hostname="127.0.0.1", port=port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
