"""Bytes of a fetched page to text.

Arabic outlets still serve windows-1256 and ISO-8859-6 pages, and their HTTP headers and
`<meta>` tags are often wrong (a utf-8 header on windows-1256 bytes, ISO-8859-1 on UTF-8
Arabic). So every declared charset is checked against the bytes before it is trusted: it
must decode strictly and must not produce mojibake; otherwise the next source is tried.
Order: byte-order mark, HTTP header, `<meta>` in the first 4 KB, then detection (strict
UTF-8, charset-normalizer, windows-1256), and UTF-8 with replacement characters last.
"""

from __future__ import annotations

import codecs
import re
from functools import lru_cache

from charset_normalizer import from_bytes

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE
)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)
# Labels browsers read differently from their names (WHATWG Encoding): Latin-1 and ASCII
# declarations mean windows-1252; ISO-8859-6-I/-E (bidi variants) are ISO-8859-6.
_ALIASES = {"latin1": "cp1252", "iso8859-1": "cp1252", "ascii": "cp1252"}
_BIDI_SUFFIX = re.compile(r"(iso-?8859-[68])-[ie]$")
_LABELS = {"cp1256": "windows-1256", "cp1252": "windows-1252", "iso8859-6": "iso-8859-6"}
_WESTERN = frozenset({"cp1252", "iso8859-15", "cp1250", "mac-roman"})
_SNIFF = 4096


def _codec(label: str | None) -> str | None:
    """Python's codec name for a charset label, or None if Python does not know it."""
    if not label:
        return None
    label = _BIDI_SUFFIX.sub(r"\1", label.strip().strip("\"'").lower())
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _ALIASES.get(name, name)


def _label(codec: str) -> str:
    """The name a page would declare for a codec: `windows-1256`, `iso-8859-6`, `utf-8`."""
    return _LABELS.get(codec, codec)


@lru_cache(maxsize=32)
def _mojibake(codec: str) -> re.Pattern[str]:
    """What UTF-8 Arabic looks like when read as `codec`: a lead byte 0xD8-0xDB followed
    by a continuation byte 0x80-0xBF, each as that codec shows it (`Ø§` in windows-1252,
    `ط§` in windows-1256)."""
    leads = bytes(range(0xD8, 0xDC)).decode(codec, "ignore")
    follows = bytes(range(0x80, 0xC0)).decode(codec, "ignore")
    return re.compile(f"[{re.escape(leads)}][{re.escape(follows)}]")


def _plausible(text: str, codec: str) -> bool:
    """A strict decoding still lies when it turns UTF-8 Arabic into `Ø§Ù„`, or when a
    Western charset turns Arabic letters into runs of accented Latin letters."""
    if not codec.startswith("utf") and len(_mojibake(codec).findall(text, 0, 200_000)) >= 3:
        return False
    if codec in _WESTERN:
        high = [c for c in text if "\u00c0" <= c <= "\u00ff"]
        if len(high) > 20:
            runs = re.findall("[\u00c0-\u00ff]{3,}", text)
            if sum(map(len, runs)) > 0.5 * len(high):
                return False
    return True


def _try(body: bytes, codec: str | None) -> str | None:
    if codec is None:
        return None
    try:
        text = body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None
    return text if _plausible(text, codec) else None


def _declared_charsets(body: bytes, header_encoding: str | None) -> list[str]:
    """Codecs the HTTP header and the page's own `<meta>` tags declare, in that order."""
    declared = []
    if header_encoding:
        match = _HEADER_CHARSET.search(header_encoding)
        declared.append(_codec(match.group(1) if match else header_encoding))
    for match in _META_CHARSET.finditer(body[:_SNIFF]):
        declared.append(_codec(match.group(1).decode("ascii", "ignore")))
    return [c for c in dict.fromkeys(declared) if c]


def decode_html(body: bytes, header_encoding: str | None = None) -> tuple[str, str]:
    """The page text and the charset label it was decoded with."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            family = codec.removesuffix("-le").removesuffix("-be")
            return body[len(bom) :].decode(codec, "replace"), family
    for codec in _declared_charsets(body, header_encoding):
        text = _try(body, codec)
        if text is not None:
            return text, _label(codec)
    text = _try(body, "utf-8")
    if text is not None:
        return text, "utf-8"
    best = from_bytes(body[: 256 * 1024]).best()
    codec = _codec(best.encoding if best else None)
    for candidate in (codec, "cp1256"):
        text = _try(body, candidate)
        if candidate and text is not None:
            return text, _label(candidate)
    return body.decode("utf-8", "replace"), "utf-8"
