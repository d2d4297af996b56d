"""The quote's way through the web pages, for ``render_web_screenshots.py``: a quote with
options written in the editor, the customer choosing an option and signing on the phone,
the desk's pages after the approval, and a revised quote."""

from __future__ import annotations

from typing import Any

from web_screenshot_shop import (
    DESK,
    LANGUAGES,
    PHONE,
    Shooter,
    desk_page,
    fill_quote_line,
    in_language,
    phone_page,
    sign_in,
    sign_with_finger,
)


def quote_editor(browser: Any, base: str, ids: dict[str, str], shoot: Shooter) -> None:
    """The car that just came in has no signed walk-around: the manager marks it done
    with a reason; then a quote with two options for it."""
    visit = ids["zhao-min"]
    with desk_page(browser, base, "en", "manager") as page:
        page.goto(f"{base}/visits/{visit}")
        page.click("button[value=complete_walkaround]")
        shoot.element(page, "#job", "walkaround-unsigned", "en")
        in_language(page, base, "zh_CN", f"/visits/{visit}")
        shoot.element(page, "#job", "walkaround-unsigned", "zh_CN")
        in_language(page, base, "en", f"/visits/{visit}")
        page.fill("input[name=reason]", "Tablet battery flat; photos taken on the shop camera")
        page.click("text=Mark walk-around done (manager)")
        for lang in LANGUAGES:
            in_language(page, base, lang, f"/visits/{visit}")
            shoot.element(page, "#walkaround", "walkaround-override", lang)
        in_language(page, base, "en", f"/visits/{visit}/quote")
        page.fill("input[name=option_label]", "Brakes and 70,000 km service")
        page.click(".options-editor summary")
        page.fill("input[name=option-0-label]", "Genuine Nissan pads and discs")
        page.fill(
            "textarea[name=option-0-notes]",
            "Factory parts, 2-year warranty. Quietest, longest life.",
        )
        page.fill("input[name=option-1-label]", "Ceramic aftermarket pads, discs skimmed")
        page.fill(
            "textarea[name=option-1-notes]",
            "About half the price. Discs still thick enough to skim; 1-year warranty.",
        )
        lines = [
            ("", "labour", "70,000 km service", {"hours": "1.5", "labour_rate": "180"}, "yellow"),
            ("", "part", "Engine oil and filter", {"quantity": "1", "unit_price": "380"}, "yellow"),
            ("0", "part", "Genuine pads and discs", {"quantity": "1", "unit_price": "980"}, "red"),
            ("0", "labour", "Fit pads and discs", {"hours": "1.2", "labour_rate": "180"}, "red"),
            ("1", "part", "Front ceramic pads", {"quantity": "1", "unit_price": "320"}, "red"),
            ("1", "labour", "Skim discs, fit pads", {"hours": "1.5", "labour_rate": "180"}, "red"),
        ]  # fmt: skip
        for index, (option, kind, description, numbers, urgency) in enumerate(lines):
            fill_quote_line(page, index, kind, description, numbers, option=option, urgency=urgency)
        shoot(page, "quote-editor", "en")
        page.click("button[value=save]")
        page.wait_for_url(f"{base}/visits/{visit}#quote")
        shoot.element(page, "#quote", "quote-options", "en")
        in_language(page, base, "zh_CN", f"/visits/{visit}")
        shoot.element(page, "#quote", "quote-options", "zh_CN")
        page.goto(f"{base}/visits/{visit}/quote")
        shoot(page, "quote-editor", "zh_CN")
        for lang in LANGUAGES:
            in_language(page, base, lang, f"/visits/{visit}/quote")
            page.click("button[value=add_option]")
            page.fill("input[name=option-2-label]", "Pads only" if lang == "en" else "只换刹车片")
            page.click("button[value=save]")
            shoot(page, "quote-editor-error", lang)
        for lang in LANGUAGES:  # a discount bigger than the work it goes with
            in_language(page, base, lang, f"/visits/{visit}/quote")
            page.click("button[value=add_line]")
            page.select_option("select[name=line-6-kind]", "discount")
            page.fill("input[name=line-6-description]", "Loyalty discount")
            page.fill("input[name=line-6-unit_price]", "5000")
            page.fill("input[name=tax_percent]", "13%")
            page.click("button[value=save]")
            shoot(page, "quote-editor-discount-error", lang)


