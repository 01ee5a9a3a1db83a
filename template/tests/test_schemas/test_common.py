"""The text rules, checked against Unicode's own categories over every code point."""

import re
import sys
import unicodedata
from typing import Annotated

import pytest
from httpx import AsyncClient
from pydantic import Field, TypeAdapter, ValidationError

from src.schemas.common import MULTILINE_TEXT, NO_CONTROL_CHARACTERS, SINGLE_LINE_TEXT

REFUSED_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}
CODE_POINTS = [chr(code) for code in range(sys.maxunicode + 1) if not 0xD800 <= code <= 0xDFFF]
REFUSED = [char for char in CODE_POINTS if unicodedata.category(char) in REFUSED_CATEGORIES]
# Every letter, mark, number, punctuation and symbol: accents, emoji, CJK and the rest.
ORDINARY = "".join(char for char in CODE_POINTS if unicodedata.category(char)[0] in "LMNPS")
SPACES = "".join(char for char in CODE_POINTS if unicodedata.category(char) == "Zs")
LINE_BREAKS = "\t\n\r"
PATTERNS = {
    "no-control": NO_CONTROL_CHARACTERS,
    "single-line": SINGLE_LINE_TEXT,
    "multiline": MULTILINE_TEXT,
}


def accepts(pattern: str, value: str) -> bool:
    """What the API does: Pydantic's own regex engine decides."""
    try:
        TypeAdapter(Annotated[str, Field(pattern=pattern)]).validate_python(value)
    except ValidationError:
        return False
    return True


def test_the_characters_are_many() -> None:
    # The Unicode version of this Python knows the refused categories and scripts.
    assert len(REFUSED) > 200
    assert {"\u202e", "\u200b", "\u2028", "\u2029", "\ufeff", "\x00", "\x1b"} <= set(REFUSED)
    assert len(ORDINARY) > 100_000


@pytest.mark.parametrize("pattern", PATTERNS.values(), ids=PATTERNS.keys())
def test_every_control_format_and_separator_character_is_refused(pattern: str) -> None:
    allowed = LINE_BREAKS if pattern == MULTILINE_TEXT else ""

    accepted = [char for char in REFUSED if accepts(pattern, f"a{char}b")]

    assert accepted == list(allowed)
    assert not any(accepts(pattern, char) for char in REFUSED if char not in LINE_BREAKS)


@pytest.mark.parametrize("pattern", PATTERNS.values(), ids=PATTERNS.keys())
def test_every_letter_mark_number_punctuation_and_symbol_is_accepted(pattern: str) -> None:
    assert accepts(pattern, ORDINARY)
    assert accepts(pattern, ORDINARY + SPACES + ORDINARY)


@pytest.mark.parametrize("pattern", PATTERNS.values(), ids=PATTERNS.keys())
@pytest.mark.parametrize(
    "text",
    [
        "Ann",
        "José",
        "Zoë Ø'Brien-Łódź",
        "Ἀθῆναι",
        "नमस्ते",
        "北京市",
        "こんにちは",
        "😀👍🏽",
        "٣ + ٤",
    ],
)
def test_ordinary_text_is_accepted(pattern: str, text: str) -> None:
    assert accepts(pattern, text)
    assert accepts(pattern, f" {text} ")


@pytest.mark.parametrize("pattern", [SINGLE_LINE_TEXT, MULTILINE_TEXT], ids=["single", "multi"])
@pytest.mark.parametrize("spaces", ["", " ", "   ", "\u00a0", "\u3000", SPACES])
def test_spaces_alone_are_refused(pattern: str, spaces: str) -> None:
    assert not accepts(pattern, spaces)
    assert accepts(pattern, f"{spaces}x{spaces}")


@pytest.mark.parametrize("text", ["\t", "\n", "\n\n", " \r\n\t "])
def test_line_breaks_alone_are_refused(text: str) -> None:
    assert not accepts(MULTILINE_TEXT, text)
    assert accepts(MULTILINE_TEXT, f"{text}x{text}")


def test_multiline_text_keeps_its_line_breaks_and_single_line_text_does_not() -> None:
    text = "First line,\r\n\tsecond line.\n"

    assert accepts(MULTILINE_TEXT, text)
    assert not accepts(SINGLE_LINE_TEXT, text)
    assert accepts(NO_CONTROL_CHARACTERS, " ")


@pytest.mark.parametrize("pattern", PATTERNS.values(), ids=PATTERNS.keys())
def test_python_regexes_read_the_patterns_as_pydantic_does(pattern: str) -> None:
    # Tools that generate data from the OpenAPI document (Schemathesis) read the pattern
    # with another regex engine: both must agree on what matches.
    compiled = re.compile(pattern)
    samples = [f"a{char}b" for char in REFUSED] + [ORDINARY, " ", "", "x", " x\ty\nz "]

    assert [bool(compiled.search(text)) for text in samples] == [
        accepts(pattern, text) for text in samples
    ]


async def test_the_openapi_document_states_the_rules(client: AsyncClient) -> None:
    schemas = (await client.get("/api/openapi.json")).json()["components"]["schemas"]

    full_name = schemas["UserCreate"]["properties"]["full_name"]["anyOf"][0]
    username = schemas["LoginForm"]["properties"]["username"]
    assert full_name["pattern"] == SINGLE_LINE_TEXT
    assert username["pattern"] == NO_CONTROL_CHARACTERS
