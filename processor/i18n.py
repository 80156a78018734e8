"""What a person reads on the command line, in the config's language (SPEC:
Vietnamese; English with `[acknowledge] language = "en"`).

The one owner of translation. Messages are written in English in the code,
wrapped in `_()` (with `{name}` fields filled by keyword), and translated by
the gettext catalog `processor/locale/vi/LC_MESSAGES/intake.po`, compiled to
`intake.mo` (`make catalogs` extracts new messages with xgettext, merges them
into the .po, and compiles it). English is the messages themselves.

argparse's own words (usage:, options, "the following arguments are
required", ...) go through the same catalog by gettext's public API:
argparse calls `gettext.gettext`, which looks up the domain named by
`gettext.textdomain` in the folder given by `gettext.bindtextdomain`, for the
language in `$LANGUAGE`. `parser_language` sets the three while a parser is
built and used, and puts back what was there.

Before a config is read (`--help`, a missing config) the language is
Vietnamese; the CLI calls `use()` with the config's language once it has one.
"""
from __future__ import annotations

import functools
import gettext
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DOMAIN = "intake"
LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LANGUAGE = "vi"

_current = [DEFAULT_LANGUAGE]  # the process's language: one CLI command or one dashboard


def use(language: str) -> None:
    """Speak `language` ("vi" or "en") from now on in this process."""
    _current[0] = language


def language() -> str:
    return _current[0]


@functools.cache
def catalog(lang: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


class Said(str):
    """A message as the person reads it (the current language), keeping its English for the logs,
    which stay English whatever the person reads (`in_english`)."""

    english: str


def _(message: str, /, **fields: object) -> str:
    """`message` in the current language, its `{name}` fields filled from `fields`."""
    text = catalog(language()).gettext(message)
    said = Said(text.format(**fields) if fields else text)
    english = {k: v.english if isinstance(v, Said) else v for k, v in fields.items()}
    said.english = message.format(**english) if fields else message
    return said


def with_detail(message: str, detail: str) -> str:
    """`message: detail`, where the detail (a server's reply) reads the same in every language."""
    said = Said(f"{message}: {detail}")
    said.english = f"{message.english if isinstance(message, Said) else message}: {detail}"
    return said


def in_english(error: BaseException) -> str:
    """An error's message for a log line: its English when it was said through `_()`."""
    args = error.args
    if len(args) == 1 and isinstance(args[0], Said) and str(error) == args[0]:
        return args[0].english
    return str(error)


def N_(message: str) -> str:  # noqa: N802 (gettext's own name for it, which xgettext knows)
    """Mark `message` for the catalog where it is defined; `_()` translates it where it is shown."""
    return message


@contextmanager
def parser_language(lang: str | None = None) -> Iterator[None]:
    """argparse speaks `lang` (default: the current language) inside this block."""
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    old_domain, old_env = gettext.textdomain(), os.environ.get("LANGUAGE")
    gettext.textdomain(DOMAIN)
    os.environ["LANGUAGE"] = lang or language()
    try:
        yield
    finally:
        gettext.textdomain(old_domain)
        if old_env is None:
            os.environ.pop("LANGUAGE", None)
        else:
            os.environ["LANGUAGE"] = old_env
