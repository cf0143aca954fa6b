"""The services' JSON as the screens show it: Japanese dates and words, nothing computed twice."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from services.portal.japanese import day_label, era_of, time_label, window_label
from shared import clock, labels, municipality, workcalendar
from shared.household import age_on

BOOKING_STATUS = {"received": "受付済", "cancelled": "取消", "visited": "訪問済"}
VISIT_STATUS = {"unscheduled": "未調整", "scheduled": "日程確定", "done": "訪問済", "cancelled": "取消"}
OUTCOMES = {"completed": "申請済", "partial": "一部申請", "absent": "不在", "postponed": "延期"}
# What the crew records per applicant, in the order the tablet offers them.
APPLICANT_RESULTS = (
    ("applied", "申請済"),
    ("missing_documents", "書類不足"),
    ("absent", "本人不在"),
    ("wants_revisit", "再訪問希望"),
)


def _times(start: str, end: str) -> str:
    """9:30〜10:00, from two ISO moments."""
    return f"{time_label(_moment(start))}〜{time_label(_moment(end))}"


def _moment(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    return dt.datetime.fromisoformat(text).astimezone(municipality.load().timezone)


def booking_summary(booking: dict) -> dict:
    household = booking.get("household") or {}
    applicants = household.get("applicants") or []
    today = clock.today()
    city = municipality.load()
    guardian_age = city.eligibility.guardian_under_age
    return {
        "booking_id": booking["booking_id"],
        "reference": booking["reference"],
        "status": booking["status"],
        "status_label": BOOKING_STATUS.get(booking["status"], booking["status"]),
        "open": booking["status"] == "received",
        "channel_label": labels.channel(booking["channel"]),
        "created": day_label(_moment(booking["created_at"]).date()),
        "name": f"{applicants[0]['family_name']} {applicants[0]['given_name']}" if applicants else "（消去済）",
        "applicants": [
            {
                "name": f"{a['family_name']} {a['given_name']}",
                "kana": f"{a['family_name_kana']} {a['given_name_kana']}",
                "birth": era_of(dt.date.fromisoformat(a["birth_date"])),
                "age": age_on(dt.date.fromisoformat(a["birth_date"]), today),
                "child": age_on(dt.date.fromisoformat(a["birth_date"]), today) < guardian_age,
            }
            for a in applicants
        ],
        "district": _district_name((household.get("address") or {}).get("district")),
        "needs": household.get("needs") or "",
        "eligibility": eligibility_labels(booking.get("eligibility"), city),
        "link_code": booking.get("link_code") or "",
        "visit_notes": [
            {"day": day_label(_moment(n["at"]).date()), "note": n["note"]} for n in booking.get("visit_notes") or []
        ],
    }


def eligibility_labels(answers: dict | None, city: municipality.Municipality) -> list[str]:
    """The public form's answers as reception reads them (none when staff took the booking)."""
    if not answers:
        return []
    reasons = [r.label for code in answers["reasons"] if (r := city.eligibility.reason(code))]
    labels = [f"理由：{'、'.join(reasons)}" if reasons else "理由：なし"]
    labels.append("駐車場所：あり" if answers["parking"] else "駐車場所：なし")
    labels.append("2か月以内の転居予定：あり" if answers["moving_soon"] else "2か月以内の転居予定：なし")
    if answers.get("guardian_present"):
        labels.append("保護者の立ち会い：あり")
    return labels


def own_booking(found: dict, words: dict[str, str]) -> dict:
    """The resident's own page: status in words, the window as a sentence, the district's name."""
    status = "scheduled" if found["status"] == "received" and found.get("window") else found["status"]
    window = found.get("window")
    when = ""
    if window:
        start, end = _moment(window["window_start"]), _moment(window["window_end"])
        when = window_label(start, end)
    venue = municipality.load().venue(window["venue"]) if window and window.get("venue") else None
    return {
        **found,
        "status": status,
        "status_words": words.get(status, status),
        "district_name": _district_name(found["district"]),
        "when": when,
        "venue_name": venue.name if venue else "",
        "cancellable": status in ("received", "scheduled"),
    }


