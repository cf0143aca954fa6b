"""Prints booking's public referral key, derived from the data keys, for the chart's
`referralKey.public` (shared.referral_seal): `DATA_KEYS_FILE=... python -m deploy.tools.referral_key`.
Run it again after rotating the data keys; booking still opens referrals sealed to older keys it holds."""

from __future__ import annotations

import json

from shared import referral_seal, sealing


def main() -> None:
    print(json.dumps(referral_seal.public_document(sealing.keyring())))


if __name__ == "__main__":
    main()
