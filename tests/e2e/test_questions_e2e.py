"""Questions to the IMC: a subscriber asks, every editor sees it, one answers, it arrives."""

from __future__ import annotations

from bot.storage.editors import AuditRepository, EditorRepository
from bot.storage.questions import QuestionRepository
from tests.support.harness import EDITOR_ID, Person, RunningBot, agree, onboard


async def onboard_with_org(person: Person, org_name: str) -> None:
    question = await agree(person)
    _, step = await person.tap(question, "Педагог")
    _, step = await person.tap(step, "Школа")
    [topics] = await person.say(org_name)
    _, step = await person.tap(topics, "Готово")
    await person.tap(step, "Раз в неделю")


async def test_an_editor_answers_a_question_and_the_subscriber_gets_it(
    running_bot: RunningBot,
) -> None:
    emu = running_bot.emu
    owner = running_bot.person(EDITOR_ID, "Владелец")
    maria = running_bot.person(1402, "Мария")
    await EditorRepository(running_bot.engine).add(1402, "Мария Ивановна", EDITOR_ID)
    teacher = running_bot.person(1401, "Анна")
    await onboard_with_org(teacher, "ГБОУ СОШ № 7")

    [sent] = await teacher.say("/ask Как оформить методическую разработку на конкурс?")
    assert "Вопрос № 1 передан специалистам ИМЦ" in sent["text"]
    for editor_id in (EDITOR_ID, 1402):
        notice = await emu.next_message(editor_id)
        assert "Вопрос в ИМЦ № 1" in notice["text"]
        assert "Педагог, школа: ГБОУ СОШ № 7" in notice["text"]
        assert "Как оформить методическую разработку на конкурс?" in notice["text"]
        assert [label for label, _ in emu.buttons(notice)] == ["✍️ Ответить"]
    owners_notice = emu.last_message(EDITOR_ID)
    marias_notice = emu.last_message(1402)

    [listing] = await owner.say("/questions")
    assert "Вопросы без ответа: 1" in listing["text"]
    assert "№ 1 (Педагог, школа: ГБОУ СОШ № 7)" in listing["text"]

    _, prompt = await owner.tap(owners_notice, "Ответить", expect="send")
    assert "Напишите ответ на вопрос № 1" in prompt["text"]
    # The answer dialog is kept in the database: a restart in between loses nothing.
    await running_bot.restart()
    [done] = await owner.say("Шаблон есть на сайте ИМЦ, в разделе «Конкурсы».")
    assert "Ответ на вопрос № 1 отправлен" in done["text"]
    answer = await emu.next_message(1401)
    assert answer["text"].startswith("Ответ ИМЦ на ваш вопрос:")
    assert "Шаблон есть на сайте ИМЦ, в разделе «Конкурсы»." in answer["text"]
    assert "Как оформить методическую разработку" in answer["text"]

    stored = await QuestionRepository(running_bot.engine).get(1)
    assert stored is not None and stored.answered_by == EDITOR_ID
    assert stored.answer == "Шаблон есть на сайте ИМЦ, в разделе «Конкурсы»."

    # Maria's copy of the question: already answered, and she is told so — nothing changes.
    refusal, _ = await maria.tap(marias_notice, "Ответить", expect="answer")
    assert "уже ответил" in refusal.params["text"]
    assert refusal.params.get("show_alert") is True
    [chat] = await maria.say("Это тоже ответ?")  # no dialog was opened: plain text, no answer
    assert "Ответ ИМЦ" not in chat["text"]
    stored_again = await QuestionRepository(running_bot.engine).get(1)
    assert stored_again == stored
    [listing] = await owner.say("/questions")
    assert "Вопросов без ответа нет" in listing["text"]


async def test_asking_in_two_steps_limits_and_forget(running_bot: RunningBot) -> None:
    emu = running_bot.emu
    questions = QuestionRepository(running_bot.engine)
    owner = running_bot.person(EDITOR_ID, "Владелец")
    stranger = running_bot.person(1410, "Гость")
    [refused] = await stranger.say("/ask Когда семинар?")
    assert "могут подписчики" in refused["text"]

    teacher = running_bot.person(1411, "Ольга")
    await onboard(teacher)
    [prompt] = await teacher.say("/ask")
    assert "Напишите вопрос" in prompt["text"]
    emu.mark()
    emu.send_message(1411, "", document=emu.upload(b"hello", "q.txt", "text/plain"))
    not_text = await emu.next_message(1411)
    assert "Пришлите вопрос текстом" in not_text["text"]
    [too_long] = await teacher.say("я" * 2001)
    assert "слишком длинный: 2001" in too_long["text"] and "2000" in too_long["text"]
    [sent] = await teacher.say("Где найти положение о конкурсе?")
    assert "Вопрос № 1 передан" in sent["text"]
    [prompt] = await teacher.say("/ask")
    [cancelled] = await teacher.say("/cancel")
    assert "Отменено" in cancelled["text"]

    for n in range(2, 6):
        [sent] = await teacher.say(f"/ask Вопрос номер {n}")
        assert f"Вопрос № {n} передан" in sent["text"]
    [limit] = await teacher.say("/ask Ещё один вопрос")
    assert "5 вопросов без ответа" in limit["text"] and "предел" in limit["text"]
    assert await questions.open_count(1411) == 5

    [confirm] = await teacher.say("/forget")
    await teacher.tap(confirm, "Удалить мои данные")
    forgotten = await questions.get(1)
    assert forgotten is not None and forgotten.chat_id is None
    # The editors keep the number and the date; what was asked and by whom goes.
    assert forgotten.text == "" and forgotten.asker_role is None
    assert forgotten.created_at is not None
    assert await questions.open_count(1411) == 0

    # The editor's button on a forgotten asker's question can't reach anyone.
    notice = next(m for m in emu.messages(EDITOR_ID) if "Вопрос в ИМЦ № 1" in m.get("text", ""))
    answer, _ = await owner.tap(notice, "Ответить", expect="answer")
    assert "удалён по просьбе автора" in answer.params["text"]


async def test_a_forged_answer_button_is_refused_and_audited(running_bot: RunningBot) -> None:
    teacher = running_bot.person(1421, "Ирина")
    await onboard(teacher)
    [sent] = await teacher.say("/ask Можно ли участвовать в конкурсе заочно?")
    assert "Вопрос № 1 передан" in sent["text"]
    answer, _ = await teacher.tap_data(sent, "qa1:1", expect="answer")
    assert "для редакторов" in answer.params["text"]
    [chat] = await teacher.say("Мой ответ самому себе")
    assert "Ответ ИМЦ" not in chat["text"]
    stored = await QuestionRepository(running_bot.engine).get(1)
    assert stored is not None and stored.answered_at is None
    log = await AuditRepository(running_bot.engine).recent()
    assert (1421, "qa1", False) in [(e.actor_id, e.action, e.allowed) for e in log]