CALL_RESULTS = (("reached", "連絡がついた"), ("no_answer", "出なかった"), ("cancelled_by_resident", "取りやめの申し出"))
CANCEL_REASONS = (
    ("resident_request", "ご本人・ご家族の申し出"),
    ("duplicate", "重複した申込"),
    ("not_eligible", "対象外（市外に転出など）"),
    ("other", "その他"),
)
MESSAGE_KINDS = {
    "acknowledgement": "受付のお知らせ",
    "confirmation": "日時確定のお知らせ",
    "reminder": "前日のお知らせ",
    "slot_offer": "キャンセル待ちのご案内",
    "after_visit": "訪問後のお知らせ",
    "cancellation": "取消のお知らせ",
    "session_cancelled": "集団申請会の中止のお知らせ",
}
MESSAGE_STATUS = {
    "pending": "送信待ち",
    "sent": "送信済",
    "to_call": "要電話（メールなし）",
    "retrying": "再送中",
    "failed": "送信できず（要電話）",
}


def call_task(task: dict) -> dict:
    return {
        **task,
        "visit_time": time_label(_moment(task["visit_start"])),
        "call_by_time": time_label(_moment(task["call_by"])),
        "result_label": dict(CALL_RESULTS).get(task.get("result") or "", ""),
        "crew": _crew_name(task["crew_id"]),
    }


PHONED_RESULTS = (("told", "お伝えした"), ("letter_sent", "郵送でお知らせした"), ("no_answer", "出なかった"))


def phone_script(found: dict, reference: str, code: str = "") -> str:
    """What to say on the phone for a message e-mail could not carry (its details hold the dates)."""
    details = found.get("details") or {}
    if found["kind"] == "acknowledgement":
        own_page = f"ホームページでご確認いただく場合の確認コードは {' '.join(code)} です。" if code else ""
        return (
            f"お申し込みを受け付けました。受付番号は {reference} です。{own_page}"
            "日時は担当者から改めてご連絡します。当日は本人確認書類などをご用意ください（持ち物の一覧をお読みします）。"
        )
    if found["kind"] in ("confirmation", "reminder") and details.get("start") and details.get("window_end"):
        window = window_label(_moment(details["start"]), _moment(details["window_end"]))
        lead = "訪問の日が近づきましたのでお知らせします。" if found["kind"] == "reminder" else ""
        venue = municipality.load().venue(details["venue"]) if details.get("venue") else None
        if venue is not None:  # a hall session (or a group at a venue): they come to the hall
            return f"{lead}{window} の間に、{venue.name}へお越しください。"
        return f"{lead}{window} の間に伺います。当日、伺う前にお電話します。"
    if found["kind"] == "slot_offer" and details.get("start") and details.get("window_end"):
        window = window_label(_moment(details["start"]), _moment(details["window_end"]))
        return (
            f"ほかの方の取り消しで {window} に空きが出ました。ご希望なら、この電話で日時を確定します"
            "（申込の画面の「日時の候補」から選べます）。先着順です。"
        )
    if found["kind"] == "after_visit":
        return f"訪問の結果（{OUTCOMES.get(details.get('outcome', ''), '記録済み')}）をお伝えします。"
    if found["kind"] == "session_cancelled" and details.get("start"):
        day = day_label(_moment(details["start"]).date())
        return (
            f"{day}の集団申請会は中止になりました。会場にお越しいただく必要はありません。"
            "お申し込みは取り消されていません。ご自宅への訪問の日時を、この電話でご相談できます。"
        )
    return "お申し込みの取り消しを承りました。"


UNPLANNED_REASONS = {
    "no_room_within_wait_bound": "待てる日数のうちに空きがありません",
    "no_room_in_horizon": "計画の期間に空きがありません",
    "no_working_time_in_horizon": "計画の期間に業務日がありません",
    "fixed_visit_not_routable": "決まっている訪問と両立できません",
}


# Why a request may be visited past its wait bound (scheduling's codes), in reception's words.
WAIT_RISK_REASONS = {
    "over_capacity": "申込が多く、上限の日までに車の空きがありません",
    "overdue_no_room": "上限を過ぎていて、直近の日程にも空きがありません",
    "no_working_time": "上限の日までに、訪問できる業務日がありません",
    "queue_longer_than_bound": "待っている申込が多く、上限の日までに順番が来ない見込みです",
}


def _date_label(iso: str | None) -> str:
    """An ISO date in reception's words (12月9日（水）); "" for none."""
    return day_label(dt.date.fromisoformat(iso)) if iso else ""


