"""Asserting that a page rendered, not only that it answered 200."""


def rendered(response, heading: str) -> str:
    """The page's HTML, once it is known to be a 200 HTML page showing `heading` (its h1, or text it must
    hold); fails with what came back otherwise."""
    html = response.content.decode()
    assert response.status_code == 200, (response.status_code, response.get("Location"))
    assert response["Content-Type"].startswith("text/html"), response["Content-Type"]
    assert heading in html, f"{heading!r} is not on the page"
    return html
