"""`untrusted.literal`: untrusted words inside Markdown the app writes show exactly as written.

Checked with a CommonMark renderer that has what Streamlit's has (GFM tables, strikethrough,
footnotes, `$` math) and with generated text of every kind, punctuation first.
"""

from __future__ import annotations

import html
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin

from reelscope.untrusted import WORD_JOINER, literal, renders_unsafe

RENDERER = (
    MarkdownIt("commonmark", {"html": True})
    .enable(["table", "strikethrough"])
    .use(footnote_plugin)
    .use(dollarmath_plugin, double_inline=True)
)
MARKUP = string.punctuation + " \t\n" + "ab1é漢"
HOSTILE = [
    "![x](http://127.0.0.1:9/leak.png)",
    '<img src="http://127.0.0.1:9/i"> <script>alert(1)</script>',
    "] [ ]( :red[alarm] :material/warning: :smile:",
    "~~struck~~ **bold** `code` $x^2$ &amp; &#60; \\",
    "# heading",
    "1. item",
    "| a | b |",
]


def rendered_text(markdown: str) -> str:
    """What a reader sees: the rendered paragraph's text, entities decoded."""
    out = RENDERER.render(markdown).strip()
    if not out:
        return ""
    assert out.startswith("<p>") and out.endswith("</p>"), out  # one paragraph, no other block
    return html.unescape(out[3:-4]).replace(WORD_JOINER, "")  # invisible: read as nothing


@given(st.text(alphabet=MARKUP, max_size=40) | st.sampled_from(HOSTILE))
def test_literal_text_renders_as_exactly_its_characters(text):
    markdown = literal(text)
    assert rendered_text(markdown) == " ".join(text.split())
    assert not renders_unsafe(markdown)


@given(st.text(alphabet=MARKUP, max_size=40))
def test_no_punctuation_is_left_unescaped(text):
    markdown = literal(text)
    index = 0
    while index < len(markdown):
        if markdown[index] == "\\":
            assert markdown[index + 1] in string.punctuation
            index += 2
            continue
        assert markdown[index] not in string.punctuation, markdown
        index += 1


@pytest.mark.parametrize(
    ("text", "joined"),
    [
        (":smile:", True),
        (":100:", True),
        (":+1:", True),
        (":material/warning:", True),
        ("at 12:30:45", True),  # ":30:" has the shape of a code
        ("04:00", False),
        ("http://127.0.0.1:9/leak.png", False),  # a joiner would land in the link GFM makes
        ("ratio 1:2 end", False),
        ("note: here", False),
    ],
)
def test_a_joiner_follows_only_a_colon_that_opens_a_code(text, joined):
    assert (WORD_JOINER in literal(text)) is joined
