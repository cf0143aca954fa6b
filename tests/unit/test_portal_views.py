"""What the screens make of the services' JSON: Japanese labels, the phone script, a plan by day."""

from services.portal import views


def test_the_phone_script_says_what_the_email_would_have_said():
    ack = {"kind": "acknowledgement", "details": {}}
    assert views.phone_script(ack, "261201-004") == (
        "お申し込みを受け付けました。受付番号は 261201-004 です。日時は担当者から改めてご連絡します。"
        "当日は本人確認書類などをご用意ください（持ち物の一覧をお読みします）。"
    )
    # With the resident's code, read digit by digit, for their own page.
    assert "確認コードは 0 4 2 9 1 7 です。" in views.phone_script(ack, "261201-004", "042917")
    confirmation = {
        "kind": "confirmation",
        "details": {"start": "2026-12-03T09:30:00+09:00", "window_end": "2026-12-03T10:00:00+09:00"},
    }
    assert (
        views.phone_script(confirmation, "x") == "12月3日（木）9:30〜10:00 の間に伺います。当日、伺う前にお電話します。"
    )
    at_the_hall = {**confirmation, "details": {**confirmation["details"], "venue": "yamada-hall"}}
    assert views.phone_script(at_the_hall, "x") == "12月3日（木）9:30〜10:00 の間に、山田地区公民館へお越しください。"
    called_off = {"kind": "session_cancelled", "details": {"start": "2026-12-03T09:30:00+09:00"}}
    assert views.phone_script(called_off, "x").startswith("12月3日（木）の集団申請会は中止になりました。")
    assert views.phone_script({"kind": "after_visit", "details": {"outcome": "partial"}}, "x") == (
        "訪問の結果（一部申請）をお伝えします。"
    )
    assert views.phone_script({"kind": "cancellation", "details": {}}, "x") == "お申し込みの取り消しを承りました。"


def test_a_plan_is_shown_by_day_in_time_order_with_what_is_still_open():
    def proposal(visit_id, day, hour):
        return {
            "visit_id": visit_id,
            "crew_id": "crew-1",
            "date": day,
            "window_start": f"{day}T{hour:02d}:00:00+09:00",
            "window_end": f"{day}T{hour:02d}:30:00+09:00",
            "estimated_start": f"{day}T{hour:02d}:00:00+09:00",
        }

    found = {
        "plan_id": "p",
        "first_day": "2026-12-02",
        "last_day": "2026-12-04",
        "proposals": [proposal("b", "2026-12-03", 13), proposal("a", "2026-12-03", 9), proposal("c", "2026-12-02", 10)],
        "unplanned": [{"visit_id": "d", "reason": "no_room_in_horizon"}],
    }
    waiting = {
        v: {"reference": f"261201-00{n}", "district_name": "高崎", "household_size": 2, "waited_working_days": n}
        for n, v in enumerate(("a", "c", "d"), start=1)
    }
    shown = views.plan(found, waiting)
    assert [day for day, _ in shown["days"]] == ["12月2日（水）", "12月3日（木）"]
    assert [(r["visit_id"], r["window"], r["open"]) for r in shown["days"][1][1]] == [
        ("a", "9:00〜9:30", True),
        ("b", "13:00〜13:30", False),  # no longer waiting: fixed already
    ]
    assert shown["open_count"] == 2
    assert shown["unplanned_rows"][0]["reason_label"] == "計画の期間に空きがありません"
    assert shown["first"] == "12月2日（水）" and shown["last"] == "12月4日（金）"


def test_the_own_page_asks_a_hall_session_household_to_come_to_the_hall():
    from services.portal.residents import STATUS_WORDS, public_render

    found = {
        "reference": "261201-001",
        "status": "received",
        "given_name": "花子",
        "district": "takazaki",
        "household_size": 1,
        "has_child": False,
        "window": {
            "window_start": "2027-02-03T10:00:00+09:00",
            "window_end": "2027-02-03T12:00:00+09:00",
            "venue": "takazaki-hall",
        },
        "created_at": "2026-12-01T10:00:00+09:00",
        "cancelled_at": None,
        "code": "123456",
    }

    def page(window_venue):
        booking = views.own_booking({**found, "window": {**found["window"], "venue": window_venue}}, STATUS_WORDS)
        context = {"token": "t", "choices": None, "error": None, "new": False, "cancelled": False, "dates": False}
        return public_render("public/own.html", booking=booking, fixed=True, **context).get_data(as_text=True)

    at_the_hall = page("takazaki-hall")
    assert "高崎地区公民館へお越しください" in at_the_hall and "伺います" not in at_the_hall
    at_home = page(None)
    assert "の間に伺います" in at_home and "お越しください" not in at_home


def test_reception_reads_the_expected_wait_and_why_a_request_may_pass_its_bound():
    found = {
        "status": "unscheduled",
        "venue": None,
        "slot": None,
        "requested_at": "2026-12-01T10:00:00+09:00",
        "waited_working_days": 1,
        "expected": {"expected_working_days": 5, "expected_by": "2026-12-08", "bound_by": "2026-12-29"},
        "wait_risk": {"reason": "over_capacity", "plan_id": "p", "said_at": "2026-12-02T09:00:00+09:00"},
    }
    shown = views.visit(found)
    assert shown["expected_by"] == "12月8日（火）" and shown["expected_days"] == 5
    assert shown["bound_by"] == "12月29日（火）"
    assert shown["risk_label"] == "申込が多く、上限の日までに車の空きがありません"
    calm = views.visit({**found, "wait_risk": None, "expected": None})
    assert calm["risk_label"] == "" and calm["expected_by"] == ""


def test_a_plan_lists_the_requests_it_says_will_pass_their_bound():
    found = {
        "first_day": "2026-12-02",
        "last_day": "2026-12-04",
        "proposals": [],
        "unplanned": [{"visit_id": "d", "reason": "no_room_within_wait_bound"}],
        "at_risk": [{"visit_id": "d", "reason": "over_capacity"}],
    }
    waiting = {
        "d": {"reference": "261201-004", "district_name": "山田", "household_size": 3, "waited_working_days": 17}
    }
    [row] = views.plan(found, waiting)["at_risk_rows"]
    assert row["reference"] == "261201-004" and row["reason_label"].startswith("申込が多く")


def test_the_resident_reads_the_expected_date_in_words():
    assert views.resident_choices({"expected_by": "2026-12-09"})["expected_by"] == "12月9日（水）"
    assert views.resident_choices({"expected_by": None})["expected_by"] == ""
