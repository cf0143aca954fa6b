"""The phone-booking form: what reception types, turned into the booking API's body, and every error
(ours, the schema's, the API's) put back next to the field it belongs to, in Japanese.

The form is checked here with the booking API's own schema before anything is sent, so a mistake
costs no round trip and nothing is stored; the API checks it again."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError

from services.booking.schemas import BookingRequestSchema
from services.portal.japanese import NotADate, parse_date
from shared.http import screen_and_load
from shared.validation import field_errors, normalize, normalize_kana

MAX_APPLICANTS = 10
APPLICANT_FIELDS = ("family_name", "given_name", "family_name_kana", "given_name_kana", "birth_date")
APPLICANT_LABELS = {
    "family_name": "氏名（姓）",
    "given_name": "氏名（名）",
    "family_name_kana": "フリガナ（姓）",
    "given_name_kana": "フリガナ（名）",
    "birth_date": "生年月日",
}
HOUSEHOLD_LABELS = {
    "phone": "電話番号",
    "postal_code": "郵便番号",
    "district": "地区",
    "address_line": "住所",
    "email": "メールアドレス",
    "needs": "配慮事項",
    "consent": "個人情報の取扱いへの同意",
    "guardian_present": "保護者の方の立ち会い",
    "applicants": "申請する方",
    "session_id": "申込先の集団申請会",
    "form": "入力内容",
}
# The API's field paths, and the form's names for them.
_API_TO_FORM = {
    "address.postal_code": "postal_code",
    "address.district": "district",
    "address.line": "address_line",
    "address": "address_line",
    "eligibility.guardian_present": "guardian_present",
}
# The schema's words for a field left empty; the form says which field instead.
_EMPTY_MESSAGES = ("必須項目です。", "空欄にはできません。", "空にはできません。")
_APPLICANT_PATH = re.compile(r"^applicants\.(\d+)\.(\w+)$")


@dataclass
class HouseholdForm:
    """The form's values as typed (kana shown back in katakana) and its errors by field name."""

    values: dict[str, str] = field(default_factory=dict)
    applicants: int = 1
    errors: dict[str, str] = field(default_factory=dict)

    def label(self, name: str) -> str:
        match = re.fullmatch(r"a(\d+)_(\w+)", name)
        if match:
            return f"{int(match[1]) + 1}人目の{APPLICANT_LABELS.get(match[2], match[2])}"
        return HOUSEHOLD_LABELS.get(name, HOUSEHOLD_LABELS["form"])

    def error_list(self) -> list[tuple[str, str]]:
        """(field name, what to fix) in the order the fields appear, for the summary at the top; the
        field's label leads unless the message already names it."""
        order = [f"a{i}_{f}" for i in range(self.applicants) for f in APPLICANT_FIELDS] + list(HOUSEHOLD_LABELS)
        ranked = sorted(self.errors, key=lambda n: order.index(n) if n in order else len(order))
        summary = []
        for name in ranked:
            label, message = self.label(name), self.errors[name]
            summary.append((name, message if message.startswith(label) else f"{label}：{message}"))
        return summary

    def add_error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def add_api_errors(self, errors: list[dict]) -> None:
        for error in errors:
            name, message = form_name(str(error.get("field", ""))), str(error.get("ja", ""))
            if message in _EMPTY_MESSAGES:
                message = f"{self.label(name)}を入力してください。"
            self.add_error(name, message)


def form_name(path: str) -> str:
    match = _APPLICANT_PATH.match(path)
    if match:
        return f"a{match[1]}_{match[2]}"
    if path in _API_TO_FORM:
        return _API_TO_FORM[path]
    return path if path in HOUSEHOLD_LABELS else "form"


