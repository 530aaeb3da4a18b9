"""The product uses its libraries' public APIs only: no private google-genai converters, no
proto-plus `_pb`, no files of Streamlit's frontend build read by name."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = sorted(
    [ROOT / "app.py", ROOT / "serve.py"]
    + [p for folder in ("reelscope", "components", "pages") for p in (ROOT / folder).rglob("*.py")]
)


def private_uses(source: str) -> list[str]:
    """Private names taken from google.* modules, and `_pb` read off any object."""
    tree = ast.parse(source)
    google_names: set[str] = set()
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("google"):
            for alias in node.names:
                if alias.name.startswith("_"):
                    found.append(f"from {node.module} import {alias.name}")
                google_names.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("google"):
                    google_names.add((alias.asname or alias.name).split(".")[0])
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
            continue
        if node.attr.startswith("__"):
            continue  # dunders (__name__, __file__) are public
        if node.attr == "_pb":
            found.append("._pb")
        elif isinstance(node.value, ast.Name) and node.value.id in google_names:
            found.append(f"{node.value.id}.{node.attr}")
    return found


def test_the_checker_finds_what_it_looks_for():
    source = (
        "from google.genai import _common, types\n"
        "from google.genai import models as genai_models\n"
        "body = genai_models._GenerateContentParameters_to_vertex(None, types._X())\n"
        "prediction = answer._pb.predictions[0]\n"
        "ok = types.Content().model_dump()\n"
    )
    assert sorted(private_uses(source)) == [
        "._pb",
        "from google.genai import _common",
        "genai_models._GenerateContentParameters_to_vertex",
        "types._X",
    ]


@pytest.mark.parametrize("path", PRODUCT, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_api_of_google_libraries(path):
    assert private_uses(path.read_text()) == []


def test_no_file_of_streamlits_frontend_build_is_named():
    for path in PRODUCT:
        source = path.read_text()
        assert "static/js" not in source and '"static" / "static"' not in source, path
