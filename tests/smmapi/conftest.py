"""Shared fixtures for the smmapi tests. Plain pytest: nothing here may import Django."""

import sys
from pathlib import Path

import pytest
import responses

# The project root (where `smmapi/` lives) must be importable even when pytest runs
# without pytest-django (`-p no:django`), which would otherwise put it on sys.path; and
# `smmapi_helpers` beside this file must import by its plain name whether or not tests/
# is a package (rootdir vs package-relative import modes).
HERE = Path(__file__).resolve().parent
for path in (str(HERE.parents[1]), str(HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)

from smmapi_helpers import KEY, URL  # noqa: E402

from smmapi import Client  # noqa: E402


@pytest.fixture
def mocked():
    """A `responses` mock; not every registered answer has to be used."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def api_client():
    with Client(URL, KEY) as c:
        yield c
