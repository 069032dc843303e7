"""Arabic boilerplate: prompts, credits and notices go; article sentences that contain the
same words stay."""

from __future__ import annotations

import pytest
from lxml import html

from analysis.boilerplate import clean_text, is_boilerplate, prune


@pytest.mark.parametrize(
    "line",
    [
        "اقرأ أيضاً",
        "اقرأ أيضًا:",
        "إقرأ ايضا: رئيس الصين يصل كازاخستان في أول زيارة للخارج منذ جائحة كورونا",
        "شاهد أيضاً",
        "اقرأ المزيد",
        "أخبار ذات صلة",
        "مواضيع متعلقة",
        "الأكثر قراءة",
        "قد يهمك أيضاً",
        "تابعنا عبر",
        "/ تابعنا عبر",
        "تابعونا على فيسبوك وتويتر",
        "تابعوا آخر الأخبار عبر تطبيق تيليجرام",
        "شارك",
        "شارك:",
        "شارك الخبر",
        "مشاركة",
        "شارك على فيسبوك تويتر واتساب",
        "فيسبوك تويتر واتساب تيليجرام",
        "Facebook Twitter WhatsApp",
        "اشترك في النشرة البريدية",
        "اشترك الآن",
        "اشترك في نشرتنا الإخبارية لتصلك آخر الأخبار",
        "جميع الحقوق محفوظة © 2024",
        "© 2013 Cable News Network. All Rights Reserved.",
        "© Sputnik . Sergey Guneev",
        "© Sputnik . Sergey Guneev / الانتقال إلى بنك الصور الرئيس الروسي خلال لقاء مع الرئيس المنغولي",
        "تصوير: أحمد علي",
        "المصدر: وكالات",
        "الرئيس الروسي خلال لقاء الرئيس الصيني في العاصمة بكين- 4 فبراير 2022 - REUTERS",
        "الرئيس الروسي خلال القمة في سمرقند. Getty Images",
        "صورة من القمة (أرشيفية)",
        "التعليقات",
        "أضف تعليقاً واقرأ تعليقات القراء",
        "تصنيفات",
        "الكلمات المفتاحية: روسيا، الصين",
        "وسوم",
        "11:49 GMT 03.07.2024 (تم التحديث: 15:35 GMT 03.07.2024)",
        "الأربعاء، 28 آب/اغسطس 2013، آخر تحديث 14:00 (GMT+0400)",
        "الخميس 15 سبتمبر 2022 - 03:30 م",
        "نشر في: 15/09/2022",
        "الخميس 19 صفر 1444 هـ",
        "١٥ صفر ١٤٤٤ هـ - ١١ سبتمبر ٢٠٢٢ م",
        "منذ 3 ساعات",
        "الصفحة الرئيسية | فيديو | الشرق الأوسط | العالم | اقتصاد",
        "المزيد حول هذه القصة",
        "لمزيد من أخبار المحافظات اضغط هنا",
        "للمزيد من التفاصيل انقر هنا",
        "إعلان",
        "/",
    ],
)
def test_boilerplate_lines(line: str) -> None:
    assert is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    [
        "شارك الرئيس في القمة التي عقدت في سمرقند بحضور قادة الدول الأعضاء.",
        "وشاركت الصين في تدريبات مشتركة مماثلة تحت قيادة روسيا في السنوات الأخيرة.",
        "مشاركة الصين في التدريبات لا علاقة لها بالوضع الدولي والإقليمي الراهن.",
        "تابع الرئيس الروسي جولته في آسيا الوسطى بزيارة إلى كازاخستان.",
        "وتابعنا خلال الأيام الماضية تطورات الأزمة عن كثب، بحسب ما قال المتحدث.",
        "اشترك أكثر من مئة ألف شخص في الاحتجاجات التي شهدتها العاصمة أمس.",
        "وقالت رويترز إن الاجتماع استمر ثلاث ساعات.",
        "وتستضيف سمرقند القمة يومي 15 و16 سبتمبر/أيلول الجاري، بحضور رؤساء دول ومراقبين.",
        "وكان بوتين التقى مع شي آخر مرة في 4 فبراير 2022 ببكين قبل دورة الألعاب الأولمبية.",
        "التعليقات التي صدرت عن الوزير أثارت جدلا واسعا في البرلمان.",
        "وأكد أن جميع الحقوق محفوظة للشعب الفلسطيني في أرضه، وفق ما نقلت الوكالة عن مصادر رسمية في رام الله اليوم.",
        "موسكو-أ ف ب",
        'علاقة "بلا حدود"',
        "المصدر الدبلوماسي قال إن الرئيسين سيناقشان إمدادات الغاز.",
        "للمزيد من التفاصيل حول شروط التقديم، يمكن للمواطنين زيارة مكاتب البريد في المحافظات.",
        "وقال المحافظ إن المزيد حول هذه القصة سيعلن خلال المؤتمر الصحفي غدا.",
    ],
)
def test_article_sentences_stay(line: str) -> None:
    assert not is_boilerplate(line)


