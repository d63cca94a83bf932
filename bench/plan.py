"""Reading an uploaded plan of junk or of a very long real plan: CPU milliseconds by size.

    python -m bench.plan

Two inputs at 64 KB, 256 KB, 1 MB and 2 MB (the upload limit): «junk», the plan's own title
and header followed by random printable bytes and plan words (everything after the header
becomes one huge row; junk with control bytes, a binary file renamed .txt, is refused as «not
text» before parsing, timed once at 2 MB); and «repeated», the real plan
(tests/support PLAN_2021) copied over and over, whose repeats pile into its last row. Each is
decoded and parsed the way an upload is (`decode_plan`, `parse_plan`), best of three. The
floor is one pass of the parser's own tokeniser over the same text, measured in the same run:
what any reader of the text must spend at least. Then a 300-row Word plan, built here with
python-docx (ten sections merged across the table, items numbered by Word's automatic list
numbering): reading it into rows of cells (`read_docx`), and reading and parsing it the way an
upload is (`parse_plan_file`: its rows read by their columns); the floor is python-docx opening
the file. The last line is

    plan: kb_64_ms=… kb_256_ms=… kb_1024_ms=… kb_2048_ms=… repeated_kb_64_ms=… …
          floor_kb_2048_ms=… ratio_kb_2048=… docx_rows_300_open_ms=… docx_rows_300_read_ms=…
          docx_rows_300_import_ms=… text_tabs_rows_300_import_ms=… text_lines_rows_300_import_ms=…

and the same 300 rows as text, copied out of Word with tabs and as a PDF's lines.
"""

from __future__ import annotations

import argparse
import io
import random
import time
from collections.abc import Callable
from functools import partial

from docx import Document

from bot.content.plan import _TOKEN, PlanFormatError, decode_plan, parse_plan
from bot.content.plan_docx import parse_plan_file, read_docx
from tests.support import PLAN_2021
from tests.support.word import PLAN_HEADER, PLAN_TITLE, add_list, number, table, to_bytes

SIZES_KB = (64, 256, 1024, 2048)
DOCX_ROWS = 300
MONTHS = ("Сентябрь", "Октябрь", "Ноябрь", "Декабрь", "Январь", "Февраль", "Март", "Апрель", "Май")
WORDS = (
    (
        "Сентябрь март В течение года Руководители ОУ педагоги 2021 2022 1 раз в квартал Семинар"
        " ( ) , - . Заседание Экспертного совета По плану площадок"
    )
    .encode("cp1251")
    .split()
)


# Junk that still reads as text (letters, digits, signs, line breaks in windows-1251): with
# control bytes in it, junk is refused as «not text» at once and never reaches the parser.
_TEXTISH = bytes([*range(0x20, 0x7F), *range(0xC0, 0x100), 0x0A, 0x09])


def junk(size: int, seed: int = 1, *, textish: bool = True) -> bytes:
    real = PLAN_2021.read_bytes()
    head = real[: real.index(b"1 \n")] + b"1 \n"
    rnd = random.Random(seed)
    out = bytearray(head)
    while len(out) < size:
        if rnd.random() < 0.5:
            length = rnd.randrange(1, 40)
            out += bytes(rnd.choices(_TEXTISH, k=length)) if textish else rnd.randbytes(length)
        else:
            out += rnd.choice(WORDS) + b" "
    return bytes(out[:size])


def repeated(size: int) -> bytes:
    real = PLAN_2021.read_bytes()
    return real * max(1, round(size / len(real)))  # whole copies: valid UTF-8 throughout


def word_plan(rows: int, sections: int = 10) -> bytes:
    """A plan of `rows` items in one table: a merged heading row per section, the first column
    numbered by Word's automatic numbering, two paragraphs in each title cell."""
    document = Document()
    num_id, _ = add_list(document)
    document.add_paragraph(PLAN_TITLE)
    word = table(document, PLAN_HEADER, [])
    per_section = rows // sections
    for index in range(rows):
        if index % per_section == 0:
            cells = word.add_row().cells  # type: ignore[no-untyped-call]
            cells[0].merge(cells[-1]).text = f"{index // per_section + 1}. Раздел плана"
        cells = word.add_row().cells  # type: ignore[no-untyped-call]
        number(cells[0].paragraphs[0], num_id)
        cells[1].text = f"Семинар для педагогов № {index + 1}"
        cells[1].add_paragraph("«Инфозона: новые возможности»")
        year = 2024 if index % len(MONTHS) < 4 else 2025
        cells[2].text = f"{MONTHS[index % len(MONTHS)]} {year}"
        cells[3].text = "Руководители ОУ, методисты"
    return to_bytes(document)


