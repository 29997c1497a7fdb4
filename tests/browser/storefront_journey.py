"""The buyer-seller journey of the marketplace (issue 10's, as tests/e2e/test_marketplace_journey.py runs it
through the API) clicked through the storefront in two browser contexts, one per party.

Each step is one function of ``STEPS``; ``run`` runs them in order and stops at the first that fails, naming
it and the steps that passed (a missing page fails as "expected a page at ..., the storefront answered 404").
Emails are opened from the mail catcher and their links followed in the party's tab.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from browser_harness import Tab
from browser_mail import email_with_subject
from playwright.async_api import expect
from storefront_pages import (
    Account,
    StorefrontPageError,
    eventually,
    file_payload,
    land,
    main_nav,
    page_message,
    sign_up_verify_and_sign_in,
    tiny_png,
    visible,
    visit,
)
from storefront_stack import StorefrontStack

GIG_PRICE, OFFER_PRICE = "45", "32"
DELIVERY = b"%PDF-1.4\n% the delivered work\n"
# How long a pushed change may take to show on the other party's open page.
LIVE_MS = 20_000


@dataclass
class Party:
    tab: Tab
    account: Account


@dataclass
class Journey:
    storefront: StorefrontStack
    seller: Party
    buyer: Party
    word: str = field(default_factory=lambda: f"quokka{uuid.uuid4().hex[:8]}")
    gig_path: str = ""
    order_path: str = ""
    passed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def gig_title(self) -> str:
        return f"Hand drawn {self.word} illustrations"


class JourneyStepError(AssertionError):
    pass


Step = Callable[[Journey], Awaitable[None]]


# --- accounts -----------------------------------------------------------------------------------------------


async def seller_signs_up_verifies_and_signs_in(journey: Journey) -> None:
    stack, seller = journey.storefront, journey.seller
    await sign_up_verify_and_sign_in(seller.tab, stack.mail, stack.url, seller.account)


async def buyer_signs_up_verifies_and_signs_in(journey: Journey) -> None:
    stack, buyer = journey.storefront, journey.buyer
    await sign_up_verify_and_sign_in(buyer.tab, stack.mail, stack.url, buyer.account)


# --- selling ------------------------------------------------------------------------------------------------


async def seller_becomes_a_seller(journey: Journey) -> None:
    tab = journey.seller.tab
    await land(tab, main_nav(tab).get_by_role("link", name="Selling").click, r"/selling$", "selling")
    main = tab.page.locator("main")
    await land(
        tab, main.get_by_role("link", name="Become a seller").click, r"/selling/become$", "become a seller"
    )
    form = tab.page.locator("form[action='/selling/become']")
    await form.get_by_label("Full name").fill("Sam Seller")
    await form.get_by_label("One-line summary").fill("Illustrations that tell your story")
    await form.get_by_label("About you and your work").fill(
        "Ten years of editorial and brand illustration for magazines and startups."
    )
    await form.get_by_label("Skills").fill("illustration, branding")
    await form.get_by_label("Language 1", exact=True).fill("English")
    await form.get_by_label("Level of language 1").select_option("fluent")
    await form.get_by_label("Usual response time (hours)").fill("12")

    async def submitted() -> bool:
        # users creates the buyer profile from auth's account event: a brand-new account may be ahead of it,
        # and the page says so (404 kept on the form); sending the kept form again is what a person does.
        async with tab.page.expect_navigation() as navigation:
            await form.get_by_role("button", name="Become a seller").click()
        response = await navigation.value
        return response is not None and response.status < 400 and tab.page.url.endswith("/selling")

    await eventually(submitted, what="sellers.create from the become-a-seller form")
    await tab.check("selling dashboard")
    await expect(tab.page.get_by_test_id("seller-profile")).to_contain_text("Sam Seller")


async def seller_creates_a_gig_with_a_cover(journey: Journey) -> None:
    tab = journey.seller.tab
    main = tab.page.locator("main")
    await land(
        tab, main.get_by_role("link", name="Create a gig").click, r"/selling/gigs/new$", "create a gig"
    )
    form = tab.page.get_by_test_id("gig-form")
    await form.get_by_label("Title").fill(journey.gig_title)
    await form.get_by_label("Description").fill("Vector illustrations for your brand, as print-ready files.")
    await form.get_by_label("Category").fill("illustration")
    await form.get_by_label("Tags (optional)").fill(f"vector, {journey.word}")
    await form.get_by_label("Price (USD)").fill(GIG_PRICE)
    await form.get_by_label("Delivery time (days)").fill("5")
    await form.get_by_label("Cover image").set_input_files(file_payload("cover.png", "image/png", tiny_png()))
    # Straight to the presigned URL on the object store's origin (the one request allowed off-origin).
    await expect(form.get_by_test_id("upload-status")).to_contain_text("Uploaded: cover.png", timeout=LIVE_MS)
    uploads = [
        url
        for method, url in tab.requests
        if method == "POST" and url.startswith(journey.storefront.media_origin)
    ]
    if not uploads:
        raise StorefrontPageError("the cover was not POSTed to the object store's presigned URL")
    await tab.check("create a gig, cover uploaded")
    await land(tab, form.get_by_role("button", name="Publish gig").click, r"/gigs/[^/]+$", "gig page (owner)")
    await expect(tab.page.get_by_role("heading", level=1)).to_have_text(journey.gig_title)
    journey.gig_path = re.sub(r"^https?://[^/]+", "", tab.page.url)
    await cover_is_shown_from_the_sites_origin(tab, journey)


async def cover_is_shown_from_the_sites_origin(tab: Tab, journey: Journey) -> None:
    """The gig page's cover ``<img>`` really loads (decoded: naturalWidth > 0), from ``/media/<key>`` on the
    storefront's own origin (the recorder refuses any GET to the object store's origin)."""
    cover = tab.page.get_by_role("img", name=f"Cover image of {journey.gig_title}")
    await expect(cover).to_be_visible()

    async def decoded() -> bool:
        return bool(await cover.evaluate("img => img.complete && img.naturalWidth > 0"))

    await eventually(decoded, what="the gig's cover image, decoded", within=15.0)
    source = str(await cover.evaluate("img => img.currentSrc"))
    if not source.startswith(f"{journey.storefront.url}/media/gigs/"):
        raise StorefrontPageError(f"the cover is not read from the site's own /media/: {source}")
    if ("GET", source) not in tab.requests:
        raise StorefrontPageError(f"no GET of the cover was recorded: {source}")
    tab.raise_findings()


# --- finding and talking ------------------------------------------------------------------------------------


async def buyer_finds_the_gig_by_search(journey: Journey) -> None:
    tab = journey.buyer.tab
    search = tab.page.get_by_role("search").first
    await search.get_by_label("Search gigs").fill(journey.word)
    await land(tab, lambda: search.get_by_label("Search gigs").press("Enter"), r"/search\?", "search results")
    result = tab.page.locator("main").get_by_role("link", name=journey.gig_title)

    reloaded = False

    async def listed() -> bool:
        nonlocal reloaded
        if await visible(result):
            return True
        await tab.page.reload()  # the search index follows the gig service: eventually consistent
        reloaded = True
        return False

    await eventually(listed, what=f"the new gig in the search results for {journey.word!r}")
    if reloaded:
        await tab.check("search results")
    await land(tab, result.first.click, re.escape(journey.gig_path) + "$", "gig page")
    await expect(tab.page.get_by_role("heading", level=1)).to_have_text(journey.gig_title)
    await cover_is_shown_from_the_sites_origin(tab, journey)


async def buyer_messages_the_seller(journey: Journey) -> None:
    tab, seller = journey.buyer.tab, journey.seller.account
    contact = tab.page.get_by_role("link", name="Contact the seller")
    await land(tab, contact.click, rf"/inbox/with/{seller.username}$", "conversation (buyer, new)")
    await _send_message(tab, "Could you do a smaller version?", "conversation (buyer)")


async def _send_message(tab: Tab, text: str, name: str) -> None:
    form = tab.page.get_by_test_id("message-form")
    await form.get_by_label("Message").fill(text)
    await land(
        tab, form.get_by_role("button", name="Send message").click, r"/inbox/with/[^/?#]+(#.*)?$", name
    )
    await expect(tab.page.get_by_test_id("message-list")).to_contain_text(text)


async def seller_opens_the_conversation_from_the_inbox(journey: Journey) -> None:
    tab, buyer = journey.seller.tab, journey.buyer.account
    await land(tab, main_nav(tab).get_by_role("link", name="Inbox").click, r"/inbox$", "inbox (seller)")
    conversation = tab.page.get_by_test_id("conversation-list").get_by_role("link", name=buyer.username)
    await land(tab, conversation.click, rf"/inbox/with/{buyer.username}$", "conversation (seller)")
    await expect(tab.page.get_by_test_id("message-list")).to_contain_text("Could you do a smaller version?")


async def a_message_arrives_live_without_reload(journey: Journey) -> None:
    seller_tab, buyer_tab = journey.seller.tab, journey.buyer.tab
    await expect(seller_tab.page.get_by_test_id("live-status")).to_contain_text("Live", timeout=LIVE_MS)
    navigations_before = len(seller_tab.navigations)
    text = f"Two illustrations would be enough ({journey.word})"
    await _send_message(buyer_tab, text, "conversation (buyer, second message)")
    await expect(seller_tab.page.get_by_test_id("message-list")).to_contain_text(text, timeout=LIVE_MS)
    if len(seller_tab.navigations) != navigations_before:
        raise StorefrontPageError("the seller's conversation page reloaded: the message did not arrive live")
    await seller_tab.check("conversation (seller, live message)")


async def seller_sends_a_custom_offer(journey: Journey) -> None:
    tab = journey.seller.tab
    form = tab.page.get_by_test_id("offer-form")
    await form.get_by_label("Gig").select_option(label=journey.gig_title)
    await form.get_by_label("What the buyer gets").fill("Two illustrations instead of three")
    await form.get_by_label("Price (USD)").fill(OFFER_PRICE)
    await form.get_by_label("Delivery time (days)").fill("3")
    await form.get_by_label("Offer valid for (days)").fill("2")
    await land(
        tab, form.get_by_role("button", name="Send offer").click, r"/inbox/with/", "conversation (offer sent)"
    )
    await expect(tab.page.get_by_test_id("offer-card").last).to_contain_text(
        "Two illustrations instead of three"
    )


async def buyer_accepts_the_offer(journey: Journey) -> None:
    tab = journey.buyer.tab
    card = tab.page.get_by_test_id("offer-card").last
    # The buyer's conversation page is still open: the offer arrives live, with its Accept form.
    await expect(card.get_by_role("button", name="Accept offer")).to_be_visible(timeout=LIVE_MS)
    await tab.check("conversation (buyer, offer arrived live)")
    await land(tab, card.get_by_role("button", name="Accept offer").click, r"/inbox/with/", "offer accepted")
    await expect(tab.page.get_by_test_id("offer-status").last).to_have_text("Accepted")


async def buyer_checks_out_and_pays(journey: Journey) -> None:
    tab = journey.buyer.tab
    conversation = re.sub(r"^https?://[^/]+", "", tab.page.url).split("#", 1)[0]

    async def placed() -> bool:
        # orders.create is refused until the order service has the accepted offer (an event away): the page
        # flashes why and returns to the inbox; the buyer goes back and presses again.
        checkout = tab.page.get_by_role("button", name="Continue to checkout")
        async with tab.page.expect_navigation() as navigation:
            await checkout.last.click()
        response = await navigation.value
        if (
            response is not None
            and response.status < 400
            and re.search(r"/orders/[^/]+/checkout$", tab.page.url)
        ):
            return True
        await tab.check("inbox after an early checkout")
        await visit(tab, conversation, r"/inbox/with/", "offer accepted")
        return False

    await eventually(placed, what="orders.create from the accepted offer")
    await tab.check("checkout")
    await expect(tab.page.get_by_test_id("checkout-total")).to_be_visible()
    pay = tab.page.get_by_test_id("local-payment-form").get_by_role("button")
    await land(tab, pay.click, r"/orders/[^/]+$", "order (buyer, paid)")
    await expect(tab.page.get_by_test_id("order-status")).to_have_text(re.compile("progress", re.IGNORECASE))
    journey.order_path = re.sub(r"^https?://[^/]+", "", tab.page.url)


# --- the order ----------------------------------------------------------------------------------------------


async def seller_is_emailed_and_opens_the_order(journey: Journey) -> None:
    """The "New order" email reaches the seller (order emails carry no link); the seller opens the order
    from the Orders page's Selling list."""
    stack, tab, seller = journey.storefront, journey.seller.tab, journey.seller.account
    email = await email_with_subject(stack.mail, seller.email, re.compile(r"^New order: "))
    order_id = journey.order_path.rsplit("/", 1)[-1]
    if order_id[:8] not in f"{email.get('text', '')}{email.get('subject', '')}":
        journey.notes.append(f"the seller's New order email does not name order {order_id}")
    await land(tab, main_nav(tab).get_by_role("link", name="Orders").click, r"/orders$", "orders (seller)")
    selling = tab.page.get_by_role("navigation", name="Order lists").get_by_role("link", name="Selling")
    await land(tab, selling.click, r"/orders\?as=seller$", "orders to deliver")
    row = tab.page.locator(f"[data-order-id='{order_id}']").get_by_role("link")
    await land(tab, row.click, re.escape(journey.order_path) + "$", "order (seller)")
    await expect(tab.page.get_by_test_id("order-status")).to_have_text(re.compile("progress", re.IGNORECASE))


