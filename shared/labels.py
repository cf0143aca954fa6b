"""The Japanese words for codes that people read: on the staff screens and in the report's files."""

from __future__ import annotations

# Outreach channels. A channel added later shows as its code until it is named here.
CHANNELS = {"phone": "電話", "web": "ウェブ", "liaison": "公民館長の紹介", "counter": "窓口"}


def channel(code: str) -> str:
    return CHANNELS.get(code, code)
