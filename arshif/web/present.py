"""How archive values read on the page: outlet names from the catalogue (grouped by
country), topic labels from the rule files, language and country names, plurals and an
article's metadata, in the interface language. Ids stay in URLs; people read names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from arshif.arabic import tokens
from arshif.record import Article
from arshif.web.i18n import ui_digits

LANGUAGES = {
    "ar": ("العربية", "Arabic"),
    "en": ("الإنجليزية", "English"),
    "fr": ("الفرنسية", "French"),
    "fa": ("الفارسية", "Persian"),
    "tr": ("التركية", "Turkish"),
    "he": ("العبرية", "Hebrew"),
    "unknown": ("غير معروفة", "unknown"),
}
COUNTRIES = {
    "AE": ("الإمارات", "UAE"),
    "EG": ("مصر", "Egypt"),
    "FR": ("فرنسا", "France"),
    "GB": ("بريطانيا", "United Kingdom"),
    "LB": ("لبنان", "Lebanon"),
    "MA": ("المغرب", "Morocco"),
    "QA": ("قطر", "Qatar"),
    "RU": ("روسيا", "Russia"),
    "SA": ("السعودية", "Saudi Arabia"),
    "TR": ("تركيا", "Turkey"),
    "US": ("الولايات المتحدة", "United States"),
    "": ("غير محدد", "unspecified"),
}
# Record fields as the metadata panel labels them.
FIELD_LABELS = {
    "id": ("المعرّف", "Id"),
    "url": ("الرابط", "URL"),
    "canonical_url": ("الرابط المعتمد", "Canonical URL"),
    "outlet": ("المصدر", "Outlet"),
    "authors": ("الكتّاب", "Authors"),
    "published": ("تاريخ النشر", "Published"),
    "modified": ("تاريخ التعديل", "Modified"),
    "language": ("اللغة", "Language"),
    "language_prob": ("ثقة كشف اللغة", "Language confidence"),
    "image": ("الصورة", "Image"),
    "section": ("القسم", "Section"),
    "tags": ("الوسوم", "Tags"),
    "page_type": ("نوع الصفحة", "Page type"),
    "fetched_at": ("تاريخ الجلب", "Fetched"),
    "http_status": ("رمز HTTP", "HTTP status"),
    "encoding": ("الترميز", "Encoding"),
    "warc_file": ("ملف WARC", "WARC file"),
    "warc_offset": ("الموضع في WARC", "WARC offset"),
    "content_hash": ("بصمة المحتوى", "Content hash"),
    "dup_cluster": ("مجموعة النسخ", "Duplicate cluster"),
    "dup_of": ("نسخة من", "Copy of"),
    "story_id": ("القصة", "Story"),
    "topics": ("المواضيع", "Topics"),
}


def _pick(pair: tuple[str, str], ui: str) -> str:
    return pair[0] if ui == "ar" else pair[1]


@dataclass(frozen=True)
class Names:
    """Readable names for the ids the archive stores."""

    outlets: Mapping[str, tuple[str, str]]  # id -> (name, country code)
    topics: Mapping[str, Mapping[str, str]]  # id -> {ui: label}
    ui: str

    def outlet(self, outlet_id: str) -> str:
        return self.outlets[outlet_id][0] if outlet_id in self.outlets else outlet_id

    def topic(self, topic_id: str) -> str:
        return self.topics.get(topic_id, {}).get(self.ui, topic_id)

    def language(self, code: str | None) -> str:
        code = code or "unknown"
        return _pick(LANGUAGES[code], self.ui) if code in LANGUAGES else code

    def country(self, code: str) -> str:
        code = "" if code == "--" else code
        return _pick(COUNTRIES[code], self.ui) if code in COUNTRIES else code

    def by_country(self, outlet_ids: list[str]) -> list[tuple[str, list[tuple[str, str]]]]:
        """[(country name, [(id, name), ...]), ...]: the optgroups of the outlet list."""
        groups: dict[str, list[tuple[str, str]]] = {}
        for oid in outlet_ids:
            country = self.outlets[oid][1] if oid in self.outlets else ""
            groups.setdefault(self.country(country), []).append((oid, self.outlet(oid)))
        return sorted((c, sorted(members, key=lambda m: m[1])) for c, members in groups.items())

    def facet(self, name: str, value: str) -> str:
        """A facet value as people read it (months stay as they are)."""
        if name == "outlet":
            return self.outlet(value)
        if name == "topics":
            return self.topic(value)
        if name == "language":
            return self.language(value)
        return value


def plural(n: int, ui: str, forms: Mapping[str, str]) -> str:
    """Arabic counts take one of six forms (one, two, 3-10, 11+, ...); English two.
    `forms` holds "one", "two", "few", "many" (Arabic) or "one", "many" (English)."""
    if n == 1:
        key = "one"
    elif ui == "ar" and n == 2:
        key = "two"
    elif ui == "ar" and 3 <= n % 100 <= 10:
        key = "few"
    else:
        key = "many"
    return forms[key].format(n=ui_digits(n, ui))


def lead_repeated(lead: str, text: str) -> bool:
    """True when the text opens with the lead already (most of its words are in the first
    paragraph), so the page shows it once."""
    words = set(tokens(lead))
    if not words:
        return True
    first = set(tokens(text.strip().split("\n", 1)[0]))
    return len(words & first) >= 0.8 * len(words)


def metadata_rows(article: Article, names: Names, empty: str) -> list[tuple[str, str, bool]]:
    """(label, value, is_link) for the metadata panel: no Python `None` or `['…']`."""
    rows = []
    for key, value in article.to_dict().items():
        if key not in FIELD_LABELS:
            continue
        rows.append((_pick(FIELD_LABELS[key], names.ui), *_readable(key, value, names, empty)))
    return rows


def _readable(key: str, value: Any, names: Names, empty: str) -> tuple[str, bool]:
    if value in (None, "", []):
        return empty, False
    if key == "outlet":
        return f"{names.outlet(value)} ({value})", False
    if key == "language":
        return names.language(value), False
    comma = "، " if names.ui == "ar" else ", "
    if key == "topics":
        return comma.join(names.topic(v) for v in value), False
    if key == "language_prob":
        return f"{value:.0%}", False
    if isinstance(value, list):
        return comma.join(str(v) for v in value), False
    link = key in ("url", "canonical_url", "image") and str(value).startswith(
        ("http://", "https://")
    )
    return str(value), link
