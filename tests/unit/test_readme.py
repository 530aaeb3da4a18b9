"""The README cites its sources in English (issue 13: it quoted a Chinese sentence)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def test_the_readme_quotes_no_chinese_text():
    lines = [line for line in README.read_text(encoding="utf-8").splitlines() if CJK.search(line)]
    assert lines == []