def test_related_list_under_a_bare_prompt_goes() -> None:
    text = "\n".join(
        [
            "فقرة أولى من الخبر تتحدث عن القمة وما جرى فيها من لقاءات بين القادة.",
            "اقرأ أيضاً",
            "- السيتي يفوز على دورتموند",
            "- ارتفاع أسعار الذهب اليوم",
            "فقرة ثانية من الخبر تتحدث عن نتائج القمة والبيان الختامي الصادر عنها.",
        ]
    )
    assert clean_text(text).split("\n\n") == [
        "فقرة أولى من الخبر تتحدث عن القمة وما جرى فيها من لقاءات بين القادة.",
        "فقرة ثانية من الخبر تتحدث عن نتائج القمة والبيان الختامي الصادر عنها.",
    ]


def test_repeated_caption_title_and_trailing_disclaimer() -> None:
    text = "\n".join(
        [
            "عنوان الخبر",
            "الرئيس الروسي يلتقي نظيره الصيني",
            "الرئيس الروسي يلتقي نظيره الصيني",
            "فقرة من الخبر.",
            "الآراء الواردة أدناه لا تعبر عن رأي الموقع، بل تعكس وجهات نظر أصحابها فقط.",
        ]
    )
    assert clean_text(text, title="عنوان الخبر").split("\n\n") == [
        "الرئيس الروسي يلتقي نظيره الصيني",
        "فقرة من الخبر.",
    ]


def test_disclaimer_words_inside_the_article_stay() -> None:
    text = "قال الوزير إن هذه التصريحات لا تعبر عن رأي الحكومة.\nوأضاف أن المفاوضات مستمرة."
    assert clean_text(text).split("\n\n") == text.split("\n")


def _tree(body: str) -> html.HtmlElement:
    return html.fromstring(f"<html><body>{body}</body></html>")


ARTICLE = "<p>" + "نص الخبر الطويل عن القمة واللقاءات بين القادة. " * 20 + "</p>"


@pytest.mark.parametrize(
    "widget",
    [
        '<div class="related-news"><a href="/1">خبر آخر</a></div>',
        '<div class="share-bar"><a href="#">فيسبوك</a></div>',
        '<ul class="socialLinks"><li><a href="#">تويتر</a></li></ul>',
        '<section id="comments"><p>تعليق القارئ</p></section>',
        '<div class="newsletter-box">اشترك</div>',
        '<div class="post-tags"><a href="/t">روسيا</a></div>',
        '<span class="uplCaption">صورة القمة</span>',
        '<figure><img src="a.jpg"><figcaption>صورة القمة</figcaption></figure>',
        '<div class="photo-credit">تصوير فلان</div>',
        '<div class="read-also"><a href="/2">خبر آخر</a></div>',
        '<div><h3>اقرأ أيضاً</h3><ul><li><a href="/1">خبر آخر</a></li><li><a href="/2">خبر ثالث</a></li></ul></div>',
        '<p><strong>اقرأ أيضاً:</strong> <a href="/9">خبر آخر عن موضوع مختلف تماما</a></p>',
    ],
)
def test_prune_removes_widgets(widget: str) -> None:
    tree = _tree(ARTICLE + widget + ARTICLE)
    prune(tree)
    text = tree.text_content()
    assert "خبر آخر" not in text and "القارئ" not in text and "صورة القمة" not in text
    assert "فيسبوك" not in text and "روسيا" not in text and "فلان" not in text
    assert text.count("نص الخبر الطويل") == 40


@pytest.mark.parametrize(
    "wrapper",
    [
        '<div class="post has-comments">{}</div>',
        '<article class="tag-china">{}</article>',
        '<div class="selectionShareable">{}</div>',
        '<div itemprop="articleBody" class="share">{}</div>',
    ],
)
def test_prune_keeps_the_article_wrapper(wrapper: str) -> None:
    tree = _tree(wrapper.format(ARTICLE) + '<div class="share-bar">فيسبوك</div>')
    prune(tree)
    text = tree.text_content()
    assert text.count("نص الخبر الطويل") == 20
    assert "فيسبوك" not in text


def test_prune_keeps_a_gallerys_captions_as_paragraphs_when_asked() -> None:
    figure = (
        '<figure><img src="a.jpg"><figcaption class="caption">صورة القمة'
        '<span class="photo-credit">تصوير فلان</span></figcaption></figure>'
    )
    tree = _tree(ARTICLE + figure)
    prune(tree, keep_captions=True)
    (caption,) = tree.xpath("//p")[1:]
    assert caption.text_content() == "صورة القمة"
    assert not tree.xpath("//figure | //figcaption") and "فلان" not in tree.text_content()


def test_prune_removes_a_link_list_larger_than_the_article() -> None:
    links = "".join(
        f'<li><a href="/{i}">عنوان خبر آخر طويل رقم {i} في القائمة</a></li>' for i in range(60)
    )
    tree = _tree(ARTICLE + f'<div class="related-posts"><ul>{links}</ul></div>')
    prune(tree)
    assert "خبر آخر" not in tree.text_content()
    assert tree.text_content().count("نص الخبر الطويل") == 20
