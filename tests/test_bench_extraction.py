"""bench/extraction.py's account of the reference words an extraction leaves out."""

from __future__ import annotations

from bench.extraction import missed_words, visible_text

PARAGRAPH = "ويخدم الركاب الآن في العاصمة الإدارية عدة وسائل صديقة للبيئة منها أتوبيسات كهربائية"
PAGE = f"""<html><head><meta charset="utf-8"></head><body>
<h1>وزارة النقل تشغل التاكسي الكهربائي</h1>
<p>{PARAGRAPH}</p>
<div class="imgcontainer"><img src="a.jpg"><span class="uplCaption">التاكسي الكهربائي</span></div>
<div class="img-cap">سيارات للعمل بالعاصمة</div>
<p>وأضاف الوزير أن حجز السيارة سيكون عن طريق التطبيق الذكي للهاتف المحمول</p>
</body></html>""".encode()
RECORD = {
    "title": "وزارة النقل تشغل التاكسي الكهربائي",
    "text": f"{PARAGRAPH}\n\nوأضاف الوزير أن حجز السيارة",
}


def test_missed_words_by_place() -> None:
    gold = "\n".join(
        [
            RECORD["title"],
            PARAGRAPH,
            "التاكسي الكهربائي",
            "سيارات للعمل بالعاصمة",
            "Play",
            "00:38 / 00:46",
            "وأضاف الوزير أن حجز السيارة سيكون عن طريق التطبيق الذكي للهاتف المحمول",
        ]
    )
    assert missed_words(PAGE, RECORD, gold) == {
        "headline": 5,
        "captions": 5,  # both captions, whatever the class is called
        "lines without Arabic": 5,
        "other": 7,  # the end of the last paragraph: article text lost
    }


def test_nothing_missed() -> None:
    gold = f"{PARAGRAPH}\nوأضاف الوزير أن حجز السيارة"
    assert set(missed_words(PAGE, RECORD, gold).values()) == {0}


def test_visible_text_is_what_a_reader_sees() -> None:
    page = PAGE.replace(b"</body>", b"<script>var label = 'Error loading media';</script></body>")
    text = visible_text(page)
    assert "التاكسي الكهربائي" in text and PARAGRAPH in text  # headline, caption, body
    assert "Error loading media" not in text