def read_form(form: Any) -> HouseholdForm:
    """The form as posted; `form` is werkzeug's MultiDict (or a plain dict in tests)."""
    try:
        count = int(form.get("applicant_count", "1"))
    except ValueError:
        count = 1
    count = max(1, min(MAX_APPLICANTS, count))
    names = [f"a{i}_{f}" for i in range(count) for f in APPLICANT_FIELDS]
    values = {name: str(form.get(name, "")).strip() for name in names}
    values.update({name: str(form.get(name, "")).strip() for name in HOUSEHOLD_LABELS if name != "form"})
    values["consent"] = "yes" if form.get("consent") == "yes" else ""
    values["guardian_present"] = "yes" if form.get("guardian_present") == "yes" else ""
    values["website"] = str(form.get("website", ""))[:200]  # the public form's honeypot, passed on as typed
    values["referral_id"] = str(form.get("referral_id", ""))[:64]  # reception completing a chair's referral
    values["session_id"] = str(form.get("session_id", ""))[:64]  # a sign-up to a hall session
    for name in names:
        if name.endswith("_kana") and values[name]:
            with contextlib.suppress(ValidationError):  # left as typed; the schema will say what is wrong
                values[name] = normalize_kana(values[name])  # ひらがな typed: shown back as カタカナ
    return HouseholdForm(values=values, applicants=count)


def change_applicants(household: HouseholdForm, action: str) -> str | None:
    """Adds or removes an applicant row for the form's buttons. Returns the field to focus (the new
    row's first), "" after a removal, or None when `action` changes no row (the form is submitted)."""
    if action == "add_applicant" and household.applicants < MAX_APPLICANTS:
        household.applicants += 1
        return f"a{household.applicants - 1}_family_name"
    if action == "remove_applicant" and household.applicants > 1:
        household.applicants -= 1
        return ""
    return None


def new_form(phone: str = "", session_id: str = "") -> HouseholdForm:
    return HouseholdForm(values={"phone": phone, "session_id": session_id}, applicants=1)


def normalize_name(name: str) -> str:
    """A name as typed, width-folded (a full-width space becomes a plain one) and single-spaced."""
    return " ".join(normalize(name).split())


def referral_form(referral: dict) -> HouseholdForm:
    """The form for a channel's short referral: the first applicant's name (split at the space the
    chair typed, if any), the phone and the district filled in, and the referral's id carried along."""
    family, _, given = normalize_name(referral["name"]).partition(" ")
    values = {
        "a0_family_name": family,
        "a0_given_name": given,
        "phone": referral["phone"],
        "district": referral["district"],
        "referral_id": referral["referral_id"],
        "session_id": referral.get("session_id") or "",  # the hall session the chair chose, if any
    }
    return HouseholdForm(values=values, applicants=1)


REQUIRED = ("phone", "postal_code", "district", "address_line")


def booking_body(household: HouseholdForm, channel: str = "phone", eligibility: dict | None = None) -> dict | None:
    """The booking API's body, or None with household.errors filled in. The public form passes
    its answers (`eligibility`, see apply.py) and its honeypot along."""
    values = household.values
    # A field left empty is told so plainly, before the schema's words for what it holds.
    required = [f"a{i}_{f}" for i in range(household.applicants) for f in APPLICANT_FIELDS] + list(REQUIRED)
    for name in required:
        if not values.get(name):
            verb = "選んでください" if name == "district" else "入力してください"
            household.add_error(name, f"{household.label(name)}を{verb}。")
    applicants = []
    for i in range(household.applicants):
        applicant: dict[str, Any] = {f: values[f"a{i}_{f}"] for f in APPLICANT_FIELDS if f != "birth_date"}
        try:
            applicant["birth_date"] = parse_date(values[f"a{i}_birth_date"]).isoformat()
        except NotADate as error:
            household.add_error(f"a{i}_birth_date", str(error))
            applicant["birth_date"] = "2000-01-01"  # stands in so the other fields are still checked
        applicants.append(applicant)
    body = {
        "channel": channel,
        "applicants": applicants,
        "address": {
            "postal_code": values["postal_code"],
            "district": values["district"],
            "line": values["address_line"],
        },
        "phone": values["phone"],
        "email": values["email"] or None,
        "needs": values["needs"],
        "consent": values["consent"] == "yes",
    }
    for carried in ("referral_id", "session_id"):
        if values.get(carried):
            body[carried] = values[carried]
    if eligibility is not None:
        body["eligibility"] = {**eligibility, "guardian_present": values.get("guardian_present") == "yes"}
        body["website"] = values.get("website", "")
    try:
        screen_and_load(BookingRequestSchema, body)
    except ValidationError as error:
        household.add_api_errors(field_errors(error.messages))
    return None if household.errors else body