async def seller_requests_an_extension(journey: Journey) -> None:
    tab = journey.seller.tab
    form = tab.page.get_by_test_id("extension-form")
    await form.get_by_label("Extra days").fill("2")
    await form.get_by_label("Reason").fill("One more round of sketches")
    await land(
        tab, form.get_by_role("button", name="Request extension").click, r"/orders/[^/]+$", "extension asked"
    )
    await expect(tab.page.get_by_test_id("extension-status")).to_have_text("Requested")


async def _on_buyer_order_page(journey: Journey, control: str, what: str) -> None:
    """The buyer's order page is open: the change should arrive live; if it does not, reload (noted)."""
    tab = journey.buyer.tab
    button = tab.page.get_by_role("button", name=control)
    try:
        await expect(button).to_be_visible(timeout=LIVE_MS)
    except AssertionError:
        journey.notes.append(f"the buyer's order page did not update live for {what}; reloaded")
        await visit(tab, journey.order_path, re.escape(journey.order_path) + "$", f"order (buyer, {what})")
        await expect(button).to_be_visible()
    await tab.check(f"order (buyer, {what})")


async def buyer_approves_the_extension(journey: Journey) -> None:
    tab = journey.buyer.tab
    await _on_buyer_order_page(journey, "Approve extension", "extension asked")
    button = tab.page.get_by_role("button", name="Approve extension")
    await land(tab, button.click, r"/orders/[^/]+$", "extension approved")
    await expect(tab.page.get_by_test_id("extension-status")).to_have_text("Approved")


