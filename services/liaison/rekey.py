"""Key rotation for the liaison channel: re-seals the chairs' names and addresses (and recomputes
the address hash) and the neighbours' names kept for the chairs' lists, under the active data key.
Run after rolling out a new key set, as `python -m services.booking.rekey` for booking.

    python -m services.liaison.rekey            # re-seal what is not under the active key
    python -m services.liaison.rekey --all      # also after changing the hash key"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from services.liaison import chairs
from shared import sealing
from shared.db import get_database
from shared.sealing import Rekeyed, reseal_field


def rekey(db: Any, everything: bool = False) -> Rekeyed:
    def rehash(opened: dict) -> dict:
        return {"email_hash": chairs.email_hash(opened["email"])}

    return reseal_field(db.chairs, "sealed", everything, rehash) + reseal_field(db.referrals, "sealed_name", everything)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m services.liaison.rekey", description=__doc__.split("\n")[0])
    parser.add_argument("--all", action="store_true", help="re-seal and re-hash everything")
    result = rekey(get_database("liaison"), everything=parser.parse_args(argv).all)
    print(
        f"re-sealed {result.resealed}, already current {result.current}, "
        f"changed meanwhile {result.changed_meanwhile} (active key {sealing.keyring().active})"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
