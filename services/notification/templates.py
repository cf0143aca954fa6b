"""The residents' messages, in plain polite Japanese. Rendered at sending time and never stored,
so names stay in booking's database only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shared import preparation, settings
from shared.mail import Rendered
from shared.municipality import Municipality, Venue

WEEKDAYS = "月火水木金土日"


@dataclass(frozen=True)
class Addressee:
    """Whom a message is for, as booking's contact gives it at sending time."""

    name: str
    reference: str
    link_token: str
    has_child: bool = False

    @property
    def own_page(self) -> str:
        return f"{settings.public_base_url()}/my/{self.link_token}"


def when(start: dt.datetime, window_end: dt.datetime) -> str:
    """2026年12月1日（火）午前9時30分〜午前10時00分"""

    def clock_text(moment: dt.datetime) -> str:
        half = "午前" if moment.hour < 12 else "午後"
        hour = moment.hour if moment.hour <= 12 else moment.hour - 12
        return f"{half}{hour}時{moment.minute:02d}分"

    return (
        f"{start.year}年{start.month}月{start.day}日（{WEEKDAYS[start.weekday()]}）"
        f"{clock_text(start)}〜{clock_text(window_end)}"
    )


def _own_page(to: Addressee) -> str:
    return (
        "\n\nお申し込みの内容の確認や取り消しは、ご本人用のページからできます"
        "（他の方には教えないでください）。\n"
        f"{to.own_page}"
    )


def _footer(city: Municipality, to: Addressee) -> str:
    return _own_page(to) + (
        f"\n\n{city.contact_office}\n電話 {city.contact_phone}\n"
        "（このメールは送信専用です。ご返信いただいてもお答えできません。）\n"
    )


def acknowledgement(to: Addressee, city: Municipality) -> Rendered:
    return Rendered(
        subject=f"【{city.name}】マイナンバーカード申請補助（出張）のお申し込みを受け付けました",
        body=(
            f"{to.name} 様\n\n"
            "マイナンバーカードの申請補助（マイナちゃんカーによる出張）のお申し込みを受け付けました。\n"
            f"受付番号：{to.reference}\n\n"
            "訪問の日時は、担当者からお電話またはメールでご相談します。しばらくお待ちください。\n\n"
            + preparation.as_text(city, to.has_child)
            + _footer(city, to)
        ),
    )


def _visit_notice(
    to: Addressee,
    lead: str,
    start: dt.datetime,
    window_end: dt.datetime,
    city: Municipality,
    venue: Venue | None,
    closing: str,
) -> str:
    """The body of a message about a fixed visit: when, where, the reference, what to prepare. At a
    venue (a group, or a hall session) the household comes to the hall while the crew is there."""
    if venue:
        where = f"日時：{when(start, window_end)}\n会場：{venue.name}（この時間内に会場へお越しください）\n"
        call = ""
    else:
        where, call = (
            f"訪問日時：{when(start, window_end)} の間に伺います\n",
            "当日は、伺う前に担当者からお電話します。",
        )
    return (
        f"{to.name} 様\n\n{lead}\n\n"
        f"{where}"
        f"受付番号：{to.reference}\n\n"
        f"{call}{closing}\n\n" + preparation.as_text(city, to.has_child) + _footer(city, to)
    )


def confirmation(
    to: Addressee,
    start: dt.datetime,
    window_end: dt.datetime,
    city: Municipality,
    venue: Venue | None = None,
) -> Rendered:
    return Rendered(
        subject=f"【{city.name}】訪問日時が決まりました（受付番号 {to.reference}）",
        body=_visit_notice(
            to,
            "マイナンバーカードの申請補助の訪問日時が決まりました。",
            start,
            window_end,
            city,
            venue,
            "\n職員2名が車で伺い、車内で写真撮影と申請をお手伝いします（1人あたり約30分）。",
        ),
    )