async def seller_delivers_with_a_file(journey: Journey) -> None:
    tab = journey.seller.tab
    await visit(tab, journey.order_path, re.escape(journey.order_path) + "$", "order (seller, extended)")
    form = tab.page.get_by_test_id("delivery-form")
    await form.get_by_label("Message to the buyer").fill("Here you go")
    await form.get_by_label("Files").set_input_files(file_payload("work.pdf", "application/pdf", DELIVERY))
    await expect(form.get_by_test_id("upload-status")).to_contain_text("Uploaded: work.pdf", timeout=LIVE_MS)
    await land(tab, form.get_by_role("button", name="Deliver order").click, r"/orders/[^/]+$", "delivered")
    await expect(tab.page.get_by_test_id("order-status")).to_have_text(re.compile("deliver", re.IGNORECASE))
    # Shown by its stored name (the key's last part), with the type the upload kept.
    await expect(tab.page.get_by_test_id("order-delivery")).to_contain_text(".pdf")


async def buyer_approves_the_delivery(journey: Journey) -> None:
    tab = journey.buyer.tab
    await _on_buyer_order_page(journey, "Approve delivery", "delivered")
    button = tab.page.get_by_role("button", name="Approve delivery")
    await land(tab, button.click, r"/orders/[^/]+$", "delivery approved")
    await expect(tab.page.get_by_test_id("order-status")).to_have_text(re.compile("complete", re.IGNORECASE))


