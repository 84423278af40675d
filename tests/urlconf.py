"""Every URL of the URLconf, for tests that must cover each one (a new URL without a case fails them)."""

from django.urls import URLPattern, URLResolver, get_resolver


def all_patterns() -> list[tuple[str, URLPattern]]:
    """(route as written, pattern) for every URL in the URLconf, includes followed."""
    found = []

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                found.append((prefix + str(pattern.pattern), pattern))

    walk(get_resolver().url_patterns, "")
    return found
