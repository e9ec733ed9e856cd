"""Issue 14, finding 3: patient text is never markdown (ui.common.md_escape).

The browser check is tests/e2e/test_e2e_security.py (no image, no link on the
Result page); this pins the escaping itself, including GFM autolinks, which
backslash escapes alone do not stop.
"""

from __future__ import annotations

import re

import pytest

from ui.common import md_escape

JOINER = "\u2060"


@pytest.mark.parametrize("name", [
    "![x](http://host/track.png)",
    "[Click to re-verify your password](https://host/login)",
    "**bold** _it_ `code` <b>x</b> # head | a | ~~s~~ $x$",
    "see www.example.com or mail me@example.com",
    "Zoë O'Neil-Łukasiewicz 李",
])
def test_every_markdown_character_is_escaped_and_shows_as_typed(name):
    escaped = md_escape(name)
    # every special character is preceded by a backslash ...
    bare = re.sub(r"\\.", "", escaped)
    assert not set(bare) & set("\\`*_{}[]()<>#+-.!|~$:"), escaped
    # ... and removing the escapes and the invisible joiners gives back the name
    assert re.sub(r"\\(.)", r"\1", escaped).replace(JOINER, "") == name


@pytest.mark.parametrize("text", ["http://host/x", "HTTPS://host", "ftp://h", "www.host.org", "a@b.org"])
def test_autolinks_are_broken_by_an_invisible_joiner(text):
    shown = re.sub(r"\\(.)", r"\1", md_escape(text))
    assert "://" not in shown and "www." not in shown.lower() and not re.search(r"[\w.+-]@", shown)
    assert JOINER in shown
