"""Fingerprints of article text, computed on normalised tokens so that spelling variants
(tashkeel, tatweel, hamza forms, digits) of one text have one fingerprint."""

from __future__ import annotations

import hashlib

from arshif.arabic import tokens


def content_hash(text: str) -> str | None:
    """Hash of the normalised word sequence: equal for exact copies of one text."""
    return words_hash(tokens(text))


def words_hash(words: list[str]) -> str | None:
    """`content_hash` of a text already split by `tokens`."""
    if not words:
        return None
    return hashlib.sha1(" ".join(words).encode("utf-8")).hexdigest()[:16]
