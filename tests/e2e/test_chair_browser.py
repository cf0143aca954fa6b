"""A community-hall chair as one really works: registered by reception, signed in by the link in the
e-mail the real SMTP sink received, a neighbour referred with the short form, the household
completed by reception on the phone, and 訪問済 on the chair's page after the crew's visit. A real
browser (Debian's chromium), axe on every page, the chair's pages by keyboard alone."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.bus import wait_until
from tests.e2e.browser import PUBLIC_SIZES, check_page, run, sign_in, sign_out
from tests.factories import signed_in

pytestmark = pytest.mark.e2e

RECEPTION = "受付（demo-reception）"
CHAIR_EMAIL = "shonai.chair@example.jp"


@pytest.fixture(scope="module")
def portal(stack) -> str:
    return stack.url("portal")


def sign_in_links(stack) -> list[str]:
    """The links in the sign-in e-mails the chair has received so far, oldest first."""
    mails = [m for m in stack.mails() if m["To"] == CHAIR_EMAIL and "ログイン" in m["Subject"]]
    found = [re.search(r"https?://\S+/chair/signin/\S+", m.get_content()) for m in mails]
    return [match.group(0) for match in found if match]


def new_sign_in_link(stack, before: list[str]) -> str:
    """The link of the e-mail that arrives after `before` (the channel mails it in the background)."""
    return wait_until(lambda: next((link for link in sign_in_links(stack) if link not in before), None))


def test_a_chair_signs_in_by_link_refers_a_neighbour_and_sees_the_visit_done(stack, portal):
    seen: dict[str, str] = {}

    async def reception_registers_the_chair(page: Page) -> None:
        await sign_in(page, portal, RECEPTION)
        await page.get_by_role("link", name=re.compile("^公民館長の登録")).first.click()
        await page.get_by_role("button", name="登録する").click()
        await expect(page.get_by_role("alert")).to_contain_text("お名前を入力してください。")
        await check_page(page, "chairs-errors")
        await page.get_by_label("お名前").fill("庄内 一郎")
        await page.get_by_label("メールアドレス").fill(CHAIR_EMAIL)
        await page.get_by_label("公民館").fill("庄内地区公民館")
        await page.get_by_label("地区").select_option(label="庄内")
        await page.get_by_role("button", name="登録する").click()
        await expect(page.get_by_role("status")).to_contain_text("登録しました")
        await expect(page.get_by_role("row", name=re.compile("庄内 一郎"))).to_contain_text("有効")
        await check_page(page, "chairs")
        await sign_out(page)

    async def chair_refers_by_keyboard(page: Page) -> None:
        await page.goto(f"{portal}/chair")
        await expect(page.get_by_role("heading", name="公民館長用ページ")).to_be_visible()
        await check_page(page, "chair-signin", PUBLIC_SIZES)
        before = sign_in_links(stack)
        await page.get_by_label("メールアドレス").focus()
        await page.keyboard.type(CHAIR_EMAIL)
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("heading", name="メールを確認してください")).to_be_visible()
        await check_page(page, "chair-link-sent", PUBLIC_SIZES)
        await page.goto(new_sign_in_link(stack, before))
        await check_page(page, "chair-confirm", PUBLIC_SIZES)
        await page.get_by_role("button", name="ログインする").focus()
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("heading", name="紹介した方")).to_be_visible()
        await expect(page.get_by_text("庄内 一郎（庄内地区公民館） 様")).to_be_visible()
        await page.get_by_role("link", name="近所の方を紹介する").click()

        # Without the neighbour's consent nothing is sent; the summary says so and leads to the box.
        await page.get_by_role("textbox", name=re.compile("^お名前")).fill("霧島 ハナ")
        await page.get_by_role("textbox", name=re.compile("^電話番号")).fill("0986-37-1234")
        await page.get_by_label("お住まいの地区").select_option(label="庄内")
        await page.get_by_label("受付に伝えたいこと").fill("耳が遠いので、ゆっくり話してください")
        await page.get_by_role("button", name="紹介する").click()
        summary = page.get_by_role("alert")
        await expect(summary).to_contain_text("ご本人が紹介に同意されたことを確かめて")
        await check_page(page, "chair-refer-error", PUBLIC_SIZES)
        await summary.get_by_role("link").first.click()
        await expect(page.locator("#consent")).to_be_focused()
        await page.keyboard.press("Space")
        await page.get_by_role("button", name="紹介する").focus()
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("status")).to_contain_text("ご紹介を受け付けました")
        row = page.get_by_role("row", name=re.compile("霧島 ハナ"))
        await expect(row).to_contain_text("紹介")
        # A second neighbour, whom reception will not reach.
        await page.get_by_role("link", name="近所の方を紹介する").click()
        await page.get_by_role("textbox", name=re.compile("^お名前")).fill("関之尾 ツル")
        await page.get_by_role("textbox", name=re.compile("^電話番号")).fill("0986-37-5678")
        await page.get_by_label("お住まいの地区").select_option(label="庄内")
        await page.get_by_label(re.compile("ご本人が、市に")).check()
        await page.get_by_role("button", name="紹介する").click()
        await expect(page.get_by_role("row", name=re.compile("関之尾 ツル"))).to_contain_text("紹介")
        await check_page(page, "chair-referrals", PUBLIC_SIZES)
        await page.get_by_role("button", name="ログアウト").click()
        await expect(page.get_by_role("status")).to_contain_text("ログアウトしました")

    async def reception_completes_it_on_the_phone(page: Page) -> None:
        await sign_in(page, portal, RECEPTION)
        # The neighbour phones in first: the search by number finds the chair's referral.
        await page.get_by_role("link", name="電話受付").first.click()
        await page.get_by_label("電話番号").fill("0986-37-1234")
        await page.get_by_role("button", name="この番号で探す").click()
        await expect(page.get_by_role("heading", name="公民館長からの紹介があります")).to_be_visible()
        complete = page.get_by_role("link", name=re.compile("この紹介の申込を入力する.*霧島 ハナ 様"))
        await expect(complete).to_be_visible()
        await check_page(page, "reception-phone-referral")
        await page.get_by_role("navigation", name="業務メニュー").get_by_role("link", name="紹介").click()
        row = page.get_by_role("row", name=re.compile("霧島 ハナ"))
        await expect(row).to_contain_text("庄内地区公民館")
        await expect(row).to_contain_text("耳が遠いので")
        await check_page(page, "reception-referrals")
        other = page.get_by_role("row", name=re.compile("関之尾 ツル"))
        await other.get_by_label(re.compile("見送りの理由")).select_option(label="電話がつながらない")
        await other.get_by_role("button", name=re.compile("見送りにする")).click()
        await expect(page.get_by_role("row", name=re.compile("関之尾 ツル"))).to_have_count(0)
        await row.get_by_role("link", name=re.compile("申込を入力する")).click()
        await expect(page.get_by_role("heading", name=re.compile("庄内地区公民館からの紹介"))).to_be_visible()
        await expect(page.locator("#a0_family_name")).to_have_value("霧島")
        await expect(page.locator("#a0_given_name")).to_have_value("ハナ")
        await expect(page.locator("#phone")).to_have_value("0986371234")
        await page.locator("#a0_family_name_kana").fill("きりしま")
        await page.locator("#a0_given_name_kana").fill("はな")
        await page.locator("#a0_birth_date").fill("昭和12年3月3日")
        await page.get_by_label("郵便番号").fill("885-1101")
        await page.get_by_label("住所（地区より後ろ）").fill("庄内町 5678")
        await page.get_by_label(re.compile("同意をいただきました")).check()
        await check_page(page, "reception-referral-household")
        await page.get_by_role("button", name="この内容で受け付ける").click()
        await expect(page.get_by_text("申込を受け付けました")).to_be_visible()
        seen["reference"] = await page.locator(".reference").inner_text()
        await page.get_by_role("button", name="この日時で確定する").click()
        await expect(page.get_by_role("heading", name="日時を確定しました")).to_be_visible()
        await page.goto(f"{portal}/reception/referrals")
        await expect(page.get_by_text("入力を待っている紹介はありません。")).to_be_visible()
        await sign_out(page)

    async def chair_sees_it_visited(page: Page) -> None:
        await page.goto(f"{portal}/chair")
        before = sign_in_links(stack)
        await page.get_by_label("メールアドレス").fill(CHAIR_EMAIL)
        await page.get_by_role("button", name="ログイン用のリンクを送る").click()
        await expect(page.get_by_role("heading", name="メールを確認してください")).to_be_visible()
        await page.goto(new_sign_in_link(stack, before))
        await page.get_by_role("button", name="ログインする").click()
        row = page.get_by_role("row", name=re.compile("霧島 ハナ"))
        await expect(row).to_contain_text("訪問済")
        closed = page.get_by_role("row", name=re.compile("関之尾 ツル"))
        await expect(closed).to_contain_text("見送り")
        await expect(closed).to_contain_text("お電話がつながりませんでした")
        await check_page(page, "chair-visited", PUBLIC_SIZES)

    run(reception_registers_the_chair)
    run(chair_refers_by_keyboard)
    run(reception_completes_it_on_the_phone)

    # The crew's visit, recorded over the API as the tablet sends it.
    office = signed_in(stack, "reception")
    [booking] = office.get(f"{stack.url('booking')}/api/v1/bookings", params={"phone": "0986-37-1234"}).json()[
        "bookings"
    ]
    assert (booking["reference"], booking["channel"]) == (seen["reference"], "liaison")
    visits = f"{stack.url('scheduling')}/api/v1/visits"
    [visit] = office.get(visits, params={"booking_id": booking["booking_id"]}).json()["visits"]
    done = office.post(f"{visits}/{visit['visit_id']}/done", json={"outcome": "completed", "persons_applied": 1})
    assert done.status_code == 200, done.text
    manager = signed_in(stack, "manager")
    wait_until(
        lambda: [
            r
            for r in manager.get(f"{stack.url('liaison')}/api/v1/referrals").json()["referrals"]
            if r["status"] == "visited"
        ]
    )
    run(chair_sees_it_visited)
