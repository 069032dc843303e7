"""Topic rules: loading and validation, matching with Arabic prefixes, the shipped topics on
the seeds and their own example sentences, explain, and the Scrapy pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from analysis.items import PageItem
from arshif.record import Article
from crawler.pipelines_topics import TopicsPipeline
from indexer.topics import TopicError, Topics, load_topics, strip_related, topic_from_dict

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SHIPPED = load_topics()


def seed(name: str) -> tuple[str, str]:
    (path,) = SEEDS.glob(f"{name}_*.txt")
    title, _, text = path.read_text(encoding="utf-8").partition("\n")
    return title, text


def topic(**rule: object) -> Topics:
    data = {"id": "t", "labels": {"ar": "ت", "en": "t"}, "rules": [{"name": "r", **rule}]}
    return Topics([topic_from_dict(data, "test.yaml")])


# ------------------------------------------------------------------ shipped topics


@pytest.mark.parametrize("name", ["000", "001", "002", "003", "004"])
def test_every_seed_is_tagged_sco_summit_only(name: str) -> None:
    assert SHIPPED.tag(*seed(name)) == ["sco-summit"]


def test_read_also_headlines_of_seed_003_do_not_tag_it() -> None:
    title, text = seed("003")
    block = text[text.index("اقرأ أيضاً") :].split("\n", 1)[1]
    headlines = "\n".join(line for line in block.splitlines() if line.startswith("- "))
    # On their own the headlines are about the war in Ukraine ...
    assert "russia-ukraine" in SHIPPED.tag("", headlines.replace("- ", ""))
    # ... but as a related-links list they are removed before matching.
    assert "أوكرانيا" not in strip_related(text)
    assert SHIPPED.tag(title, text) == ["sco-summit"]


def test_at_least_ten_more_topics_each_with_examples() -> None:
    assert len(SHIPPED) >= 11 and "sco-summit" in SHIPPED.topics
    for t in SHIPPED.topics.values():
        assert t.labels["ar"] and t.labels["en"]
        assert len(t.examples["positive"]) >= 3 and len(t.examples["negative"]) >= 3, t.id


EXAMPLES = [
    (t.id, kind, sentence)
    for t in SHIPPED.topics.values()
    for kind in ("positive", "negative")
    for sentence in t.examples[kind]
]


@pytest.mark.parametrize(("topic_id", "kind", "sentence"), EXAMPLES)
def test_shipped_topic_examples(topic_id: str, kind: str, sentence: str) -> None:
    """An example of two lines is a headline, then the article's text."""
    title, text = sentence.split("\n", 1) if "\n" in sentence else ("", sentence)
    tagged = topic_id in SHIPPED.tag(title, text)
    assert tagged == (kind == "positive"), SHIPPED.explain(topic_id, title, text)


# ------------------------------------------------------------------ matching


@pytest.mark.parametrize(
    "text",
    ["وشنغهاي", "بشنغهاي", "لشنغهاي", "فبشنغهاي", "شنغهايَ", "SHANGHAI", "shanghai"],
)
def test_phrase_words_match_with_attached_prefixes_and_any_case(text: str) -> None:
    tags = topic(any=["شنغهاي", "Shanghai"])
    assert tags.tag("", f"خبر عن {text} اليوم") == ["t"]


@pytest.mark.parametrize("text", ["بقمة", "والقمة", "للقمة", "بالقمة", "فالقمة", "القمه", "قمة"])
def test_definite_and_prepositional_forms(text: str) -> None:
    assert topic(any=["قمة"]).tag("", text) == ["t"]
    definite = text not in ("بقمة", "قمة")  # «القمة» asks for the article: not «بقمة»
    assert (topic(any=["القمة"]).tag("", text) == ["t"]) == definite


@pytest.mark.parametrize("text", ["قمحة", "أقمة", "شنغهايية", "مشنغهاي", "sco2"])
def test_other_words_do_not_match(text: str) -> None:
    assert topic(any=["قمة", "شنغهاي", "SCO"]).tag("", text) == []


def test_phrases_match_whole_words_in_order() -> None:
    tags = topic(any=["منظمة شنغهاي للتعاون"])
    assert tags.tag("", "قمة لمنظمة شنغهاي للتعاون") == ["t"]
    assert tags.tag("", "منظمة للتعاون شنغهاي") == []
    assert tags.tag("", "منظمة شنغهاي الدولية للتعاون") == []


def test_all_groups_exclusions_and_counts() -> None:
    tags = topic(all=[["شنغهاي"], ["قمة"]], none=["بورصة"])
    assert tags.tag("", "قمة شنغهاي") == ["t"]
    assert tags.tag("", "مدينة شنغهاي") == []
    assert tags.tag("", "قمة شنغهاي وبورصة شنغهاي") == []
    twice = topic(any=["غزة"], min_hits=2)
    assert twice.tag("", "غزة") == [] and twice.tag("", "غزة ثم غزة") == ["t"]


