"""Language of an article's text with langdetect, made deterministic.

langdetect samples n-grams at random, so without a fixed seed the same article could get
a different language (and probability) on re-extraction. The seed is set once at import,
and langdetect loads its profiles (about half a second) once per process, on first use.
"""

from __future__ import annotations

from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

DetectorFactory.seed = 0

# A couple of sentences settle langdetect's answer (Arabic against Persian or Urdu shows
# in their own letters); more text only costs time, linear in the sample (about 5 ms per
# 1000 characters, the largest single cost of a crawl before this was cut from 600).
SAMPLE_CHARS = 250


def detect_language(text: str) -> tuple[str | None, float | None]:
    """(ISO 639-1 code, probability), or (None, None) when the text has no letters or
    langdetect cannot decide."""
    sample = (text or "")[:SAMPLE_CHARS]
    if not any(ch.isalpha() for ch in sample):
        return None, None
    try:
        best = detect_langs(sample)[0]
    except (LangDetectException, IndexError):
        return None, None
    return best.lang, round(best.prob, 4)