def text_plan(rows: int, *, tabs: bool, sections: int = 10) -> bytes:
    """The same plan as text: copied out of Word (cells between tabs), or as a PDF's text
    (each cell on its own lines, rows numbered «1.1», «1.2» under sections «1.»)."""
    per_section = rows // sections
    lines = [PLAN_TITLE, "\t".join(PLAN_HEADER) if tabs else " ".join(PLAN_HEADER)]
    for index in range(rows):
        section, place = divmod(index, per_section)
        if place == 0:
            lines.append(f"{section + 1}. Раздел плана")
        year = 2024 if index % len(MONTHS) < 4 else 2025
        cells = [
            f"{section + 1}.{place + 1}",
            f"Семинар для педагогов № {index + 1} «Инфозона: новые возможности»",
            f"{MONTHS[index % len(MONTHS)].lower()} {year}",
            "Руководители ОУ, методисты",
        ]
        if tabs:
            lines.append("\t".join(cells))
        else:
            title = cells[1].split(" «")
            lines += [f"{cells[0]} {title[0]}", f"«{title[1]}", cells[2], cells[3]]
    return "\n".join(lines).encode("utf-8")


def best_ms(work: Callable[[], object], runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return best * 1000


def parse(data: bytes) -> str:
    try:
        return f"{len(parse_plan(decode_plan(data)).items)} rows"
    except PlanFormatError as error:
        return error.problem.value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    figures: dict[str, str] = {}
    floor = 0.0
    for name, make in (("", junk), ("repeated_", repeated)):
        for kb in SIZES_KB:
            data = make(kb * 1024)
            outcome = parse(data)
            ms = best_ms(partial(parse, data), args.runs)
            figures[f"{name}kb_{kb}_ms"] = f"{ms:.0f}"
            print(f"{name or 'junk_'}{kb} KB: {ms:.0f} ms ({outcome})")
            if not name and kb == SIZES_KB[-1]:
                text = decode_plan(data)
                floor = best_ms(partial(_TOKEN.findall, text), args.runs)
                figures[f"floor_kb_{kb}_ms"] = f"{floor:.0f}"
                figures[f"ratio_kb_{kb}"] = f"{ms / floor:.1f}"
    binary = junk(SIZES_KB[-1] * 1024, textish=False)
    refused = best_ms(partial(parse, binary), args.runs)
    figures[f"binary_kb_{SIZES_KB[-1]}_ms"] = f"{refused:.1f}"
    print(f"binary junk {SIZES_KB[-1]} KB: {refused:.1f} ms ({parse(binary)})")
    data = word_plan(DOCX_ROWS)
    opened = best_ms(lambda: Document(io.BytesIO(data)), args.runs)
    read = best_ms(partial(read_docx, data), args.runs)
    imported = best_ms(partial(parse_plan_file, data), args.runs)
    rows = len(parse_plan_file(data).items)
    figures[f"docx_rows_{DOCX_ROWS}_open_ms"] = f"{opened:.0f}"
    figures[f"docx_rows_{DOCX_ROWS}_read_ms"] = f"{read:.0f}"
    figures[f"docx_rows_{DOCX_ROWS}_import_ms"] = f"{imported:.0f}"
    print(
        f"docx {DOCX_ROWS} rows ({len(data) // 1024} KB): python-docx opens it in {opened:.0f} ms,"
        f" read_docx {read:.0f} ms, read and parsed {imported:.0f} ms ({rows} rows)"
    )
    for name, tabs in (("tabs", True), ("lines", False)):
        data = text_plan(DOCX_ROWS, tabs=tabs)
        ms = best_ms(partial(parse, data), args.runs)
        figures[f"text_{name}_rows_{DOCX_ROWS}_import_ms"] = f"{ms:.0f}"
        print(
            f"text {DOCX_ROWS} rows, {name} ({len(data) // 1024} KB): {ms:.0f} ms ({parse(data)})"
        )
    print("plan: " + " ".join(f"{key}={value}" for key, value in figures.items()))


if __name__ == "__main__":
    main()
