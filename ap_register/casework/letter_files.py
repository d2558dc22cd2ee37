"""A letter's content (casework/letters.py `Content`) printed as a PDF (fpdf2) and as a Word
document (python-docx): the same words, parts and order as the page shows.

The PDF is set in DejaVu Sans, which covers every alphabet a child's or a parent's name is written
in (Debian's fonts-dejavu-core; `LETTER_FONT_DIR` names another folder holding DejaVuSans.ttf and
DejaVuSans-Bold.ttf). Word documents name no font file: Word sets them in its own.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

from docx import Document as WordDocument
from docx.shared import Pt
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from ap_register.casework.letters import Content

DEFAULT_FONT_DIR = "/usr/share/fonts/truetype/dejavu"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}


class FontMissing(Exception):
    """The PDF's font is not on this machine, or has no letter for a character the letter holds."""


@functools.lru_cache(maxsize=2)
def _covered(path: str) -> frozenset[int]:
    return frozenset(TTFont(path).getBestCmap())


def _every_word(content: Content) -> str:
    parts = [content.sender, *content.recipient, content.about, content.title, *content.opening, *content.closing]
    parts += [f"{key} {value}" for key, value in content.rows]
    return " ".join([*parts, content.signed_by, *content.signatures, content.basis, content.sessions_at])


def _day(value: object) -> str:
    return f"{value:%-d %B %Y}"


def _session_rows(content: Content) -> list[tuple[str, str, str]]:
    return [(day, "Yes" if am else "No", "Yes" if pm else "No") for day, am, pm in content.sessions]


def pdf(content: Content, font_dir: str = DEFAULT_FONT_DIR) -> bytes:
    """The letter as an A4 PDF."""
    folder = Path(font_dir)
    if not all((folder / name).is_file() for name in FONT_FILES.values()):
        raise FontMissing(f"The letter's font is not in {folder} (apt-get install fonts-dejavu-core)")
    missing = sorted(
        {c for c in _every_word(content) if ord(c) not in _covered(str(folder / FONT_FILES[""])) and c.isprintable()}
    )
    if missing:
        raise FontMissing(f"The letter's font cannot print {''.join(missing)!r}: download it as Word")
    doc = FPDF(format="A4")
    doc.set_title(content.title)
    doc.set_creator("ap_register")
    doc.set_margins(20, 20, 20)
    doc.set_auto_page_break(True, margin=20)
    for style, name in FONT_FILES.items():
        doc.add_font("DejaVu", style, str(folder / name))
    doc.add_page()
    width = doc.epw

    def text(words: str, size: int = 11, bold: bool = False, gap: float = 3, align: str = "L") -> None:
        doc.set_font("DejaVu", "B" if bold else "", size)
        doc.multi_cell(width, 6, words, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        doc.ln(gap)

    text(f"{content.sender}\n{_day(content.dated)}", align="R")
    text("\n".join(content.recipient))
    text(f"About {content.about}", bold=True)
    text(content.title, size=16, bold=True)
    for paragraph in content.opening:
        text(paragraph)
    # Each part as a heading and its words (not a table: a table's row must fit on one page, and
    # the writer's answers run to a page or more).
    for key, value in content.rows:
        text(key, bold=True, gap=0)
        text(value or "Not given", gap=2)
    if content.rows:
        doc.ln(2)
    if content.sessions:
        text(f"Sessions each week at {content.sessions_at}", bold=True, gap=1)
        doc.set_font("DejaVu", "", 10)
        with doc.table(col_widths=(40, 30, 30), text_align="LEFT") as table:
            table.row(["Day", "Morning", "Afternoon"])
            for cells in _session_rows(content):
                table.row(list(cells))
        doc.ln(4)
    for paragraph in content.closing:
        text(paragraph)
    if content.sign_off:
        text(f"{content.sign_off}\n\n{content.signed_by}", gap=6)
    for who in content.signatures:
        text(f"Signed ........................................  Date ..................\n{who}", gap=6)
    text(content.basis, size=9)
    return bytes(doc.output())


def docx(content: Content) -> bytes:
    """The letter as a Word document (DOCX), to edit further or print."""
    doc = WordDocument()
    doc.styles["Normal"].font.size = Pt(11)
    right = doc.add_paragraph(f"{content.sender}\n{_day(content.dated)}")
    right.alignment = 2  # right
    doc.add_paragraph("\n".join(content.recipient))
    doc.add_paragraph().add_run(f"About {content.about}").bold = True
    doc.add_heading(content.title, level=1)
    for paragraph in content.opening:
        doc.add_paragraph(paragraph)
    if content.rows:
        table = doc.add_table(rows=0, cols=2)
        table.style = "Table Grid"
        for key, value in content.rows:
            cells = table.add_row().cells
            cells[0].paragraphs[0].add_run(key).bold = True
            cells[1].text = value
    if content.sessions:
        doc.add_paragraph().add_run(f"Sessions each week at {content.sessions_at}").bold = True
        table = doc.add_table(rows=1, cols=3)
        table.style = "Table Grid"
        for cell, heading in zip(table.rows[0].cells, ("Day", "Morning", "Afternoon"), strict=True):
            cell.text = heading
        for cells in _session_rows(content):
            for cell, value in zip(table.add_row().cells, cells, strict=True):
                cell.text = value
    for paragraph in content.closing:
        doc.add_paragraph(paragraph)
    if content.sign_off:
        doc.add_paragraph(f"{content.sign_off}\n\n{content.signed_by}")
    for who in content.signatures:
        doc.add_paragraph(f"Signed ........................................  Date ..................\n{who}")
    doc.add_paragraph(content.basis).runs[0].font.size = Pt(9)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