def test_density_needs_more_than_a_passing_mention() -> None:
    tags = topic(any=["أوكرانيا"], min_density=1.0)
    filler = " ".join(["كلمة"] * 198)
    assert tags.tag("", f"أوكرانيا {filler}") == []  # 1 hit in 199 words
    assert tags.tag("", f"أوكرانيا أوكرانيا {filler}") == ["t"]  # 2 in 200
    assert tags.tag("", "أوكرانيا اليوم") == ["t"]


def test_title_alone_suffices_only_when_the_rule_says_so() -> None:
    filler = " ".join(["كلمة"] * 300)
    strict = topic(any=["شنغهاي"], min_density=1.0)
    lenient = topic(any=["شنغهاي"], min_density=1.0, title_suffices=True)
    assert strict.tag("قمة شنغهاي", filler) == []
    assert lenient.tag("قمة شنغهاي", filler) == ["t"]
    assert lenient.tag("قمة", "شنغهاي " + filler) == []


FILLER = " ".join(["كلمة"] * 20)


def test_near_counts_only_mentions_with_each_group_close_by() -> None:
    tags = topic(any=["غزة"], all=[["قصف", "غارة"]], near=3)
    assert tags.tag("", "قصف عنيف على غزة") == ["t"]
    assert tags.tag("", f"غزة {FILLER} قصف") == []  # both words, 21 words apart
    (result,) = tags.explain("t", "", f"غزة {FILLER} قصف")
    assert "within 3 words" in result.why
    # Without `near`, the same text is tagged: the test above is the feature's.
    assert topic(any=["غزة"], all=[["قصف", "غارة"]]).tag("", f"غزة {FILLER} قصف") == ["t"]
    counted = topic(any=["غزة"], all=[["قصف"]], near=3, min_hits=2)
    assert counted.tag("", f"قصف غزة {FILLER} غزة") == []  # one close mention, one far
    assert counted.tag("", f"قصف غزة {FILLER} غزة قصف") == ["t"]


def test_near_without_any_measures_from_the_first_group() -> None:
    tags = topic(all=[["إيران"], ["النووي"]], near=2)
    assert tags.tag("", "برنامج إيران النووي") == ["t"]
    assert tags.tag("", f"إيران {FILLER} النووي") == []


def test_min_hits_untitled_when_the_title_is_silent() -> None:
    tags = topic(any=["الانتخابات"], min_hits_untitled=3)
    once = f"فاز في الانتخابات {FILLER}"
    assert tags.tag("وفاة حفيدة السيناتور", once) == []
    assert tags.tag("الانتخابات الرئاسية", once) == ["t"]  # the title names the subject
    thrice = f"الانتخابات {FILLER} الانتخابات {FILLER} الانتخابات"
    assert tags.tag("وفاة حفيدة السيناتور", thrice) == ["t"]
    assert tags.tag("", once) == ["t"]  # no title at all: a snippet is judged on its text
    assert topic(any=["الانتخابات"]).tag("وفاة حفيدة السيناتور", once) == ["t"]


def test_lead_makes_the_place_the_subject() -> None:
    tags = topic(any=["سوريا"], lead=10)
    assert tags.tag("", "قالت سوريا إن القوات دخلت") == ["t"]
    assert tags.tag("", f"وزير العراق {FILLER} مع سوريا") == []  # first at word 22
    assert tags.tag("سوريا ترفض", f"{FILLER} سوريا") == ["t"]  # in the title
    (late,) = tags.explain("t", "", f"{FILLER} سوريا")
    assert late.why.startswith("not the subject")
    assert topic(any=["سوريا"]).tag("", f"{FILLER} سوريا") == ["t"]


def test_not_about_a_rival_subject_in_the_title_or_outnumbering() -> None:
    tags = topic(any=["غزة"], all=[["حماس"]], title_suffices=True, not_about=["كورونا"])
    text = "أعلنت حماس في غزة إجراءات جديدة"
    assert tags.tag("", text) == ["t"]
    assert tags.tag("كورونا في غزة", text) == []  # the rival is the headline
    assert tags.tag("", f"{text} بسبب كورونا وانتشار كورونا") == []  # 2 rivals against 1 hit
    assert tags.tag("", f"{text} بسبب كورونا") == ["t"]  # 1 against 1: not outnumbered
    # The title suffices for the counts, not against a text about something else.
    assert tags.tag("حماس في غزة", "كورونا كورونا كورونا") == []
    (rival,) = tags.explain("t", "كورونا في غزة", text)
    assert "`not_about`" in rival.why and "title" in rival.why
    plain = topic(any=["غزة"], all=[["حماس"]], title_suffices=True)
    assert plain.tag("كورونا في غزة", f"{text} بسبب كورونا وانتشار كورونا") == ["t"]


