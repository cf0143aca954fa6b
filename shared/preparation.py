"""What a household has ready when the car comes (持ち物), from the municipality's `preparation:`
list: the same words on the printable page, in the e-mails and in reception's call script."""

from __future__ import annotations

from shared.municipality import Municipality, PreparationItem

# Shown before an item that applies only to some households.
ONLY_IF = {"child": "15歳未満の方が申請する場合", "proxy": "該当する方のみ"}


def items_for(city: Municipality, has_child: bool) -> list[PreparationItem]:
    """Everyone's items, the child items when an applicant needs a guardian, and the proxy items
    (a household knows whether someone acts for the applicant; the list says when they apply)."""
    return [item for item in city.preparation if item.audience != "child" or has_child]


def as_text(city: Municipality, has_child: bool) -> str:
    """The list as plain text for an e-mail or a call script."""
    lines = ["【当日ご用意いただくもの】"]
    for item in items_for(city, has_child):
        condition = f"（{ONLY_IF[item.audience]}）" if item.audience in ONLY_IF else ""
        lines.append(f"・{item.title}{condition}")
        if item.text:
            lines.append(f"　{item.text}")
        if item.a:
            lines.append(f"　A：{'、'.join(item.a)}")
        if item.b:
            lines.append(f"　B：{'、'.join(item.b)}")
    return "\n".join(lines)