def reminder(
    to: Addressee,
    start: dt.datetime,
    window_end: dt.datetime,
    city: Municipality,
    venue: Venue | None = None,
) -> Rendered:
    return Rendered(
        subject=f"【{city.name}】{start.month}月{start.day}日の訪問のお知らせ（受付番号 {to.reference}）",
        body=_visit_notice(
            to,
            "マイナンバーカードの申請補助の訪問の日が近づきましたので、お知らせします。",
            start,
            window_end,
            city,
            venue,
            "ご都合が悪くなったときは、下のページから取り消すか、お電話でご連絡ください。",
        ),
    )


def slot_offer(
    to: Addressee, start: dt.datetime, window_end: dt.datetime, expires_at: dt.datetime, city: Municipality
) -> Rendered:
    until = f"{expires_at.month}月{expires_at.day}日 {expires_at.hour}時{expires_at.minute:02d}分"
    return Rendered(
        subject=f"【{city.name}】訪問の日時に空きが出ました（受付番号 {to.reference}）",
        body=(
            f"{to.name} 様\n\n"
            "お待たせしております。ほかの方の取り消しで、訪問の日時に空きが出ました。\n\n"
            f"空いた日時：{when(start, window_end)} の間\n\n"
            "この日時でよろしければ、下のご本人用のページで「この日時にする」を押してください。"
            f"先着順のため、ほかの方に決まることがあります（{until}まで）。\n"
            "ご都合が合わないときは、何もしなくてかまいません。これまでどおり担当者からご連絡します。"
            + _footer(city, to)
        ),
    )


_RESULT_TEXT = {
    "completed": (
        "本日は申請補助をご利用いただき、ありがとうございました。\n"
        "マイナンバーカードは約1か月後に「本人限定受取郵便」でお届けします。"
        "ご本人しか受け取れませんので、ご注意ください（転送はされません）。"
    ),
    "partial": (
        "本日は申請補助をご利用いただき、ありがとうございました。\n"
        "申請がお済みの方のカードは約1か月後に「本人限定受取郵便」でお届けします。"
        "まだ申請されていない方については、改めて担当者からご連絡します。"
    ),
    "absent": "本日伺いましたが、お会いできませんでした。改めて担当者からご連絡します。",
    "postponed": "本日の訪問は延期となりました。改めて担当者から日時のご相談のご連絡をします。",
}


def after_visit(to: Addressee, outcome: str, city: Municipality) -> Rendered:
    return Rendered(
        subject=f"【{city.name}】マイナンバーカード申請補助のご利用について（受付番号 {to.reference}）",
        body=f"{to.name} 様\n\n{_RESULT_TEXT[outcome]}\n受付番号：{to.reference}" + _footer(city, to),
    )


def session_cancelled(to: Addressee, start: dt.datetime, city: Municipality) -> Rendered:
    local = start.astimezone(city.timezone)
    day = f"{local.month}月{local.day}日"
    return Rendered(
        subject=f"【{city.name}】{day}の集団申請会は中止になりました（受付番号 {to.reference}）",
        body=(
            f"{to.name} 様\n\n"
            f"お申し込みいただいた{day}の集団申請会（公民館での申請補助）は、中止になりました。"
            "会場にお越しいただく必要はありません。ご迷惑をおかけして申し訳ありません。\n\n"
            "お申し込みは取り消されていません。ご自宅への訪問の日時を、改めて担当者からご相談します。\n"
            f"受付番号：{to.reference}" + _footer(city, to)
        ),
    )


def cancellation(to: Addressee, city: Municipality) -> Rendered:
    return Rendered(
        subject=f"【{city.name}】お申し込みの取り消しを承りました（受付番号 {to.reference}）",
        body=(
            f"{to.name} 様\n\n"
            f"受付番号 {to.reference} のお申し込みの取り消しを承りました。\n"
            "またのご利用をお待ちしております。" + _footer(city, to)
        ),
    )
