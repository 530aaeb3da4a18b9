"""Untrusted text as a model writes it, what `reelscope.untrusted` makes of it, and what Chromium
shows of that through `st.markdown`. Shared by tests/unit/test_untrusted.py (the Markdown) and
tests/e2e/test_markdown_in_browser.py (what is seen, raw and sanitised, in a real browser).
"""

from __future__ import annotations

from dataclasses import dataclass

WORD_JOINER = "\u2060"
ZERO_WIDTH_SPACE = "\ufeff"


@dataclass(frozen=True)
class Case:
    name: str
    text: str  # what the model (or an import) wrote
    markdown: str  # what safe_markdown (or safe_inline) gives
    seen: str  # what the browser shows of it, whitespace collapsed, zero-width marks removed
    inline: bool = False  # through safe_inline rather than safe_markdown
    raw_harmful: bool = True  # shown unsanitised, Streamlit fetches, draws or loses something


CASES = [
    Case(
        "image becomes its link",
        "See ![the chart](http://127.0.0.1:9/x.png) and more!",
        "See [the chart](http://127.0.0.1:9/x.png) and more!",
        "See the chart and more!",
    ),
    Case(
        "image right after a word",
        "Wow![link](http://127.0.0.1:9/w) ok",
        "Wow[link](http://127.0.0.1:9/w) ok",
        "Wowlink ok",
    ),
    Case(
        "reference images",
        "![a][r] and ![r] and ![b][none]\n\n[r]: http://127.0.0.1:9/ref",
        "[a][r] and [r] and \\![b][none]\n\n[r]: http://127.0.0.1:9/ref",
        "a and r and ![b][none]",
    ),
    Case(
        "images in a list",
        "- item ![x](http://127.0.0.1:9/l)\n  - nested ![y](http://127.0.0.1:9/m)",
        "- item [x](http://127.0.0.1:9/l)\n  - nested [y](http://127.0.0.1:9/m)",
        "item x nested y",
    ),
    Case(
        "an escaped backslash before an image",
        "a \\\\![c](http://127.0.0.1:9/d) and !![e](http://127.0.0.1:9/f)",
        "a \\\\[c](http://127.0.0.1:9/d) and !\\![e](http://127.0.0.1:9/f)",
        "a \\c and !!e",
    ),
    Case(
        "colour and other directives keep their colons",
        "background:red, note:small, a:help[x], b:shimmer[y], c:blue-badge[z] :color[q]{f=1}",
        "background\\:red, note\\:small, a\\:help[x], b\\:shimmer[y], c\\:blue-badge[z] "
        "\\:color[q]{f=1}",
        "background:red, note:small, a:help[x], b:shimmer[y], c:blue-badge[z] :color[q]{f=1}",
    ),
    Case(
        "leaf and container directives",
        "::leaf[label]{a=1}\n\n:::note\ninside\n:::",
        ":\\:leaf[label]{a=1}\n\n::\\:note\ninside\n:::",
        "::leaf[label]{a=1} :::note inside :::",
    ),
    Case(
        "shortcodes, icons and the logo stay text",
        "Use :smile: and :+1: and :material/home: and :material_home: and :streamlit: here",
        "Use :\u2060smile: and :\u2060+1: and \\:material\\/home: and :\u2060material_home: and "
        ":\u2060streamlit: here",
        "Use :smile: and :+1: and :material/home: and :material_home: and :streamlit: here",
    ),
    Case(
        "a time loads the emoji plugin; the shortcode stays text and the time as written",
        "At 10:30:45, `a[1:2:3]` and :smile: here",
        "At 10:30:45, `a[1:2:3]` and :\u2060smile: here",
        "At 10:30:45, a[1:2:3] and :smile: here",
    ),
    Case(
        "times, ratios and URLs are left as they are",
        "Ratio 16:9 at 0:03, note: done, https://example.com:8080/a:red and x:y:z",
        "Ratio 16:9 at 0:03, note: done, https://example.com:8080/a:red and x:\u2060y\\:z",
        "Ratio 16:9 at 0:03, note: done, https://example.com:8080/a:red and x:y:z",
        raw_harmful=False,  # what must not change: no escape shows, no link changes
    ),
    Case(
        "dollars stay money beside math",
        "It costs $5 or $6, not $x$.",
        "It costs \\$5 or \\$6, not $x$.",
        "It costs $5 or $6, not \U0001d465 x.",  # KaTeX: the x drawn, then its MathML
    ),
    Case(
        "a mermaid fence is shown as code",
        "```mermaid\ngraph TD; A-->B\n```",
        "```text\ngraph TD; A-->B\n```",
        "graph TD; A-->B",
    ),
    Case(
        "raw HTML reads as written",
        "<img src=http://127.0.0.1:9/raw> and <b>bold</b>",
        "\\<img src=http://127.0.0.1:9/raw> and \\<b>bold\\</b>",
        "<img src=http://127.0.0.1:9/raw> and <b>bold</b>",
        raw_harmful=False,  # Streamlit shows raw HTML as text already
    ),
    Case(
        "a tag right after a link: no backslash in the link",
        "Ran fetch('http://127.0.0.1:9/a')</script> then <b>",
        "Ran fetch('http://127.0.0.1:9/a')\ufeff\\</script> then \\<b>",
        "Ran fetch('http://127.0.0.1:9/a')</script> then <b>",
        raw_harmful=False,
    ),
    Case(
        "code spans stay byte for byte, with no backslash before a pipe",
        "# Title | `a|b` and ![x](http://127.0.0.1:9/i) :red[y]",
        "\\# Title \\| `a|b` and [x](http://127.0.0.1:9/i) \\:red[y]",
        "# Title | a|b and x :red[y]",
        inline=True,
    ),
    Case(
        "a one-line label opens no list",
        "- 1. ![x](http://127.0.0.1:9/j) <script>alert(1)</script>",
        "\\- 1. [x](http://127.0.0.1:9/j) \\<script>alert(1)\\</script>",
        "- 1. x <script>alert(1)</script>",
        inline=True,
    ),
]