async def _review(journey: Journey, tab: Tab, stars: int, comment: str, who: str) -> None:
    await visit(tab, journey.order_path, re.escape(journey.order_path) + "$", f"order (completed, {who})")

    async def published() -> bool:
        # reviews.create is refused (409 order_not_completed) until the completion reaches the review service;
        # the page says so and keeps the form: the person presses again.
        form = tab.page.get_by_test_id("review-form")
        await form.get_by_label(f"{stars} stars").check()
        await form.get_by_label("Comment (optional)").fill(comment)
        async with tab.page.expect_navigation() as navigation:
            await form.get_by_role("button", name="Publish review").click()
        response = await navigation.value
        if response is not None and response.status < 400 and re.search(r"/orders/[^/]+$", tab.page.url):
            return True
        message = await page_message(tab)
        await tab.check(f"review refused ({who})")
        if "still on its way" not in message:
            raise StorefrontPageError(f"the {who}'s review was refused: {message}")
        return False

    await eventually(published, what=f"the {who}'s review")
    await tab.check(f"review published ({who})")
    await expect(tab.page.locator("main")).to_contain_text("review is published")


async def buyer_reviews_the_seller(journey: Journey) -> None:
    await _review(journey, journey.buyer.tab, 5, "Lovely work, on time after the extension", "buyer")


