"""The HTML parse mode as Telegram applies it: visible text, entities, refusals."""

from __future__ import annotations

import pytest

from tests.fake_telegram import HtmlParseError, parse_html


def test_tags_are_stripped_and_entities_decoded() -> None:
    parsed = parse_html('<b>Врач</b> &lt;ID&gt; &amp; <a href="https://x.io/?a=1&amp;b=2">сайт</a>')
    assert parsed.text == "Врач <ID> & сайт"
    assert [(e.type, e.offset, e.length) for e in parsed.entities] == [
        ("bold", 0, 4),
        ("text_link", 12, 4),
    ]
    assert parsed.entities[1].url == "https://x.io/?a=1&b=2"


def test_offsets_are_utf16_and_unknown_entities_stay_literal() -> None:
    parsed = parse_html("🙂 <i>x</i> &nbsp; &#1071;")
    assert parsed.text == "🙂 x &nbsp; Я"
    assert (parsed.entities[0].offset, parsed.entities[0].length) == (3, 1)


def test_pre_with_language_and_spoiler() -> None:
    parsed = parse_html(
        '<pre><code class="language-python">x = 1</code></pre>'
        '<span class="tg-spoiler">s</span><blockquote expandable>q</blockquote>'
    )
    assert parsed.text == "x = 1sq"
    assert [(e.type, e.language) for e in parsed.entities] == [
        ("pre", "python"),
        ("spoiler", None),
        ("expandable_blockquote", None),
    ]


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<a href="x>y</a>', "Unclosed start tag at byte offset 0"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        (
            "<a href>x</a>",
            'Expected equal sign in declaration of an attribute of the tag "a" at byte offset 0',
        ),
    ],
)
def test_refusals(source: str, error: str) -> None:
    with pytest.raises(HtmlParseError) as caught:
        parse_html(source)
    assert str(caught.value) == error
