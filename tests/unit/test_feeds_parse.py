"""Feed parsing and sanitising on fixture files: no network, no database."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.content.feeds import (
    ELLIPSIS,
    FeedError,
    FeedErrorKind,
    FeedKind,
    FeedSettings,
    backoff_delay,
    decode_feed,
    dedup_key,
    link_in_text,
    parse_feed,
    permanent_location,
    render_html,
    truncate_text,
)
from bot.content.formatting import NESTING_MAX, Text
from bot.content.models import ItemKind
from tests.support import FEED_FIXTURES

FIXTURES = FEED_FIXTURES
SCHOOL7 = "Заседание экспертного совета"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_rss20_entries_are_sanitised_resolved_and_deduplicated() -> None:
    feed = parse_feed(fixture("rss20.xml"), url="https://school5.example.ru/rss.xml")
    assert feed.version == "rss20"
    assert feed.title == "Новости школы № 5"
    assert feed.duplicates == 1  # the RSS module repeated a guid: the first entry wins
    seminar, lesson, council = feed.entries
    assert seminar.key == "school5-news-101"
    assert seminar.title == "Семинар для координаторов «Проектное управление»"
    assert seminar.link == "https://school5.example.ru/news/seminar-koordinatorov"
    assert seminar.published == datetime(2026, 3, 3, 7, 0, tzinfo=UTC)
    assert seminar.text == (
        "15 марта состоится семинар для координаторов площадок.\n\n"
        "Регистрация по ссылке.\n\n• Модуль 1\n• Модуль 2"
    )
    assert "alert" not in seminar.text and "color" not in seminar.text
    assert "видео" not in seminar.text  # the iframe went with its contents
    assert seminar.image_url == "https://school5.example.ru/upload/seminar.jpg"
    assert seminar.entities == (
        {"type": "bold", "offset": 0, "length": 8},
        {
            "type": "text_link",
            "offset": 19,
            "length": 7,
            "url": "https://school5.example.ru/docs/programma.pdf",
        },
    )
    # No guid: the link is the key; the enclosure is the picture.
    assert lesson.key == "https://school5.example.ru/news/urok"
    assert lesson.image_url == "https://school5.example.ru/upload/urok.jpg"
    # Neither guid nor link: a digest of title and date, the same on every parse.
    assert council.key.startswith("title-date:")
    assert council.key == dedup_key(None, None, "Методический совет", council.published)
    assert council.link is None


def test_atom_with_xml_base_and_html_title() -> None:
    feed = parse_feed(fixture("atom.xml"), url="https://ds12.example.ru/blog/atom.xml")
    assert feed.version == "atom10"
    post, consultation = feed.entries
    assert post.title == "Игровые технологии в ДОО"  # HTML title, as plain text
    assert post.link == "https://ds12.example.ru/blog/posts/igrovye-tehnologii"
    assert post.image_url == "https://ds12.example.ru/blog/img/igra.png"
    assert post.text == "Делимся опытом игровых технологий — см. описание."
    link = next(e for e in post.entities if e["type"] == "text_link")
    assert link["url"] == "https://ds12.example.ru/files/opyt.docx"
    # A text summary is text: its "<" is a character, not a tag.
    assert consultation.text == "Как оформить методический материал: 5 < 7 шагов."
    assert consultation.published == datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


def test_rss10_and_rss091() -> None:
    rdf = parse_feed(fixture("rss10.rdf"))
    assert rdf.version == "rss10"
    (case,) = rdf.entries
    assert case.key == "https://gym3.example.ru/cases/1"
    assert case.published == datetime(2026, 2, 20, 9, 0, tzinfo=UTC)
    old = parse_feed(fixture("rss091.xml"))
    assert old.version.startswith("rss09")
    assert [e.title for e in old.entries] == ["Кружок робототехники"]


@pytest.mark.parametrize(
    ("name", "content_type", "encoding"),
    [
        ("cp1251_declared.xml", "text/xml", "cp1251"),  # text/xml alone would mean ASCII
        ("cp1251_declared.xml", "application/rss+xml; charset=windows-1251", "cp1251"),
        ("cp1251_undeclared.xml", None, "cp1251"),
        ("cp1251_undeclared.xml", "text/xml; charset=ISO-8859-1", "cp1251"),  # server default
        ("cp1251_declared_utf8.xml", "application/xml; charset=utf-8", "cp1251"),
        ("koi8r_undeclared.xml", None, "koi8_r"),
    ],
)
def test_russian_single_byte_encodings_declared_wrongly_or_not_at_all(
    name: str, content_type: str | None, encoding: str
) -> None:
    feed = parse_feed(fixture(name), content_type=content_type)
    assert feed.encoding == encoding
    assert [e.title for e in feed.entries] == [SCHOOL7]
    assert "новости" in feed.title
    assert feed.entries[0].text.startswith("Экспертный совет рассмотрит отчёты площадок")


def test_utf8_wins_over_a_wrong_single_byte_declaration() -> None:
    data = b'<?xml version="1.0" encoding="windows-1251"?><rss/>' + "ё".encode()
    assert decode_feed(data, "text/xml; charset=windows-1251")[1] == "utf-8"
    assert decode_feed(b"\xef\xbb\xbfabc")[1] == "utf-8"  # a byte-order mark


def test_malformed_xml_keeps_what_is_usable() -> None:
    feed = parse_feed(fixture("malformed.xml"))
    assert feed.malformed  # the strict parser gave up; the lenient one read it
    titles = [e.title for e in feed.entries]
    assert titles[:2] == ["Педсовет & конференция", "Конкурс «Учитель года»"]
    assert feed.entries[0].text == "Незакрытый абзац"


def test_a_web_page_is_not_a_feed() -> None:
    with pytest.raises(FeedError) as caught:
        parse_feed(fixture("not_a_feed.html"))
    assert caught.value.kind is FeedErrorKind.NOT_A_FEED
    with pytest.raises(FeedError):
        parse_feed(b"")


def test_feedparser_never_opens_what_the_body_names(tmp_path: Path) -> None:
    secret = tmp_path / "secret.xml"
    secret.write_text('<rss version="2.0"><channel><item><title>x</title></item></channel></rss>')
    with pytest.raises(FeedError):
        parse_feed(str(secret).encode())


def test_html_is_reduced_to_what_telegram_renders() -> None:
    source = (
        "<div class='news'><h2>Итоги</h2><table><tr><td>Школа</td><td>5</td></tr></table>"
        "<object><param name='x'>плеер</object><form>Имя <input></form>"
        "<p>Текст с&nbsp;пробелом, <em>курсив</em> и <b><i>вложенное</b> дальше</i>.</p>"
        "<img src='data:image/png;base64,AAA'><img src='/p.gif' width='1' height='1'>"
        "<pre>  код\n  с отступом</pre><font color=red>цвет</font></div>"
    )
    rendered = render_html(source, "https://school5.example.ru/news/")
    assert rendered.text == (
        "Итоги\n\nШкола 5\n\nТекст с\xa0пробелом, курсив и вложенное дальше.\n\n"
        "  код\n  с отступом\n\nцвет"
    )
    assert rendered.image_url is None  # neither a data URI nor a tracking pixel
    kinds = {(e["type"], rendered.text[e["offset"] : e["offset"] + e["length"]])
             for e in rendered.entities}  # fmt: skip
    assert ("bold", "Итоги") in kinds
    assert ("italic", "курсив") in kinds
    assert ("bold", "вложенное") in kinds and ("italic", "вложенное") in kinds
    assert ("pre", "  код\n  с отступом") in kinds


def test_lazy_loaded_image_and_utf16_offsets() -> None:
    rendered = render_html(
        "<p>🎉 <b>Праздник</b></p><img src='/blank.gif' data-src='/photo.jpg'>",
        "https://ds12.example.ru/",
    )
    assert rendered.image_url == "https://ds12.example.ru/photo.jpg"
    # Telegram counts UTF-16 units: the emoji takes two.
    assert rendered.entities == ({"type": "bold", "offset": 3, "length": 8},)


def test_truncation_on_a_word_boundary() -> None:
    words = "Методическое объединение учителей начальных классов провело семинар. " * 30
    rendered = render_html(f"<p><b>{words}</b></p>", limit=120)
    assert len(rendered.text) <= 120
    assert rendered.text.endswith(ELLIPSIS)
    head = rendered.text.removesuffix(ELLIPSIS)
    assert words.startswith(head) and words[len(head)] in " ."
    (bold,) = rendered.entities
    assert bold["offset"] == 0 and bold["length"] == len(head)
    assert truncate_text("коротко", 120) == "коротко"
    assert truncate_text("Оченьдлинноесловобезпробелов" * 10, 20) == (
        "Оченьдлинноесловобезпробелов"[:19] + ELLIPSIS
    )


def test_long_articles_stop_being_read_once_enough_is_rendered() -> None:
    huge = "<p>абзац текста</p>" * 200_000
    rendered = render_html("<img src='https://x.example.ru/a.jpg'>" + huge, limit=800)
    assert len(rendered.text) <= 800


def test_dedup_keys_fit_the_column_and_are_stable() -> None:
    long_guid = "https://school.example.ru/?" + "x" * 600
    key = dedup_key(long_guid, None, "t", None)
    assert key.startswith("sha256:") and len(key) <= 500
    assert key == dedup_key(long_guid, "ignored", "other", None)
    when = datetime(2026, 3, 1, tzinfo=UTC)
    assert dedup_key(None, None, "Совет", when) != dedup_key(None, None, "Совет", None)
    assert dedup_key("  ", "https://a.example.ru/1", "t", None) == "https://a.example.ru/1"


def test_backoff_doubles_up_to_a_day() -> None:
    base, cap = timedelta(minutes=30), timedelta(hours=24)
    delays = [backoff_delay(n, base, cap) for n in range(1, 9)]
    assert delays[:6] == [timedelta(minutes=30 * 2**i) for i in range(6)]
    assert delays[6:] == [cap, cap]
    assert backoff_delay(10_000, base, cap) == cap


def test_feed_kinds_map_to_item_kinds() -> None:
    assert FeedKind.MATERIAL.item_kind is ItemKind.MATERIAL
    assert FeedKind.CASE.item_kind is ItemKind.CASE
    # Site news reaches subscribers through the digest, as materials.
    assert FeedKind.NEWS.item_kind is ItemKind.MATERIAL


def test_user_agent_names_the_bot_and_the_contact() -> None:
    settings = FeedSettings(contact_url="https://imc.example.ru/infozona")
    assert settings.user_agent == "Infozona-bot/0.1 (+https://imc.example.ru/infozona)"


def test_a_relative_guid_keeps_its_key_whatever_the_sites_address() -> None:
    document = (
        '<rss version="2.0"><channel><title>Школа</title><item><guid>123</guid>'
        "<title>Совет</title><link>/news/123</link></item></channel></rss>"
    ).encode()
    before = parse_feed(document, url="http://school5.example.ru/rss").entries[0]
    after = parse_feed(document, url="https://new.school5.example.ru/rss").entries[0]
    assert before.key == after.key == "123"
    assert after.link == "https://new.school5.example.ru/news/123"


def test_entities_telegram_would_refuse_are_left_out() -> None:
    rendered = render_html(
        "<pre><b>жирный</b> код</pre>"
        "<blockquote>цитата <blockquote>в цитате</blockquote></blockquote>"
        "<a href='https://a.example.ru/'>ссылка <a href='https://b.example.ru/'>в ссылке</a></a>"
        "<code><i>курсив</i></code>"
    )
    kinds = [e["type"] for e in rendered.entities]
    assert kinds.count("pre") == 1 and kinds.count("code") == 1
    assert kinds.count("blockquote") == 1
    assert "bold" not in kinds and "italic" not in kinds
    assert [e["url"] for e in rendered.entities if e["type"] == "text_link"] == [
        "https://a.example.ru/"
    ]


def test_ten_thousand_nested_tags_keep_their_text_and_few_entities() -> None:
    deep = 10_000
    source = (
        "<p>Начало</p>"
        + "<b><i><span><div>" * deep
        + "Глубоко внутри"
        + "</div></span></i></b>" * deep
        + "<p>Конец <a href='https://school.example.ru/'>ссылка</a></p>"
    )
    rendered = render_html(source)
    assert rendered.text == "Начало\n\nГлубоко внутри\n\nКонец ссылка"
    # Formatting deeper than NESTING_MAX stays plain text; the link after it is still a link.
    assert len(rendered.entities) == NESTING_MAX + 1
    assert rendered.entities[-1] == {
        "type": "text_link", "offset": 30, "length": 6, "url": "https://school.example.ru/"
    }  # fmt: skip
    # What the queue and the shelves do with a stored body: back to a tree, then to text.
    tree = Text.from_entities(rendered.text, rendered.entities)
    assert tree.render()[0] == rendered.text


def test_unclosed_and_dropped_nesting_is_read_in_one_pass() -> None:
    deep = 10_000
    rendered = render_html("<svg>" + "<g>" * deep + "скрыто" + "</g>" * deep + "</svg>видно")
    assert rendered.text == "видно"
    rendered = render_html("<b><u>" * deep + "без конца")
    assert rendered.text == "без конца" and len(rendered.entities) == NESTING_MAX


def test_a_permanent_redirect_chain_is_followed_up_to_the_first_temporary_one() -> None:
    start = "https://a.example/rss"
    assert permanent_location(start, []) == start
    assert permanent_location(start, [(301, "https://b.example/rss")]) == "https://b.example/rss"
    assert permanent_location(start, [(308, "https://b.example/rss")]) == "https://b.example/rss"
    assert permanent_location(start, [(302, "https://b.example/rss")]) == start
    assert permanent_location(start, [(307, "https://b.example/rss")]) == start
    chain = [(301, "https://b.example/rss"), (302, "https://c.example/rss"), (301, "https://d")]
    assert permanent_location(start, chain) == "https://b.example/rss"


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("https://school5.ru/rss", "https://school5.ru/rss"),
        ("  school5.ru/rss\n", "https://school5.ru/rss"),
        ("«http://сайт.рф/feed»", "http://сайт.рф/feed"),
        ("HTTPS://School5.ru/RSS", "https://School5.ru/RSS"),
        ("http://127.0.0.1:8080/rss", "http://127.0.0.1:8080/rss"),
        ("лента школы", None),
        ("10.12", None),
        ("anna@school5.ru", None),
        ("ftp://school5.ru/rss", None),
        ("https://school5.ru/rss и ещё", None),
        ("", None),
    ],
)
def test_a_link_an_editor_sends(text: str, url: str | None) -> None:
    assert link_in_text(text) == url
