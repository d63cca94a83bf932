"""What the bot can't read gets a kind word: being added to a group, a photo or a sticker."""

from __future__ import annotations

from bot import texts
from tests.support.harness import RunningBot, onboard

GROUP = -100555


async def test_added_to_a_group_it_says_once_where_it_works(running_bot: RunningBot) -> None:
    emu = running_bot.emu
    emu.chat(GROUP, title="Педагоги школы № 5")
    emu.mark()
    emu.add_bot_to_chat(GROUP, 701)
    hint = await emu.next_message(GROUP)
    assert "В группах я молчу" in hint["text"]
    [[button]] = hint["reply_markup"]["inline_keyboard"]
    assert button["text"] == "Открыть бота"
    assert button["url"] == f"https://t.me/{emu.bot_user['username']}"
    # What people then write in the group is not answered: the hint came once.
    emu.send_message(701, "Здравствуйте")  # their private chat still works
    await emu.next_message(701)
    assert len(emu.messages(GROUP)) == 1


async def test_a_photo_or_a_sticker_gets_a_friendly_hint(running_bot: RunningBot) -> None:
    teacher = running_bot.person(702, "Ольга")
    await onboard(teacher)
    emu = running_bot.emu
    for media in (
        {"sticker": {"file_id": "st1", "file_unique_id": "st1u", "width": 512, "height": 512,
                     "is_animated": False, "is_video": False, "type": "regular"}},
        {"photo": {"file_id": "ph1", "file_unique_id": "ph1u"}},
        {"voice": {"file_id": "vo1", "file_unique_id": "vo1u", "duration": 3}},
    ):  # fmt: skip
        emu.mark()
        emu.send_message(702, "", **media)
        answer = await emu.next_message(702)
        assert answer["text"] == texts.MEDIA_HINT, media