async def seller_reviews_the_buyer(journey: Journey) -> None:
    await _review(journey, journey.seller.tab, 4, "Clear brief, quick answers", "seller")


async def ratings_are_shown_on_the_gig_and_the_seller(journey: Journey) -> None:
    tab, seller = journey.buyer.tab, journey.seller.account
    await visit(tab, journey.gig_path, re.escape(journey.gig_path) + "$", "gig page (reviewed)")
    review = tab.page.get_by_text("Lovely work, on time after the extension")

    async def rated() -> bool:
        if await visible(review) and await visible(tab.page.get_by_label(re.compile(r"from 1 reviews?"))):
            return True
        await tab.page.reload()  # ratings reach the gig and its search document by events
        return False

    await eventually(rated, what="the buyer's review and rating on the gig page")
    await tab.check("gig page (reviewed)")
    link = tab.page.locator("main").get_by_role("link", name=seller.username, exact=True).first
    await land(tab, link.click, rf"/sellers/{seller.username}$", "seller profile (rated)")
    await expect(tab.page.locator("main")).to_contain_text("(1)")
    await expect(tab.page.locator("main")).to_contain_text("Lovely work, on time after the extension")


STEPS: tuple[Step, ...] = (
    seller_signs_up_verifies_and_signs_in,
    buyer_signs_up_verifies_and_signs_in,
    seller_becomes_a_seller,
    seller_creates_a_gig_with_a_cover,
    buyer_finds_the_gig_by_search,
    buyer_messages_the_seller,
    seller_opens_the_conversation_from_the_inbox,
    a_message_arrives_live_without_reload,
    seller_sends_a_custom_offer,
    buyer_accepts_the_offer,
    buyer_checks_out_and_pays,
    seller_is_emailed_and_opens_the_order,
    seller_requests_an_extension,
    buyer_approves_the_extension,
    seller_delivers_with_a_file,
    buyer_approves_the_delivery,
    buyer_reviews_the_seller,
    seller_reviews_the_buyer,
    ratings_are_shown_on_the_gig_and_the_seller,
)


def step_name(step: Step) -> str:
    return step.__name__.replace("_", " ")


async def run(journey: Journey, steps: tuple[Step, ...] = STEPS) -> None:
    for number, step in enumerate(steps, 1):
        try:
            await step(journey)
        except Exception as error:
            passed = ", ".join(journey.passed) or "none"
            raise JourneyStepError(
                f"journey step {number}/{len(steps)} '{step_name(step)}' failed: {error}\n"
                f"steps passed before it: {passed}"
            ) from error
        journey.passed.append(step_name(step))