def test_a_mention_inside_a_not_about_phrase_is_not_counted() -> None:
    tags = topic(any=["الأوكرانية", "كييف"], not_about=["الطائرة الأوكرانية"])
    assert tags.tag("", "قالت الحكومة الأوكرانية") == ["t"]
    assert tags.tag("", "سقطت الطائرة الأوكرانية") == []  # 0 hits
    # Two rivals against one hit (كييف): the two «الأوكرانية» inside them are not hits.
    assert tags.tag("", "الطائرة الأوكرانية وقالت كييف إن الطائرة الأوكرانية سقطت") == []
    assert tags.tag("", "الطائرة الأوكرانية وقالت كييف والحكومة الأوكرانية") == ["t"]


def test_a_mention_matching_a_phrase_and_its_last_word_counts_once() -> None:
    tags = topic(any=["غزة", "قطاع غزة"], min_hits=2)
    assert tags.tag("", "قصف قطاع غزة") == []
    assert tags.tag("", "قطاع غزة ثم غزة") == ["t"]


def test_explain_lists_the_conditions_passed() -> None:
    tags = topic(
        any=["غزة"], all=[["قصف"]], near=5, lead=10, min_hits_untitled=2,
        none=["معرض"], not_about=["كورونا"],
    )  # fmt: skip
    (result,) = tags.explain("t", "تصعيد جديد", "قصف على غزة ثم قصف آخر على غزة")
    assert result.matched
    passed = " | ".join(result.passed)
    for part in (
        "no `none`",
        "2 hits with every other group within 5 words",
        "min_hits_untitled",
        "the subject: a hit in word",
        "`not_about` hits",
    ):
        assert part in passed, passed  # fmt: skip
    assert result.to_dict()["passed"] == result.passed


def test_date_window() -> None:
    data = {
        "id": "w",
        "labels": {"ar": "و", "en": "w"},
        "since": "2022-01-01",
        "until": "2022-12-31",
        "rules": [{"any": ["قمة"]}],
    }
    tags = Topics([topic_from_dict(data, "w.yaml")])
    assert tags.tag("", "قمة", "2022-09-15T10:00:00+04:00") == ["w"]
    assert tags.tag("", "قمة", "2024-07-03") == []
    assert tags.tag("", "قمة", None) == ["w"]
    (late,) = tags.explain("w", "", "قمة", "2024-07-03")
    assert not late.matched and "outside the topic's dates" in late.why


def test_explain_says_which_rule_matched_and_where() -> None:
    title, text = seed("000")
    results = SHIPPED.explain("sco-summit", title, text)
    first = results[0]
    assert first.rule == "summit-of-the-organisation" and first.matched
    assert first.why == "title alone suffices"
    in_title = [h for h in first.hits if h.field == "title"]
    assert {h.phrase for h in in_title} >= {"شنجهاي", "قمه"}
    assert all("شنجهاي" in h.context or "قمه" in h.context for h in in_title)
    miss = SHIPPED.explain("world-cup", title, text)
    assert not any(r.matched for r in miss) and miss[0].why == "none of `any`"


def test_version_follows_the_rules() -> None:
    a = topic(any=["قمة"])
    assert a.version == topic(any=["قمة"]).version
    assert a.version != topic(any=["قمم"]).version


# ------------------------------------------------------------------ validation


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "topics" / "mine.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path.parent