def customer_phone(browser: Any, base: str, link: str, shoot: Shooter) -> None:
    """The customer compares the options on the phone, chooses one, answers and signs."""
    pages = {}
    for lang in LANGUAGES:
        context = browser.new_context(**PHONE, locale="zh-CN" if lang == "zh_CN" else "en-GB")
        page = context.new_page()
        in_language(page, base, lang, link.removeprefix(base))
        shoot(page, "customer-quote", lang)
        sign_with_finger(page)
        page.click("button.big")
        shoot(page, "customer-error", lang)
        page.goto(link)
        page.click(".option-card >> nth=0")
        items = page.locator(".quote-item:visible")
        for index in range(items.count()):  # yes to everything but the wiper blades
            choice = "declined" if "Wiper" in items.nth(index).inner_text() else "approved"
            items.nth(index).locator(f"input[value={choice}]").check()
        page.fill("input[name=signer_name]", "刘洋")
        sign_with_finger(page)
        shoot(page, "customer-signing", lang)
        pages[lang] = (context, page)
    context, page = pages["en"]
    page.click("button.big")
    page.wait_for_selector(".card.done")
    shoot(page, "customer-thanks", "en")
    context, page = pages["zh_CN"]
    page.goto(link)
    shoot(page, "customer-thanks", "zh_CN")
    page.goto(link[:-6] + "AAAAAA")
    shoot(page, "customer-link-invalid", "zh_CN")
    context, page = pages["en"]
    page.goto(link[:-6] + "AAAAAA")
    shoot(page, "customer-link-invalid", "en")
    for context, _page in pages.values():
        context.close()


def after_approval(browser: Any, base: str, ids: dict[str, str], shoot: Shooter) -> None:
    """The advisor sees the customer's choice; the customer's status page."""
    for lang in LANGUAGES:
        with desk_page(browser, base, lang, "li.na") as page:
            page.goto(f"{base}/visits/{ids['liu-yang']}")
            shoot(page, "visit-approved", lang)
    for lang in LANGUAGES:
        with phone_page(browser) as page:
            in_language(page, base, lang, f"/status/{ids['status-token']}")
            shoot(page, "status", lang)


def revised_quote(browser: Any, base: str, ids: dict[str, str], shoot: Shooter) -> None:
    """The option quote goes out; on the phone a safety item is declined; the advisor
    revises (after confirming) and the open page says so; version 2 marks what changed."""
    visit = ids["zhao-min"]
    desk = browser.new_context(**DESK)
    advisor = desk.new_page()
    sign_in(advisor, base, "en", "li.na")
    advisor.goto(f"{base}/visits/{visit}")
    advisor.click("text=Send to the customer")
    link = advisor.input_value("#approval-link")
    phones = {}
    for lang in LANGUAGES:
        phone = browser.new_context(**PHONE)
        page = phone.new_page()
        in_language(page, base, lang, link.removeprefix(base))
        page.click(".option-card >> nth=0")
        page.locator(".option-items:visible .quote-item >> nth=0").locator(
            "input[value=declined]"
        ).check()
        page.locator(".option-items:visible .quote-item >> nth=0").scroll_into_view_if_needed()
        shoot(page, "customer-safety-confirm", lang, full_page=False)
        phones[lang] = page
    for lang in LANGUAGES:
        in_language(advisor, base, lang, f"/visits/{visit}")
        advisor.click("button[value=revise_quote]")
        shoot(advisor, "revise-confirm", lang)
    advisor.click("button[value=revise_quote]")
    for lang, page in phones.items():
        page.wait_for_selector("#link-closed:visible", timeout=30_000)
        shoot(page, "customer-updating", lang, full_page=False)
    in_language(advisor, base, "en", f"/visits/{visit}/quote")
    advisor.fill("input[name=line-2-unit_price]", "1080")
    advisor.click("button[value=add_line]")
    advisor.select_option("select[name=line-6-kind]", "fee")
    advisor.fill("input[name=line-6-description]", "Brake fluid disposal")
    advisor.fill("input[name=line-6-unit_price]", "20")
    advisor.fill("input[name=line-4-description]", "")  # the ceramic pads are taken out
    advisor.fill("input[name=line-4-unit_price]", "")
    advisor.click("button[value=save]")
    for lang in LANGUAGES:
        in_language(advisor, base, lang, f"/visits/{visit}/quote")
        shoot(advisor, "quote-editor-v2", lang)
    in_language(advisor, base, "en", f"/visits/{visit}")
    advisor.click("text=Send to the customer")
    link = advisor.input_value("#approval-link")
    for lang, page in phones.items():
        in_language(page, base, lang, link.removeprefix(base))
        page.click(".option-card >> nth=0")
        shoot(page, "customer-quote-v2", lang)
        page.context.close()
    desk.close()