def wait_facts(found: dict) -> dict:
    """The expected wait and the risk of passing the bound, as reception reads them out."""
    expected = found.get("expected") or {}
    risk = found.get("wait_risk")
    return {
        "expected_by": _date_label(expected.get("expected_by")),
        "expected_days": expected.get("expected_working_days"),
        "bound_by": _date_label(expected.get("bound_by")),
        "risk_label": WAIT_RISK_REASONS.get(risk["reason"], risk["reason"]) if risk else "",
    }


def plan(found: dict, waiting: dict[str, dict]) -> dict:
    """A batch plan by day; `waiting` maps the visits still unscheduled by id (others are fixed)."""
    days: dict[str, list] = {}
    for proposal in sorted(found["proposals"], key=lambda p: (p["date"], p["window_start"])):
        visit_found = waiting.get(proposal["visit_id"])
        days.setdefault(proposal["date"], []).append(
            {
                **proposal,
                "window": _times(proposal["window_start"], proposal["window_end"]),
                "crew": _crew_name(proposal["crew_id"]),
                "open": visit_found is not None,
                "reference": visit_found["reference"] if visit_found else "",
                "district_name": visit_found["district_name"] if visit_found else "",
                "household_size": visit_found["household_size"] if visit_found else "",
                "waited": visit_found.get("waited_working_days", 0) if visit_found else "",
            }
        )
    return {
        **found,
        "first": day_label(dt.date.fromisoformat(found["first_day"])),
        "last": day_label(dt.date.fromisoformat(found["last_day"])),
        "days": [(day_label(dt.date.fromisoformat(day)), rows) for day, rows in days.items()],
        "open_count": sum(row["open"] for _, rows in days.items() for row in rows),
        "unplanned_rows": [
            {**u, "reason_label": UNPLANNED_REASONS.get(u["reason"], u["reason"]), **_waiting_facts(waiting, u)}
            for u in found["unplanned"]
        ],
        "at_risk_rows": [
            {**r, "reason_label": WAIT_RISK_REASONS.get(r["reason"], r["reason"]), **_waiting_facts(waiting, r)}
            for r in found.get("at_risk", [])
        ],
    }


def _waiting_facts(waiting: dict[str, dict], unplanned: dict) -> dict:
    visit_found = waiting.get(unplanned["visit_id"]) or {}
    return {"reference": visit_found.get("reference", ""), "district_name": visit_found.get("district_name", "")}


def message(found: dict) -> dict:
    return {
        **found,
        "kind_label": MESSAGE_KINDS.get(found["kind"], found["kind"]),
        "status_label": MESSAGE_STATUS.get(found["status"], found["status"]),
        "created": day_label(_moment(found["created_at"]).date()),
    }


# Why reception closes a referral without a booking (shared.events.REFERRAL_CLOSE_REASONS).
REFERRAL_CLOSE_REASONS = (
    ("declined", "ご本人が希望しない"),
    ("unreachable", "電話がつながらない"),
    ("already_booked", "申込済みだった"),
    ("applied_elsewhere", "ほかの方法で申請した"),
)


def short_referral(found: dict) -> dict:
    """A chair's referral waiting for reception's call: when it came, how long it has waited."""
    received = _moment(found["received_at"])
    waited = workcalendar.working_days_between(received.date(), clock.today(), municipality.load().calendar)
    return {
        **found,
        "received": day_label(received.date()),
        "waited": waited,
        "district_name": _district_name(found["district"]),
        "phone_link": tel(found["phone"]),
    }


def _district_name(district_id: str | None) -> str:
    district = municipality.load().district(district_id) if district_id else None
    return district.name if district else ""


def offer(option: dict) -> dict:
    start, window_end = _moment(option["start"]), _moment(option["window_end"])
    return {
        "value": f"{option['crew_id']}|{option['start']}",
        "label": f"{window_label(start, window_end)} 到着",
        "crew": _crew_name(option["crew_id"]),
        "added_drive_minutes": option["added_drive_minutes"],
        "matches_preference": option["matches_preference"],
    }