GOOD = "id: mine\nlabels: {ar: موضوعي, en: mine}\nrules:\n"


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ("  - name: r1\n    anyy: [قمة]\n", "rule r1: unknown key anyy"),
        ("  - name: r1\n    none: [قمة]\n", "rule r1: needs `any` or `all`"),
        ("  - name: r1\n    any: [قمة, '...']\n", "rule r1: any: the phrase '...' has no words"),
        ("  - name: r1\n    any: []\n", "rule r1: any: expected a non-empty list"),
        ("  - name: r1\n    all: [قمة]\n", "rule r1: all group 1: expected a non-empty list"),
        ("  - name: r1\n    any: [قمة]\n    min_hits: 0\n", "rule r1: min_hits must be"),
        ("  - name: r1\n    any: [قمة]\n    title_suffices: yes please\n", "title_suffices"),
        ("  - name: r1\n    any: [قمة]\n    near: 5\n", "rule r1: `near` needs `all` groups"),
        ("  - name: r1\n    all: [[قمة]]\n    near: 5\n", "rule r1: `near` needs `all` groups"),
        ("  - name: r1\n    any: [قمة]\n    all: [[x]]\n    near: -2\n", "near must be"),
        ("  - name: r1\n    any: [قمة]\n    lead: many\n", "rule r1: lead must be a whole"),
        ("  - name: r1\n    any: [قمة]\n    min_hits_untitled: 0\n", "min_hits_untitled must"),
        ("  - name: r1\n    any: [قمة]\n    not_about: []\n", "rule r1: not_about: expected"),
    ],
)
def test_bad_rules_name_file_topic_and_rule(tmp_path: Path, rules: str, message: str) -> None:
    folder = write(tmp_path, GOOD + rules)
    with pytest.raises(TopicError) as err:
        load_topics(folder)
    assert str(folder / "mine.yaml") in str(err.value)
    assert "topic mine" in str(err.value)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id: Bad Id\nlabels: {ar: a, en: b}\nrules: [{any: [x]}]\n", "lowercase slug"),
        ("id: mine\nlabels: {en: b}\nrules: [{any: [x]}]\n", "labels must give both"),
        ("id: mine\nlabels: {ar: a, en: b}\nrules: []\n", "non-empty list of rules"),
        ("id: mine\nlabels: {ar: a, en: b}\nsince: soon\nrules: [{any: [x]}]\n", "since"),
        ("id: mine\n  labels: [\n", "not valid YAML"),
    ],
)
def test_bad_topics(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(TopicError, match="mine.yaml") as err:
        load_topics(write(tmp_path, text))
    assert message in str(err.value)


def test_duplicate_ids_and_missing_folder(tmp_path: Path) -> None:
    folder = write(tmp_path, GOOD + "  - any: [قمة]\n")
    (folder / "again.yaml").write_text(GOOD + "  - any: [قمم]\n", encoding="utf-8")
    with pytest.raises(TopicError, match="already defined in"):
        load_topics(folder)
    with pytest.raises(TopicError, match="no such topic file"):
        load_topics(tmp_path / "nowhere")


def test_topics_folder_from_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ARSHIF_TOPICS", str(write(tmp_path, GOOD + "  - any: [قمة]\n")))
    assert list(load_topics().topics) == ["mine"]


# ------------------------------------------------------------------ pipeline


def item(title: str, text: str) -> PageItem:
    page = PageItem("https://x.example/a", "x", 200, b"", {}, {}, "2022-09-15T00:00:00Z")
    page.article = Article(id="a", url=page.url, canonical_url=page.url, outlet="x")
    page.article.title, page.article.text = title, text
    return page


def test_pipeline_tags_the_article_and_counts() -> None:
    crawler = get_crawler(settings_dict={})
    crawler.stats.open_spider()
    pipeline = TopicsPipeline.from_crawler(crawler)
    done = pipeline.process_item(item(*seed("003")))
    assert done.article.topics == ["sco-summit"]
    pipeline.process_item(item("طقس", "أمطار خفيفة"))
    assert crawler.stats.get_value("arshif/topics/sco-summit") == 1
    assert crawler.stats.get_value("arshif/topics/none") == 1


def test_pipeline_settings(tmp_path: Path) -> None:
    with pytest.raises(NotConfigured):
        TopicsPipeline.from_crawler(get_crawler(settings_dict={"ARSHIF_TOPICS_ENABLED": False}))
    folder = write(tmp_path, GOOD + "  - name: r1\n    any: 3\n")
    with pytest.raises(TopicError, match="rule r1"):
        TopicsPipeline.from_crawler(get_crawler(settings_dict={"ARSHIF_TOPICS": str(folder)}))


# ------------------------------------------------------------------ spelling variants


def test_a_rule_listing_one_spelling_of_a_name_matches_the_others() -> None:
    rule = topic(any=["زيلينسكي"], all=[["قمة"]], title_suffices=True)
    for title in ("زيلنسكي يصل إلى القمة", "قمة مع لزيلينسكي", "القمة وزيلنسكي"):
        assert rule.tag(title, "") == ["t"], title
    (result,) = rule.explain("t", "قمة الرئيس زيلنسكي", "")
    assert result.matched and [h.phrase for h in result.hits] == ["زيلينسكي", "قمه"]
    assert "زيلنسكي" in result.hits[0].context


def test_native_words_do_not_match_through_variants() -> None:
    # «جبل» and «قبل» share their letters but for the g-like one: both are Arabic words.
    assert topic(any=["جبل"], title_suffices=True).tag("قبل الاجتماع", "") == []
    assert topic(any=["جبل"], title_suffices=True).tag("الجبل الأخضر", "") == ["t"]
