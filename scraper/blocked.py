"""Recognise anti-bot pages (captcha, "punish", challenge) so they are reported as blocked.

A blocked page must never read as "no images" or "listing removed": the
listing is still there, the marketplace just refused this visit.
"""

from __future__ import annotations

# Alibaba's punish/captcha page (AliExpress, also Taobao/Lazada). Each of these
# is specific to that page; `baxia` alone is not, because normal AliExpress item
# pages load the baxia script too (the 2025 CSR sample does).
_ALIBABA_SIGNS = (
    "_____tmd_____/punish",
    "x5secdata",
    "sufei-punish",
    "NCTOKENSTR",
    '"action": "captcha',
    '"action":"captcha',
    "punish-component",
)
# Other shops' challenge pages.
_OTHER_SIGNS = (
    "_cf_chl_opt",  # Cloudflare "Just a moment..." interstitial
    "captcha-delivery.com",  # DataDome
    "px-captcha",  # PerimeterX / HUMAN
)


def blocked_reason(text: str) -> str | None:
    """A plain-words reason when `text` is an anti-bot page, else None."""
    for sign in _ALIBABA_SIGNS:
        if sign in text:
            return (
                "AliExpress showed an anti-bot check (captcha) instead of the listing; "
                "open the page in your browser, pass the check, and send the page again"
            )
    for sign in _OTHER_SIGNS:
        if sign in text:
            return (
                "the shop showed an anti-bot check instead of the page; "
                "open it in your browser, pass the check, and send the page again"
            )
    return None
