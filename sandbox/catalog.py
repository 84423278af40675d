"""The sandbox's service catalog: a realistic spread of categories, types, prices and options.

A function rather than a data migration because tests that flush tables (transactional DB) would lose
migrated rows; every caller (demo seeding, test fixtures) calls `ensure_catalog()`, which is idempotent.
"""

from decimal import Decimal

from .models import SandboxService, ServiceType

# (id, category, name, type, rate per 1000, min, max, refill, cancel, dripfeed)
# fmt: off
_CATALOG: list[tuple] = [
    # Instagram
    (1, "Instagram Followers", "Instagram Followers [Real, 30 days refill]", ServiceType.DEFAULT, "0.90", 50, 10000, True, True, True),
    (2, "Instagram Followers", "Instagram Followers [Cheap, no refill]", ServiceType.DEFAULT, "0.35", 100, 50000, False, False, False),
    (3, "Instagram Likes", "Likes <script>alert(1)</script> [HQ]", ServiceType.DEFAULT, "0.12", 10, 20000, False, True, True),
    (4, "Instagram Likes", "Instagram Likes [Instant, lifetime refill]", ServiceType.DEFAULT, "0.25", 20, 100000, True, True, False),
    (5, "Instagram Comments", "Instagram Custom Comments [Real]", ServiceType.CUSTOM_COMMENTS, "8", 10, 1500, False, True, False),
    (6, "Instagram Comments", "Instagram Custom Comments Package [5 comments]", ServiceType.CUSTOM_COMMENTS_PACKAGE,
     "1.50", 1, 5, False, False, False),
    (7, "Instagram Mentions", "Instagram Mentions [Random users]", ServiceType.MENTIONS, "2.40", 100, 20000, False, False, False),
    (8, "Instagram Mentions", "Instagram Mentions with Hashtags", ServiceType.MENTIONS_WITH_HASHTAGS, "3.10", 100, 10000,
     False, False, False),
    (9, "Instagram Mentions", "Instagram Mentions [Custom list]", ServiceType.MENTIONS_CUSTOM_LIST, "4.00", 10, 1000,
     False, False, False),
    (10, "Instagram Mentions", "Instagram Mentions [From hashtag]", ServiceType.MENTIONS_HASHTAG, "2.80", 100, 10000,
     False, True, False),
    (11, "Instagram Mentions", "Instagram Mentions [Followers of a user]", ServiceType.MENTIONS_USER_FOLLOWERS, "2.90", 100,
     10000, False, False, False),
    (12, "Instagram Mentions", "Instagram Mentions [Likers of a post]", ServiceType.MENTIONS_MEDIA_LIKERS, "3.00", 100, 10000,
     False, False, False),
    (13, "Instagram Auto Likes", "Instagram Auto Likes [Subscription]", ServiceType.SUBSCRIPTIONS, "0.30", 50, 5000,
     False, False, False),
    (14, "Instagram Comments", "Instagram Comment Likes", ServiceType.COMMENT_LIKES, "1.20", 20, 5000, False, True, False),
    (36, "Instagram Comments", "Instagram Comment Replies [Custom]", ServiceType.COMMENT_REPLIES, "9.00", 1, 500,
     False, False, False),
    (15, "Instagram Packages", "Instagram Starter Package [1k followers + 1k likes]", ServiceType.PACKAGE, "12.50", 1, 1,
     False, False, False),
    # TikTok
    (16, "TikTok Views", "TikTok Views [Fast]", ServiceType.DEFAULT, "0.01", 100, 10000000, False, True, True),
    (17, "TikTok Followers", "TikTok Followers [30 days refill]", ServiceType.DEFAULT, "2.75", 100, 50000, True, True, False),
    (18, "TikTok Likes", "TikTok Likes [Real]", ServiceType.DEFAULT, "0.80", 50, 100000, True, False, True),
    (19, "TikTok Comments", "TikTok Custom Comments", ServiceType.CUSTOM_COMMENTS, "9.50", 5, 1000, False, False, False),
    # YouTube
    (20, "YouTube Views", "YouTube Views [Retention 60%, lifetime refill]", ServiceType.DEFAULT, "1.60", 500, 1000000,
     True, True, True),
    (21, "YouTube Subscribers", "YouTube Subscribers [Non drop]", ServiceType.DEFAULT, "28.00", 50, 20000, True, False, False),
    (22, "YouTube Likes", "YouTube Likes", ServiceType.DEFAULT, "3.20", 20, 50000, True, True, False),
    (23, "YouTube Comments", "YouTube Custom Comments", ServiceType.CUSTOM_COMMENTS, "18.00", 5, 500, False, True, False),
    (24, "YouTube Packages", "YouTube Monetization Package [4000 hours]", ServiceType.PACKAGE, "49.99", 1, 1,
     False, False, False),
    # Twitter / X
    (25, "Twitter / X Followers", "X Followers [HQ]", ServiceType.DEFAULT, "4.50", 100, 30000, True, True, False),
    (26, "Twitter / X Likes", "X Likes", ServiceType.DEFAULT, "1.10", 20, 20000, False, True, True),
    (27, "Twitter / X Polls", "X Poll Votes", ServiceType.POLL, "1.90", 50, 100000, False, True, False),
    (28, "Twitter / X Comments", "X Custom Replies Package [10 replies]", ServiceType.CUSTOM_COMMENTS_PACKAGE, "6.00", 1, 10,
     False, False, False),
    # Telegram
    (29, "Telegram Members", "Telegram Channel Members [Real]", ServiceType.DEFAULT, "1.35", 100, 100000, True, True, False),
    (30, "Telegram Views", "Telegram Post Views [Last 5 posts]", ServiceType.DEFAULT, "0.02", 100, 500000, False, False, True),
    (31, "Telegram Polls", "Telegram Poll Votes", ServiceType.POLL, "0.95", 50, 50000, False, False, False),
    (32, "Telegram Views", "Telegram Auto Views [Future posts]", ServiceType.SUBSCRIPTIONS, "0.05", 100, 100000,
     False, False, False),
    # Website traffic
    (33, "Website Traffic", "Website Traffic [Worldwide, targeted]", ServiceType.WEB_TRAFFIC, "0.45", 1000, 1000000,
     False, True, True),
    (34, "Website Traffic", "Website Traffic [USA, Google keyword]", ServiceType.WEB_TRAFFIC, "1.25", 500, 200000,
     False, True, False),
    (35, "SEO", "Google Keyword Ranking Clicks", ServiceType.SEO, "5.50", 100, 20000, False, False, False),
]
# fmt: on

_DESCRIPTIONS = {
    True: "Refill available for 30 days after completion.",
    False: "No refill.",
}


def _defaults(row: tuple) -> dict:
    _id, category, name, type_, rate, min_, max_, refill, cancel, dripfeed = row
    return {
        "category": category,
        "name": name,
        "type": type_,
        "rate": Decimal(rate),
        "min": min_,
        "max": max_,
        "refill": refill,
        "cancel": cancel,
        "dripfeed": dripfeed,
        "description": _DESCRIPTIONS[refill],
        "active": True,
    }


def ensure_catalog() -> int:
    """Create or update the sandbox catalog by ID (an upsert: one query); returns how many services."""
    rows = [SandboxService(id=row[0], **_defaults(row)) for row in _CATALOG]
    SandboxService.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["id"], update_fields=list(_defaults(_CATALOG[0]))
    )
    return len(rows)
