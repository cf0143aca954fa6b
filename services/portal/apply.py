"""The public form's questions before the household (GOV.UK's one question per page): where the
resident lives, why coming to the counter is hard, where the car can stop, whether a move is near.

The answers travel from page to page in hidden fields (the portal keeps no residents' data) and are
checked again on every page, so a changed hidden field cannot skip a question; booking checks them
once more when the request arrives (shared.eligibility)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError

from shared import municipality
from shared.validation import normalize_postal_code

# The questions in the order they are asked; "household" is the form itself.
STEPS = ("postal_code", "reasons", "parking", "moving", "household")


@dataclass
class Answers:
    postal_code: str = ""
    reasons: list[str] = field(default_factory=list)
    none_apply: bool = False  # 「あてはまるものはない」
    parking: str = ""  # "yes" / "no" / ""
    moving: str = ""  # "yes" / "no" / ""

    def hidden(self) -> list[tuple[str, str]]:
        """The answers as hidden fields for the next page."""
        pairs = [("postal_code", self.postal_code), ("parking", self.parking), ("moving", self.moving)]
        return [(name, value) for name, value in pairs if value] + [("reasons", code) for code in self.reasons]

    def eligibility(self, guardian_present: bool) -> dict:
        """The booking API's `eligibility` object."""
        return {
            "reasons": self.reasons,
            "parking": self.parking == "yes",
            "moving_soon": self.moving == "yes",
            "guardian_present": guardian_present,
        }


def read(form: Any) -> Answers:
    """The answers as posted (werkzeug's MultiDict, or a dict of lists in tests)."""
    reasons = form.getlist("reasons") if hasattr(form, "getlist") else list(form.get("reasons", []))
    return Answers(
        postal_code=str(form.get("postal_code", "")).strip()[:20],
        reasons=[code for code in dict.fromkeys(reasons) if isinstance(code, str)][:10],
        none_apply=form.get("none_apply") == "yes",
        parking=form.get("parking", "") if form.get("parking") in ("yes", "no") else "",
        moving=form.get("moving", "") if form.get("moving") in ("yes", "no") else "",
    )


@dataclass(frozen=True)
class Outcome:
    """Where the answers lead: the next question (with an error to show, if the answer was missing
    or malformed), or a stop with the reason in one sentence."""

    step: str
    error: str = ""
    stop: str = ""


def stop_reason(code: str) -> str:
    city = municipality.load()
    months = city.eligibility.no_move_within_months
    return {
        "outside": f"マイナちゃんカーは、{city.name}にお住まいの方のためのサービスです。",
        "no_reason": "マイナちゃんカーは、市役所の窓口へお越しになるのが難しい方のためのサービスです。"
        "窓口でも申請をお手伝いしていますので、ぜひお越しください。",
        "no_parking": "職員は車の中で写真撮影と申請をお手伝いするため、ご自宅の近くに車を止める場所が必要です。",
        "moving": f"{months}か月以内に引っ越しをされる場合は、引っ越し先の市区町村で申請してください。",
    }[code]


def check(answers: Answers, upto: str) -> Outcome:
    """Goes through the questions up to and including `upto`: the first that is unanswered or
    wrong decides where the resident goes next."""
    city = municipality.load()
    for step in STEPS[: STEPS.index(upto) + 1]:
        if step == "postal_code":
            if not answers.postal_code:
                return Outcome("postal_code", error="郵便番号を入力してください。")
            try:
                answers.postal_code = normalize_postal_code(answers.postal_code)
            except ValidationError:
                return Outcome("postal_code", error="郵便番号は 885-0021 のように、7けたの数字で入力してください。")
            if not city.lives_here(answers.postal_code):
                return Outcome("postal_code", stop="outside")
        elif step == "reasons" and city.eligibility.reasons:
            known = [code for code in answers.reasons if city.eligibility.reason(code)]
            if answers.none_apply and not known:
                return Outcome("reasons", stop="no_reason")
            if not known or len(known) != len(answers.reasons):
                return Outcome("reasons", error="あてはまるものを選んでください。")
        elif step == "parking":
            if not answers.parking:
                return Outcome("parking", error="「はい」か「いいえ」を選んでください。")
            if answers.parking == "no":
                return Outcome("parking", stop="no_parking")
        elif step == "moving":
            if not answers.moving:
                return Outcome("moving", error="「はい」か「いいえ」を選んでください。")
            if answers.moving == "yes":
                return Outcome("moving", stop="moving")
    next_index = STEPS.index(upto) + 1
    return Outcome(STEPS[min(next_index, len(STEPS) - 1)])


def previous(step: str) -> str:
    index = STEPS.index(step) if step in STEPS else 0
    return STEPS[max(0, index - 1)]
