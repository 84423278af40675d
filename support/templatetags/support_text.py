"""A ticket message as the page shows it: plain text, every character escaped, and only web addresses
(http and https) turned into links that open apart from the panel and pass it nothing. No HTML a customer
(or staff) writes is ever kept as HTML: `<a href="javascript:...">` arrives as the text it is.

    {% load support_text %}<div class="message-body">{{ message.body|message_text }}</div>

Line breaks are kept by the CSS (white-space: pre-wrap), not by inserted tags."""

import re
from urllib.parse import urlsplit

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# An address starts a word (not "xhttps://") and runs to the next space, quote or angle bracket.
URL = re.compile(r"(?<!\w)https?://[^\s<>\"'`]+", re.IGNORECASE)
TRAILING = ".,;:!?*'\""  # punctuation after an address ends the sentence, not the address
PAIRS = {")": "(", "]": "[", "}": "{"}
LINK_ATTRS = 'rel="nofollow noopener noreferrer" target="_blank"'


def _trim(url: str) -> str:
    """Leave out what ends the sentence: "see https://x.com/a." links https://x.com/a, and a closing bracket
    only when the address did not open one ("(https://x.com/a_(b))" keeps its own)."""
    while url:
        last = url[-1]
        if last in TRAILING:
            url = url[:-1]
        elif last in PAIRS and url.count(last) > url.count(PAIRS[last]):
            url = url[:-1]
        else:
            break
    return url


def _safe_link(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced [ in the host
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def linkify(text) -> SafeString:
    """Escape all of `text`; make its http(s) addresses links. The one place message HTML is made."""
    text = "" if text is None else str(text)
    pieces: list[str] = []
    done = 0
    for found in URL.finditer(text):
        url = _trim(found.group(0))
        if not _safe_link(url):
            continue
        start, end = found.start(), found.start() + len(url)
        pieces.append(escape(text[done:start]))
        pieces.append(f'<a href="{escape(url)}" {LINK_ATTRS}>{escape(url)}</a>')
        done = end
    pieces.append(escape(text[done:]))
    return mark_safe("".join(pieces))  # noqa: S308 - every piece above is escaped


@register.filter(is_safe=False)
def message_text(value):
    """Always escapes, even text marked safe: a message is text, never HTML."""
    return linkify(value)
