"""After the IMC's answer the subscriber replies to it; the editors see the whole thread."""

from __future__ import annotations

from bot.storage.questions import QuestionRepository
from tests.support.harness import EDITOR_ID, RunningBot, onboard


async def test_a_reply_to_the_answer_goes_to_the_editors_with_its_thread(
    running_bot: RunningBot,
) -> None:
    emu = running_bot.emu
    owner = running_bot.person(EDITOR_ID, "Владелец")
    teacher = running_bot.person(1451, "Анна")
    await onboard(teacher)
    await teacher.say("/ask Когда приём заявок на конкурс «Педагог года»?")
    notice = await emu.next_message(EDITOR_ID)
    _, _ = await owner.tap(notice, "Ответить", expect="send")
    await owner.say("До 15 января, заявка — на сайте ИМЦ.")
    answer = await emu.next_message(1451)
    assert "Ответьте на это сообщение" in answer["text"]

    emu.mark()
    emu.send_message(1451, "А можно прислать заявку по почте", reply_to_message=answer)
    sent = await emu.next_message(1451)
    assert "Вопрос № 2 передан" in sent["text"]
    follow_up = await emu.next_message(EDITOR_ID)
    text = follow_up["text"]
    assert "Вопрос в ИМЦ № 2" in text
    assert "В ответ на ответ по вопросу № 1" in text
    assert "Когда приём заявок на конкурс «Педагог года»?" in text
    assert "До 15 января, заявка — на сайте ИМЦ." in text
    assert text.rstrip().endswith("А можно прислать заявку по почте")
    stored = await QuestionRepository(running_bot.engine).get(2)
    assert stored is not None and stored.follows_id == 1

    # A reply to any other message of the bot is an ordinary message, not a question.
    emu.mark()
    emu.send_message(1451, "Спасибо", reply_to_message=sent)
    await emu.next_message(1451)
    assert await QuestionRepository(running_bot.engine).get(3) is None
