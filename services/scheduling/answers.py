"""What scheduling's entrypoints answer that more than one of them says: a slot option as the API
shows it, and the refusals of a window (the slot rules in slots.py raise, these answer)."""

from __future__ import annotations

from services.scheduling import planning
from shared import clock
from shared.http import ApiError, conflict


def option_view(option: planning.Option) -> dict:
    return {
        "crew_id": option.crew_id,
        "start": clock.iso(option.start),
        "window_end": clock.iso(option.window_end),
        "estimated_start": clock.iso(option.estimated_start),
        "end": clock.iso(option.end),
        "added_drive_minutes": option.added_drive_minutes,
        "matches_preference": option.matches_preference,
    }


def not_a_working_time() -> ApiError:
    return ApiError(
        422,
        "not_a_working_time",
        "The start must be on a future working day.",
        "開始日時は今後の業務日を指定してください。",
    )


def crew_off(suggestions: list[dict]) -> ApiError:
    return conflict(
        "crew_off", "The crew does not go out that day.", "この班はその日は訪問できません。", suggestions=suggestions
    )


def does_not_fit(suggestions: list[dict]) -> ApiError:
    return conflict(
        "slot_unavailable",
        "That window does not fit the crew's day (other promises, drive time, hours or lunch).",
        "その時間帯はほかの訪問・移動時間・業務時間と重なるため指定できません。",
        suggestions=suggestions,
    )


def busy() -> ApiError:
    return ApiError(
        503, "busy", "The crew's day is being changed; try again.", "ただいま混み合っています。もう一度お試しください。"
    )


def wrong_status(status: str) -> ApiError:
    return conflict(
        "wrong_status", f"The visit is {status}.", "この訪問は現在の状態では変更できません。", visit_status=status
    )
