"""The patient handout's languages: gettext catalogs managed with Babel.

Catalogs live in ``reports/locale/<locale>/LC_MESSAGES/messages.po``
(template ``reports/locale/messages.pot``, extracted with ``pybabel extract``
from this package). They are compiled with Babel when first used in a
process, so a source checkout and a wheel behave the same and a catalog is
never stale. Each catalog's header comment records whether a clinician
fluent in the language has reviewed it::

    # Clinical review: no
    # Reviewed by:
    # Reviewed on:

Until it says ``yes`` (with a name and a date), :func:`review_warning`
returns the warning the app and the CLI show before printing it.
"""

from __future__ import annotations

import functools
import gettext
import io
import re
from dataclasses import dataclass
from importlib import resources

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

#: Languages of the patient handout (BCP 47 tags, as stored on the patient record).
LANGUAGES: tuple[str, ...] = ("en", "es", "zh-Hans")
#: Catalog folder for each tag (gettext locale names).
_LOCALE_DIRS = {"en": "en", "es": "es", "zh-Hans": "zh_Hans"}
#: The language of the source strings (msgids).
SOURCE_LANGUAGE = "en"


def N_(message: str) -> str:  # noqa: N802 - gettext convention
    """Mark ``message`` for extraction without translating it here."""
    return message


@dataclass(frozen=True)
class Review:
    """Whether a clinician fluent in the language has reviewed a catalog."""

    language: str
    reviewed: bool
    by: str
    on: str


def check_language(value: str, field: str = "language") -> str:
    """``value`` if it is one of :data:`LANGUAGES`, else an InputError naming ``field``.

    Parameters
    ----------
    value : str
    field : str
        Field name for the error message (e.g. ``--language``).

    Returns
    -------
    str
    """
    from assessment.errors import InputError

    text = str(value or "").strip()
    if text not in LANGUAGES:
        raise InputError(field, f"{text[:20]!r} is not a handout language; allowed: {', '.join(LANGUAGES)}")
    return text


def _po_path(language: str):
    return resources.files("reports").joinpath("locale", _LOCALE_DIRS[language], "LC_MESSAGES", "messages.po")


@functools.cache
def catalog(language: str):
    """The Babel catalog of ``language`` (read from its .po file)."""
    with _po_path(language).open("rb") as f:
        return read_po(f, locale=Locale.parse(_LOCALE_DIRS[language]))


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """gettext translations for ``language``, compiled from its catalog with Babel."""
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    buf = io.BytesIO()
    write_mo(buf, catalog(language))
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def translator(language: str):
    """The ``gettext`` function for ``language`` (one of :data:`LANGUAGES`)."""
    return translations(check_language(language)).gettext


def ngettext(language: str, singular: str, plural: str, n: int) -> str:
    """``ngettext`` in ``language`` (one of :data:`LANGUAGES`)."""
    return translations(check_language(language)).ngettext(singular, plural, n)


def program_messages() -> tuple[str, ...]:
    """Every patient-facing text of the program tables (tier labels, weeks, rules, plain reasons), once each.

    They are translated through the catalog keyed by their English text, so
    the catalog template must hold each of them (see ``python -m reports.i18n``).
    """
    from assessment.tables import read_table

    out: list[str] = [r["plain_label"] for r in read_table("program_tiers")]
    for r in read_table("program_weeks"):
        out += [r["surface"], r["support"], r["progress_rule"]]
    out += [r["text"] for r in read_table("program_safety")]
    out += [r["plain"] for r in read_table("program_rules")]  # "why this program" in the patient's words
    return tuple(dict.fromkeys(t for t in out if t))


@functools.cache
def review(language: str) -> Review:
    """The clinical-review record in the header comment of ``language``'s catalog."""
    if language == SOURCE_LANGUAGE:
        return Review(language, True, "source text", "")
    header = catalog(language).header_comment or ""

    def field(name: str) -> str:
        m = re.search(rf"^#\s*{name}:[ \t]*(.*)$", header, re.MULTILINE | re.IGNORECASE)
        return m.group(1).strip() if m else ""

    reviewed = field("Clinical review").lower() == "yes" and bool(field("Reviewed by")) and bool(field("Reviewed on"))
    return Review(language, reviewed, field("Reviewed by"), field("Reviewed on"))


def review_warning(language: str) -> str | None:
    """The warning to show before printing a handout in ``language``, or None once reviewed."""
    r = review(check_language(language))
    if r.reviewed:
        return None
    return (f"The {language} patient handout is a draft translation not yet reviewed by a clinician fluent "
            f"in the language: read it with the patient before handing it over.")


def update_catalogs() -> None:
    """Extract the template from ``reports`` (Babel) plus :func:`program_messages`; update every catalog.

    Run as ``python -m reports.i18n`` after changing a handout string or a
    program table; then translate the new entries in each ``messages.po``.
    """
    from pathlib import Path

    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import write_po

    root = Path(__file__).parent
    template = Catalog(project="StepBack", msgid_bugs_address="", fuzzy=False)
    method_map = [("patient.py", "python"), ("i18n.py", "python")]
    for filename, lineno, message, comments, context in extract_from_dir(
            str(root), method_map, keywords={"_": None, "N_": None, "ngettext": (2, 3)}):
        template.add(message, locations=[(filename, lineno)], auto_comments=comments, context=context)
    for text in program_messages():
        template.add(text, locations=[("assessment/tables (program)", 0)])
    with (root / "locale" / "messages.pot").open("wb") as f:
        write_po(f, template, omit_header=False, sort_output=True)
    for language in LANGUAGES:
        if language == SOURCE_LANGUAGE:
            continue
        path = root / "locale" / _LOCALE_DIRS[language] / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as f:
            current = read_po(f, locale=Locale.parse(_LOCALE_DIRS[language]))
        current.update(template, update_header_comment=False)
        with path.open("wb") as f:
            write_po(f, current, sort_output=True, ignore_obsolete=True)


if __name__ == "__main__":
    update_catalogs()
