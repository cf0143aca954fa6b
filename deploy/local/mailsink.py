"""A local SMTP server (aiosmtpd) that keeps every message in a Maildir, for `make run` and tests."""

from __future__ import annotations

import argparse
import mailbox
import signal
import threading
from email import message_from_bytes, policy
from typing import Any

from aiosmtpd.controller import Controller


class MaildirHandler:
    def __init__(self, path: str) -> None:
        self.maildir = mailbox.Maildir(path, create=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.maildir.add(mailbox.MaildirMessage(message.as_bytes()))
        print(f"mail sink: message {message['Message-ID']} stored", flush=True)
        return "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--maildir", default="var/mail")
    args = parser.parse_args()
    controller = Controller(MaildirHandler(args.maildir), hostname=args.host, port=args.port)
    controller.start()
    print(f"mail sink: SMTP on {args.host}:{args.port}, messages in {args.maildir}", flush=True)
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    stopped.wait()
    controller.stop()


if __name__ == "__main__":
    main()
