"""Bytes to text: declared charsets are checked against the bytes before being trusted."""

from __future__ import annotations

import codecs

import pytest

from analysis.encoding import decode_html

ARABIC = (
    "التقى الرئيس الروسي فلاديمير بوتين نظيره الصيني على هامش قمة منظمة شنغهاي للتعاون "
    "في مدينة سمرقند، وبحث الزعيمان التعاون التجاري والاقتصادي بين البلدين."
)


def page(meta: str = "") -> str:
    return f"<html><head>{meta}<title>خبر</title></head><body><p>{ARABIC}</p></body></html>"


@pytest.mark.parametrize(
    ("body", "header", "expected"),
    [
        (page().encode("cp1256"), None, "windows-1256"),
        (page().encode("cp1256"), "text/html; charset=windows-1256", "windows-1256"),
        (page().encode("cp1256"), "text/html; charset=utf-8", "windows-1256"),
        (page().encode("cp1256"), "text/html; charset=ISO-8859-1", "windows-1256"),
        (page('<meta charset="windows-1256">').encode("cp1256"), None, "windows-1256"),
        (
            page(
                '<meta http-equiv="Content-Type" content="text/html; charset=windows-1256">'
            ).encode("cp1256"),
            None,
            "windows-1256",
        ),
        (page().encode("iso8859-6"), "text/html; charset=ISO-8859-6", "iso-8859-6"),
        (page('<meta charset="iso-8859-6">').encode("iso8859-6"), None, "iso-8859-6"),
        (page().encode("iso8859-6"), "text/html; charset=ISO-8859-6-I", "iso-8859-6"),
        (page().encode("iso8859-6"), None, "iso-8859-6"),
        (page().encode("utf-8"), None, "utf-8"),
        (page().encode("utf-8"), "text/html; charset=ISO-8859-1", "utf-8"),
        (page().encode("utf-8"), "text/html; charset=windows-1256", "utf-8"),
        (page('<meta charset="windows-1256">').encode("utf-8"), None, "utf-8"),
        (codecs.BOM_UTF8 + page().encode("utf-8"), "text/html; charset=windows-1256", "utf-8"),
        (codecs.BOM_UTF16_LE + page().encode("utf-16-le"), None, "utf-16"),
    ],
    ids=[
        "1256-no-header",
        "1256-header",
        "1256-wrong-utf8-header",
        "1256-wrong-latin1-header",
        "1256-meta-charset",
        "1256-meta-http-equiv",
        "8859-6-header",
        "8859-6-meta",
        "8859-6-i-header",
        "8859-6-detected",
        "utf8",
        "utf8-wrong-latin1-header",
        "utf8-wrong-1256-header",
        "utf8-wrong-1256-meta",
        "utf8-bom-beats-header",
        "utf16-bom",
    ],
)
def test_decodes_arabic(body: bytes, header: str | None, expected: str) -> None:
    text, encoding = decode_html(body, header)
    assert ARABIC in text
    assert "Ø§" not in text and "ط§" not in text
    assert encoding == expected


def test_latin1_page_stays_latin() -> None:
    french = "<p>Élève à l'école, où ça? Noël déjà.</p>" * 20
    text, encoding = decode_html(french.encode("latin-1"), "text/html; charset=iso-8859-1")
    assert "Élève à l'école" in text
    assert encoding == "windows-1252"


def test_utf8_page_with_a_stray_byte_is_not_read_as_a_single_byte_charset() -> None:
    body = page().encode("utf-8").replace(b"<title>", b"<title>\xff")
    text, encoding = decode_html(body, "text/html; charset=utf-8")
    assert ARABIC in text
    assert encoding == "utf-8"
