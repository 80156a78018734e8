"""What a person reads on the command line is Vietnamese (SPEC), English with [acknowledge] language = "en".

Caught here, so that a new English string never reaches a user unnoticed:
- every message the code marks with `_()`/`N_()`, and every one argparse uses, has a Vietnamese
  translation in the compiled catalog, and the catalog is the .po compiled (`make catalogs`);
- every command's and subcommand's --help (found by walking the parser, so a command added
  later is checked too) and a set of errors, rendered in Vietnamese, hold no English words.
"""
from __future__ import annotations

import argparse
import ast
import gettext
import io
import re
import subprocess
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from staffkit import write_toml

from intake.processor import cli, i18n

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "processor" / "locale" / "vi" / "LC_MESSAGES" / "intake.po"

# English words that are no Vietnamese syllable: one of them in Vietnamese output is an untranslated string.
# ("name" is left out: it is a column and a flag, `--name`, in Vietnamese help too.)
ENGLISH_WORDS = """
account accounts address after already also and are argument arguments be been before campaign campaigns can
candidate cannot choice choose could date deadline decision decisions default each error errors every exit
expected file files folder for found from give given had has have heading help here into invalid is it its
just list lists may message messages might missing must new not of one only onto optional options or other
password past please positional print read report reports required run runs section see send sent should show
shows still than that the their then there these this those time two unit units until usage was were what when
where which who whom whose will with without would write
"""
ENGLISH = frozenset(ENGLISH_WORDS.split())


def english_words(text: str, allowed: set[str]) -> list[str]:
    """English words in `text`, command and flag names (and other words in `allowed`) aside."""
    text = re.sub(r"(?<![\w-])--?[A-Za-z][\w-]*", " ", text)  # flags: -h, --campaign, --dry-run
    text = re.sub(r"`[^`]*`|\$\w+|\S*[/.]\S*|\{[^}]*\}|'[^']*'|\[\w+\]", " ", text)  # `commands`, $VARS,
    # paths, {choices} and 'values' as argparse quotes them, [tables] of the config
    words = (w for w in re.findall(r"[\w-]+", text) if "-" not in w)  # app-password, Message-ID: names
    return [w for w in words if w.lower() in ENGLISH and w not in allowed]


def parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[
        tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every parser of the command line (`CommandParser.subcommands`), with the words that reach it."""
    yield path, parser
    for name, sub in getattr(parser, "subcommands", {}).items():
        yield from parsers(sub, (*path, name))


def vietnamese_parser() -> argparse.ArgumentParser:
    i18n.use("vi")
    with i18n.parser_language():
        return cli.build_parser()


def command_words(parser: argparse.ArgumentParser) -> set[str]:
    """Command names: they stay as they are in every language."""
    return {word for path, _p in parsers(parser) for name in path for word in re.findall(r"\w+", name)}


def render_help(argv: list[str]) -> str:
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit) as done:
        cli.main([*argv, "--help"], {})
    assert done.value.code == 0
    return out.getvalue()


def run(argv: list[str], environ: dict[str, str] | None = None) -> tuple[int, str]:
    err = io.StringIO()
    with redirect_stderr(err), redirect_stdout(io.StringIO()):
        try:
            code = cli.main(argv, environ or {"USER": "hoa"})
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, err.getvalue()


# -- the catalog -------------------------------------------------------------------


def marked_messages(files: list[Path]) -> set[str]:
    """The first argument of every _("...") / N_("...") / ngettext("...") call in these files."""
    found = set()
    for file in files:
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str) \
                    and getattr(node.func, "id", getattr(node.func, "attr", None)) in ("_", "N_", "ngettext"):
                found.add(node.args[0].value)
    return found


def test_every_marked_message_and_every_argparse_message_has_a_vietnamese_translation() -> None:
    ours = marked_messages(sorted((ROOT / "processor").rglob("*.py")))
    theirs = marked_messages([Path(argparse.__file__)])
    assert len(ours) > 150 and "usage: " in theirs and "the following arguments are required: %s" in theirs
    vi = i18n.catalog("vi")
    untranslated = sorted(m for m in ours | theirs if vi.gettext(m) == m and vi.ngettext(m, m, 1) == m)
    assert untranslated == [], "run `make catalogs` and translate these in " + str(PO.relative_to(ROOT))


def test_the_compiled_catalog_is_the_po_file(tmp_path: Path) -> None:
    fresh = tmp_path / "intake.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(fresh), str(PO)], check=True)
    with fresh.open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    shipped = i18n.catalog("vi")
    for msgid in marked_messages(sorted((ROOT / "processor").rglob("*.py"))):
        assert shipped.gettext(msgid) == compiled.gettext(msgid), f"intake.mo is stale: `make catalogs` ({msgid!r})"


def test_translations_keep_every_field_of_their_message() -> None:
    vi = i18n.catalog("vi")
    fields = re.compile(r"\{\w+(?:![rsa])?\}|%\(\w+\)[sr]|%[sr]")
    for msgid in marked_messages(sorted((ROOT / "processor").rglob("*.py"))):
        assert sorted(fields.findall(vi.gettext(msgid))) == sorted(fields.findall(msgid)), msgid


# -- what is rendered ----------------------------------------------------------------


def test_every_commands_help_is_vietnamese() -> None:
    parser = vietnamese_parser()
    allowed = command_words(parser)
    paths = [path for path, _p in parsers(parser)]
    assert ("extend",) in paths and ("users", "add") in paths and ("db", "upgrade") in paths
    for path in paths:
        text = render_help(list(path))
        assert text.startswith("cách dùng: intake"), text
        assert "tuỳ chọn:" in text and "in hướng dẫn này rồi dừng" in text
        assert english_words(text, allowed) == [], (path, text)


def test_argparse_errors_are_vietnamese() -> None:
    allowed = command_words(vietnamese_parser())
    cases = {
        ("extend",): "còn thiếu: ĐƠN_VỊ, --until",
        ("bogus",): "lựa chọn không hợp lệ: 'bogus'",
        ("status", "--nope"): "tham số không hợp lệ: --nope",
        ("decisions", "revoke", "x"): "giá trị int không hợp lệ: 'x'",
        ("section", "choose", "TN24-00001", "--none", "--candidate", "1"): "không dùng cùng với --none",
    }
    for argv, wanted in cases.items():
        code, err = run(list(argv))
        assert code == 2 and wanted in err and "lỗi:" in err, err
        assert english_words(err, allowed) == [], err


def test_our_errors_are_vietnamese_and_english_with_language_en(tmp_path: Path) -> None:
    allowed = command_words(vietnamese_parser())
    config = ["--config", str(tmp_path / "intake.toml")]
    code, err = run([*config, "status"])
    assert code == 2 and "không tìm thấy tệp cấu hình" in err
    write_toml(tmp_path)
    assert run([*config, "db", "upgrade"])[0] == 0
    vietnamese = {
        ("extend", "khong-co", "--until", "05/03/2024"): "không có \"khong-co\" trong danh sách đơn vị",
        ("extend", "ldld-bao-thang", "--until", "31/02/2024"): "ngày không có thật",
        ("extend", "ldld-bao-thang", "--until", "mai"): "không phải ngày",
        ("export", "--format", "docx", "-o", str(tmp_path / "bao-cao")): "thiếu phần đuôi",
        ("show", "TN24-99999"): "không có thư \"TN24-99999\"",
        ("decisions", "revoke", "42"): "không có quyết định số 42",
        ("excuse", "ldld-bao-thang", "--reason", " "): "lý do",
    }
    for argv, wanted in vietnamese.items():
        code, err = run([*config, *argv])
        assert code == 2 and wanted in err, (argv, err)
        assert english_words(err, allowed) == [], err
    text = (tmp_path / "intake.toml").read_text(encoding="utf-8")
    english = text.replace("max_age_days = 3650", "max_age_days = 3650\nlanguage = \"en\"")
    (tmp_path / "intake.toml").write_text(english, encoding="utf-8")
    code, err = run([*config, "extend", "khong-co", "--until", "05/03/2024"])
    assert code == 2 and "no unit \"khong-co\" in the roster" in err, err
    code, err = run([*config, "status", "--nope"])  # argparse's, before a config is read: Vietnamese
    assert code == 2 and "tham số không hợp lệ: --nope" in err


def test_a_bad_config_names_its_key_and_says_what_is_wrong_in_vietnamese(tmp_path: Path) -> None:
    write_toml(tmp_path)
    path = tmp_path / "intake.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('kind = "outbox"', 'kind = "fax"'), encoding="utf-8")
    code, err = run(["--config", str(path), "status"])
    assert code == 2 and "[sending] kind: cần một trong smtp, outbox, nhận được \"fax\"" in err, err


def test_english_is_the_messages_themselves() -> None:
    message = "unit: no unit \"{text}\" in the roster (see `intake units list`)"
    i18n.use("en")
    try:
        assert i18n._(message, text="x") == "unit: no unit \"x\" in the roster (see `intake units list`)"
    finally:
        i18n.use("vi")
    assert i18n._(message, text="x") == "đơn vị: không có \"x\" trong danh sách đơn vị (xem `intake units list`)"


def test_a_message_keeps_its_english_for_the_logs() -> None:
    from intake.parsers.errors import ExportError
    from intake.processor.i18n import _, in_english, use

    use("vi")
    said = _("cannot write {path}: {reason}", path="/tmp/x.docx", reason="No space left on device")
    assert said != said.english and said.english == "cannot write /tmp/x.docx: No space left on device"
    assert in_english(ExportError(said)) == said.english
    nested = _("-o: {name} ends in {suffix}{said} but --format is {format}: use a name ending in {wanted}",
               name="a.xlsx", suffix=".xlsx", said=_(" (a {format} name)", format="xlsx"), format="csv",
               wanted=".csv")
    assert nested.english == "-o: a.xlsx ends in .xlsx (a xlsx name) but --format is csv: use a name ending in .csv"
    assert in_english(ExportError("plain text")) == "plain text"