def resident_choices(found: dict) -> dict:
    """The windows a resident may pick on their own page: waiting-list offers first, then the
    current best windows; values the pick form posts back."""
    waitlist = [
        {
            "value": f"offer|{o['offer_id']}",
            "label": window_label(_moment(o["start"]), _moment(o["window_end"])),
            "until": f"{day_label(_moment(o['expires_at']).date())}{time_label(_moment(o['expires_at']))}まで",
        }
        for o in found.get("waitlist") or []
    ]
    current = [
        {
            "value": f"window|{o['crew_id']}|{o['start']}",
            "label": window_label(_moment(o["start"]), _moment(o["window_end"])),
            "wished": o["matches_preference"],
        }
        for o in found.get("suggestions") or []
    ]
    return {"waitlist": waitlist, "current": current, "expected_by": _date_label(found.get("expected_by"))}


def wish_days(count: int = 20) -> list[tuple[str, str]]:
    """The next working days a resident may ask for, as (ISO date, 12月3日（木）)."""
    city = municipality.load()
    first = clock.today() + dt.timedelta(days=1)
    return [(d.isoformat(), day_label(d)) for d in workcalendar.working_days(first, count, city.calendar)]


def _crew_name(crew_id: str) -> str:
    crew = municipality.load().crew(crew_id)
    return crew.name if crew else crew_id


def visit(found: dict) -> dict:
    slot = found.get("slot")
    venue = municipality.load().venue(found["venue"]) if found.get("venue") else None
    window = "（未調整）"
    if slot:
        when = window_label(_moment(slot["window_start"]), _moment(slot["window_end"]))
        window = f"{when}・{venue.name}" if venue else f"{when} 到着"
    requested = _moment(found.get("requested_at"))
    return {
        **found,
        "status_label": VISIT_STATUS.get(found["status"], found["status"]),
        "window": window,
        "crew": _crew_name(slot["crew_id"]) if slot else "",
        "requested": day_label(requested.date()) if requested else "",
        "waited": found.get("waited_working_days", 0),
        **wait_facts(found),
    }


def _household(found: dict) -> dict:
    """A household at a stop (a door, or a hall session), ready for its result form."""
    return {
        **found,
        "status_label": VISIT_STATUS.get(found["status"], found["status"]),
        "address": _address(found.get("address")),
        # The key the tablet sends its result with: sent twice, it is recorded once.
        "result_id": str(uuid.uuid4()),
        "guardian_needed": any(a["guardian_needed"] for a in found.get("applicants") or []),
    }


def day_sheet(sheet: dict) -> dict:
    calls = {c["visit_id"]: c for c in sheet["calls"]}
    stops = []
    for number, stop in enumerate(sheet["stops"], start=1):
        call = calls.get(stop.get("visit_id")) or {}
        shown = {
            **stop,
            "number": number,
            "arrive": time_label(_moment(stop["arrive"])),
            "depart": time_label(_moment(stop["depart"])),
            "window": _times(stop["window_start"], stop["window_end"]),
            "end": time_label(_moment(stop["end"])),
            "call_at": time_label(_moment(call["call_at"])) if call.get("call_at") else "",
            "name": call.get("name"),
            "phone": call.get("phone"),
        }
        if stop["kind"] == "session":
            shown["hours"] = _times(stop["opens"], stop["closes"])
            shown["households"] = [_household(h) for h in stop["households"]]
        else:
            shown.update(_household(stop))
        stops.append(shown)
    back = _moment(sheet.get("return_to_depot"))
    return {
        **sheet,
        "crew": _crew_name(sheet["crew_id"]),
        "day": day_label(dt.date.fromisoformat(sheet["date"])),
        "start": time_label(_moment(sheet["day_start"])),
        "back": time_label(back) if back else "",
        "stops": stops,
    }


def _address(address: dict | None) -> str:
    if not address:
        return ""
    return f"〒{address['postal_code']} {_district_name(address['district'])} {address['line']}"


def tel(phone: Any) -> str:
    """A tel: link's number: digits only."""
    return "".join(ch for ch in str(phone or "") if ch.isdigit())


def hall_session(found: dict) -> dict:
    """A hall session (集団申請) as the pages show it; `filled` only where the sign-ups are known."""
    start, end = _moment(found["start"]), _moment(found["end"])
    shown = {
        **found,
        "day": day_label(start.date()),
        "hours": f"{time_label(start)}〜{time_label(end)}",
        "when": f"{day_label(start.date())} {time_label(start)}〜{time_label(end)}",
    }
    if "capacity" in found:
        shown["filled"] = f"{found['persons_signed_up']}人／定員{found['capacity']}人"
    return shown
