"""The audit log's chain, checked by an operator (shared.audit holds the chain itself):

    python -m deploy.tools.audit verify                      # exit 1 on a break
    python -m deploy.tools.audit verify --checkpoint SEQ:MAC # and that entry SEQ is still there

With booking's MONGODB_URI and DATA_KEYS (the chain's audit keys are kept with the data keys)."""

from __future__ import annotations

import argparse
import sys

from shared.audit import check


def parse_checkpoint(text: str) -> tuple[int, str]:
    """SEQ:MAC, as the hourly log line prints it."""
    seq, _, mac = text.partition(":")
    if not seq.isdigit() or len(mac) != 64:
        raise argparse.ArgumentTypeError("a checkpoint is SEQ:MAC, e.g. 1042:3f9a…(64 hex digits)")
    return int(seq), mac


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.tools.audit", description="Check the audit log's chain.")
    parser.add_argument("command", choices=["verify"])
    parser.add_argument(
        "--checkpoint", type=parse_checkpoint, help="SEQ:MAC from an earlier 'audit checkpoint' log line"
    )
    args = parser.parse_args(argv)
    from shared.db import get_database

    db = get_database("booking")
    unchained = db.audit.count_documents({"seq": {"$exists": False}})
    checked, broken = check(db, args.checkpoint)
    print(f"{checked} entries in order" + (f"; {unchained} from before the chain" if unchained else ""))
    if broken:
        print(f"BROKEN: {broken}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
