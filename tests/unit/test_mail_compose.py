"""The e-mail as a mail client reads it: Japanese subject, sender name and body intact, on both
the fast (ASCII address) and the international (SMTPUTF8) path."""

from email import policy
from email.parser import BytesParser, Parser

import pytest

from shared.mail import SENDER_NAME, Rendered, compose

MESSAGE = Rendered(
    "【都城市】マイナちゃんカーのお申し込みを受け付けました（受付番号 261128-001）",
    "都城 花子 様\n\nお申し込みを受け付けました。\n" * 20,
)


def read(mail):
    """Flattened as smtplib.send_message does, then parsed as a mail client would: headers and
    body (Python's parser reads raw UTF-8 headers only from text, 8-bit bodies only from bytes)."""
    if mail["To"].isascii():
        parsed = BytesParser(policy=policy.default).parsebytes(mail.as_bytes())
        return parsed, parsed
    raw = mail.as_bytes(policy=mail.policy.clone(utf8=True))  # SMTPUTF8: headers in raw UTF-8
    headers = Parser(policy=policy.default).parsestr(raw.decode("utf-8"))
    return headers, BytesParser(policy=policy.default).parsebytes(raw)


@pytest.mark.parametrize("to", ["hanako@example.jp", "はなこ@例え.jp"])
def test_what_the_resident_reads(to):
    parsed, body = read(compose("mynacar@city.example.jp", to, MESSAGE, "acknowledgement-b1"))
    assert parsed["Subject"] == MESSAGE.subject
    assert parsed["From"].addresses[0].display_name == SENDER_NAME
    assert parsed["From"].addresses[0].addr_spec == "mynacar@city.example.jp"
    assert parsed["To"] == to
    assert parsed["Message-ID"] == "<acknowledgement-b1@mynacar>"
    assert parsed["Date"].datetime is not None
    assert body.get_content_type() == "text/plain"
    assert body.get_content().rstrip("\n") == MESSAGE.body.rstrip("\n")


def test_headers_are_ascii_and_folded_on_the_fast_path():
    raw = compose("mynacar@city.example.jp", "hanako@example.jp", MESSAGE, "m1").as_bytes()
    headers = raw.split(b"\n\n", 1)[0]
    assert headers.isascii()  # encoded words: any relay takes it without SMTPUTF8
    assert max(len(line) for line in headers.splitlines()) <= 78
