"""Named crash points for the fault suite. Inert unless MYNACAR_FAULT_CRASH_AT names the point.

A crash between two steps that no outside signal can time (an e-mail sent, not yet recorded) is
the case the reliability promises are about; the fault suite sets MYNACAR_FAULT_CRASH_AT=<point>
and MYNACAR_FAULT_CRASH_AFTER=<n> on one process, which then kills itself (SIGKILL, no clean-up) the
n-th time it passes that point. Never set in a deployment.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

_passed: Counter[str] = Counter()


def crash_point(name: str) -> None:
    if os.environ.get("MYNACAR_FAULT_CRASH_AT") != name:
        return
    _passed[name] += 1
    if _passed[name] == int(os.environ.get("MYNACAR_FAULT_CRASH_AFTER", "1")):
        os.kill(os.getpid(), signal.SIGKILL)
