"""Turning outbox payloads into Telegram messages: splitting, keyboards, spoilers, tokens."""

from __future__ import annotations

from bot.channels.telegram.inbound import chat_of, user_key
from bot.channels.telegram.outbound import (
    DISCREET_NOTICE,
    MAX_TEXT,
    callback_data,
    is_token,
    keyboard,
    render,
    split_text,
    utf16_len,
)


def test_short_text_is_one_part() -> None:
    assert split_text("Hallo") == ["Hallo"]


def test_split_prefers_paragraphs_then_lines_then_words() -> None:
    text = "a" * 3000 + "\n\n" + "b" * 3000
    assert split_text(text) == ["a" * 3000, "b" * 3000]
    words = " ".join(["woord"] * 2000)
    parts = split_text(words)
    assert all(utf16_len(p) <= MAX_TEXT for p in parts)
    assert " ".join(parts) == words


def test_split_counts_emoji_as_telegram_does() -> None:
    text = "🙂" * 3000  # 6,000 UTF-16 units although Python counts 3,000 characters
    parts = split_text(text)
    assert len(parts) == 2
    assert all(utf16_len(p) <= MAX_TEXT for p in parts)
    assert "".join(parts) == text


def test_a_long_payload_travels_as_a_short_token() -> None:
    short = "case:WB-2026-0042"
    assert callback_data(short) == short and not is_token(short)
    long = "kb:" + "een-heel-lang-kennisbank-onderwerp-" * 3
    token = callback_data(long)
    assert len(token.encode()) <= 64 and is_token(token)
    assert callback_data(long) == token


def test_short_labels_share_a_row_long_ones_do_not() -> None:
    markup = keyboard(
        [
            {"label": "Ja", "payload": "ja"},
            {"label": "Nee", "payload": "nee"},
            {"label": "Ondersteuningsteam waarschuwen", "payload": "alert_team"},
        ]
    )
    assert markup is not None
    assert [[b.text for b in row] for row in markup.inline_keyboard] == [
        ["Ja", "Nee"],
        ["Ondersteuningsteam waarschuwen"],
    ]
    assert keyboard([]) is None


def test_case_news_hides_details_under_a_spoiler() -> None:
    (message,) = render(
        {
            "user": "telegram:1",
            "case": "WB-2026-0007",
            "text": "Je melding WB-2026-0007 is opgepakt door Sanne 🙂.",
        }
    )
    assert message.text.startswith(DISCREET_NOTICE)
    (spoiler,) = message.entities
    assert spoiler.type == "spoiler"
    units = message.text.encode("utf-16-le")
    hidden = units[2 * spoiler.offset : 2 * (spoiler.offset + spoiler.length)].decode("utf-16-le")
    assert hidden == "Je melding WB-2026-0007 is opgepakt door Sanne 🙂."


def test_a_direct_reply_is_plain_with_its_buttons() -> None:
    (message,) = render(
        {"user": "telegram:1", "text": "Klopt dit?", "buttons": [{"label": "Ja", "payload": "ja"}]}
    )
    assert message.entities == ()
    assert message.keyboard is not None


def test_user_keys() -> None:
    assert chat_of(user_key(42)) == 42
    assert chat_of("local:anna") is None and chat_of("telegram:abc") is None


def test_a_file_goes_last_with_the_text_as_caption_when_it_fits() -> None:
    file = {
        "kind": "document",
        "name": "gegevens.json",
        "mime": "application/json",
        "base64": "e30=",
    }
    (message,) = render({"user": "telegram:1", "text": "Hier is je bestand.", "file": file})
    assert message.text == "Hier is je bestand."
    assert message.file is not None and message.file.data == b"{}"
    long = render({"user": "telegram:1", "text": "woord " * 400, "file": file})
    assert [m.file is not None for m in long] == [False, True]
    (bare,) = render({"user": "telegram:1", "text": "", "file": file})
    assert bare.text == "" and bare.file is not None
