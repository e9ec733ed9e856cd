"""The ``stepback`` command.

A stable contract (README "Command line"): exit code 0 on success, 2 on bad
input with one line on stderr naming the field, and nothing written to the
database. Handlers parse options, call one service, print.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import getpass
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from assessment import InputError

EXIT_OK = 0
EXIT_BAD_INPUT = 2


class CommandError(Exception):
    """Bad command-line input: printed as one line, exit code 2."""

    def __init__(self, message: str, prog: str = "stepback") -> None:
        super().__init__(message)
        self.prog = prog


class Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line on stderr and exit code 2, and options are never abbreviated.

    (``--d`` is not ``--db``, nor ``--he`` ``--help``: a stable command line
    does not change meaning when an option is added.)
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # noqa: D102 - argparse API
        raise CommandError(message, self.prog)

    def parse_args(self, args=None, namespace=None):  # noqa: D102 - argparse API
        parsed, extra = self.parse_known_args(args, namespace)
        if extra:  # quoted, so a blank or invisible token shows; at most five
            shown = ", ".join(repr(token[:60]) for token in extra[:5]) + (" …" if len(extra) > 5 else "")
            self.error(f"unrecognized arguments: {shown}; see `stepback COMMAND -h`")
        return parsed


# --------------------------------------------------------------------------- helpers


def _whole(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number of ASCII digits from ``low`` to ``high`` (``١٢`` and ``1_0`` are not)."""

    def parse(text: str) -> int:
        if not re.fullmatch(r"[+-]?[0-9]{1,19}", text.strip()) or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(f"{text[:40]!r} is not allowed; allowed: a whole number from {low} to {high}")
        return int(text)

    return parse


#: Largest row id SQLite stores (a signed 64-bit integer).
MAX_ID = 2**63 - 1


def _print_json(data) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _database_url(args, creatable: bool = True) -> str | None:
    """The database URL of ``--db`` (a SQLAlchemy URL or a path to a SQLite file), else None.

    A SQLite file named by ``--db`` or ``$STEPBACK_DATABASE_URL`` must already
    exist unless ``--create`` is given: a typo must not start an empty
    database. A database server's URL (PostgreSQL) is not a file and is
    used as it is; the default database in the user data directory is
    created on first use.

    Raises
    ------
    InputError
        Naming ``--db`` (or ``STEPBACK_DATABASE_URL``): no SQLite file there and no ``--create``
        (``creatable=False``: the command reads only, so it never offers ``--create``).
    """
    value = getattr(args, "db", None)
    field = "--db"
    if value is not None and not value.strip():
        raise InputError(field, "empty; allowed: a SQLite file or a database URL")
    if not value:
        value, field = os.environ.get("STEPBACK_DATABASE_URL"), "STEPBACK_DATABASE_URL"
        if not value:  # the default database, made on first use (and removed again if that use is refused)
            from records.db import default_database_url

            default = _sqlite_file(default_database_url(), "database")
            if default is not None and not os.path.exists(default):
                _CREATED.append(Path(default))
            return None
    if "://" in value:
        url = value
    else:
        try:
            url = f"sqlite:///{Path(value).expanduser().absolute()}"  # a symlink is checked, not followed
        except (OSError, RuntimeError, ValueError):  # a symlink loop, ~user that does not exist ...
            raise InputError(field, f"{value[:200]!r} is not a usable path; allowed: a SQLite file or a database URL") from None
    path = _sqlite_file(url, field)
    if path is None:
        return url
    try:
        os.stat(path)
        return url
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as err:  # a name too long, a file where a folder should be ...
        raise InputError(field, f"cannot use the database file {path[:200]}: {getattr(err, 'strerror', None) or type(err).__name__}") from None
    if not getattr(args, "create", False):
        hint = "; add --create to make a new one" if creatable else "; allowed: an existing StepBack database"
        raise InputError(field, f"no database at {path[:200]}{hint}")
    if os.path.lexists(path):
        raise InputError(field, f"{path[:200]} is a symbolic link to nothing; allowed: a new file or a StepBack database")
    if not os.path.isdir(os.path.dirname(path) or "."):
        raise InputError(field, f"the folder {os.path.dirname(path)[:200]} does not exist; allowed: a new file in an "
                                "existing folder")
    _CREATED.append(Path(path))
    return url


def _sqlite_file(url: str, field: str) -> str | None:
    """The file of a SQLite URL; None for a database server or an in-memory database.

    Raises
    ------
    InputError
        Naming ``field``: not a database URL (no scheme, a port that is not a number ...).
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
        parsed.get_dialect()  # the dialect's name is parsed here ("+mysql+x://" is not one); no driver is loaded
    except (ArgumentError, ValueError):
        raise InputError(field, f"{url[:200]!r} is not a database URL; allowed: a SQLite file, sqlite:///PATH or "
                                "postgresql+psycopg://USER@HOST/DATABASE") from None
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return None
    return str(Path(database).expanduser())


#: SQLite files this command was asked to create (``--create``); removed again when the command is refused.
_CREATED: list[Path] = []


#: Databases opened by the running command; :func:`main` closes their connections when it returns.
_OPENED: list = []
#: Engines kept between runs of :func:`main` in one process (their compiled SQL is reused), newest last.
_ENGINES: dict = {}
_ENGINES_KEPT = 4


def _open_db(args, creatable: bool = True):
    """The command's database, upgraded to the newest schema; its connections close when the command ends."""
    from records.db import Database, head_revision, resolve_url

    url = resolve_url(_database_url(args, creatable))
    database = _ENGINES.pop(url, None) or Database(url)
    _ENGINES[url] = database
    while len(_ENGINES) > _ENGINES_KEPT:
        _ENGINES.pop(next(iter(_ENGINES))).dispose()
    _OPENED.append(database)
    current = database.current_revision()
    if current != head_revision():
        try:
            database.upgrade()
        except Exception as err:
            if not type(err).__module__.startswith("alembic"):
                raise
            raise InputError("database", f"its schema is at revision {str(current)[:40]!r}, which this StepBack does "
                                         "not know (a newer version wrote it?); allowed: a database of this "
                                         "version or older") from None
    return database


def _actor(args) -> str:
    return getattr(args, "clinician", None) or os.environ.get("STEPBACK_CLINICIAN") or getpass.getuser()


def _uses_database(args) -> bool:
    return bool(getattr(args, "db", None) or os.environ.get("STEPBACK_DATABASE_URL"))


def _ensure_shipped_model(db) -> None:
    """Register the shipped evidence model as a version (and activate it when none is active)."""
    from models import load_default_model
    from models.persist import to_bytes
    from records import services

    shipped = load_default_model()
    if shipped.version not in {v.version for v in services.list_model_versions(db)}:
        services.save_model_version(db, version=shipped.version, kind=shipped.kind, artifact=to_bytes(shipped),
                                    card=shipped.card, metrics=shipped.metrics)
    if services.active_model_version(db) is None:
        services.activate_model_version(db, shipped.version)


def _active_model(db):
    """The model the clinic has activated (the shipped evidence model until another is).

    Reads only: the shipped model is registered as a version by the `model`
    commands, never as a side effect of scoring or recording.
    """
    from models import load_default_model
    from models.persist import from_bytes
    from records import services

    active = services.active_model_version(db)
    return from_bytes(active.artifact) if active is not None else load_default_model()


def _model_for(args):
    """``score`` uses the configured database's active model, else the shipped one."""
    from models import load_default_model

    return _active_model(_open_db(args, creatable=False)) if _uses_database(args) else load_default_model()


def _fmt(value, spec: str = "", suffix: str = "") -> str:
    return "—" if value is None else f"{value:{spec}}{suffix}"


def _print_score(result: dict) -> None:
    """Human-readable score (the JSON form carries the same fields)."""
    if result.get("mean_seconds") is None:
        print("Not scored: no valid timed trial.")
        if result.get("stop_reason"):
            print(f"Test stopped: {result['stop_reason']}")
        return
    print(f"3MBW time       {result['mean_seconds']:.2f} s  ({result['scoring_rule']})")
    print(f"Speed           {result['speed_m_per_s']:.2f} m/s")
    print(f"Population      {result['population']}")
    print(f"Band            {result.get('band_label') or result.get('band') or '—'}")
    for c in result["cutoffs"]:
        mark = "meets" if c["met"] else "     "
        print(f"  {mark} {c['side']} {c['seconds']:g} s: {c['purpose']} ({c['source']})"
              + ("" if c["verified"] else " [unverified]"))
    if result.get("reference_cohort") and result.get("percentile") is not None:
        print(f"Reference       {result['reference_cohort_label']}")
        print(f"Percentile      {result['percentile']:.1f} (share of that cohort at or faster than this time), "
              f"z = {result['z']:+.2f}")
    elif result.get("reference_cohort"):
        print(f"Reference       {result['reference_cohort_label']}: percentile not computed (see the notes)")
    else:
        print("Reference       no published reference cohort for this population: percentile not computed")
    if "change_seconds" in result:
        cls = result.get("change") or "not judged (no MDC95)"
        mdc = _fmt(result.get("mdc95"), ".2f", " s")
        print(f"Change          {result['change_seconds']:+.2f} s since {result['previous_seconds']:.2f} s: "
              f"{cls} (MDC95 {mdc}, {result.get('mdc95_kind') or '—'})")
    if "change_from_first_seconds" in result:
        cls = result.get("change_from_first") or "not judged (no MDC95)"
        print(f"Since first     {result['change_from_first_seconds']:+.2f} s since {result['first_seconds']:.2f} s: {cls}")
    if result.get("probability") is not None:
        print(f"Fall risk       {result['probability']:.0%} chance of {result['risk_horizon']} (95 % interval "
              f"{result['probability_low']:.0%}–{result['probability_high']:.0%}), {result['risk_category']}; "
              f"model {result['model_version']}")
        scen = result.get("risk_scenario_probabilities") or {}
        if scen:
            print(f"  by scenario   {scen['A']:.0%} if the time is independent of fall history given the future fall (A), "
                  f"{scen['B']:.0%} if it tracks fall history (B)")
    elif result.get("risk_note"):
        print(f"Fall risk       not estimated ({result['risk_horizon']}): {result['risk_note']}")
    inputs = result.get("risk_inputs")
    if inputs:
        known = ", ".join(f"{k} {v}" for k, v in inputs["known"].items())
        print(f"  inputs used   {known}; unknown (averaged over): {', '.join(inputs['unknown']) or 'none'}")
    for s in result.get("steadi", []):
        verdict = {True: "at risk", False: "not at risk", None: "not judged"}[s["at_risk"]]
        print(f"STEADI {s['item']:<17} {s['value']}: {verdict} ({s['rule']})")
    for flag in result.get("flags", []):
        print(f"Note: {flag}")
    if result.get("program_tier"):
        print(f"Program         {result['program_tier']} (risk level {result['risk_level']})")
        for reason in result.get("program_reasons", []):
            print(f"  because: {reason}")


# --------------------------------------------------------------------------- commands


def cmd_score(args) -> int:
    if args.csv:
        if args.trial:
            raise CommandError("--trial: not allowed with --csv (the CSV holds the trials)")
        if not args.out:
            raise CommandError("--out: required with --csv (the scored CSV to write)")
        from records.files import input_file, output_path

        input_file(args.csv, "--csv")
        output_path(args.out, "--out")  # a symlink, device or missing folder is refused before any work
        n = score_batch(args.csv, args.out, _model_for(args), _base_rate(args.base_rate))
        print(f"Scored {n} walks into {args.out}", file=sys.stderr)
        return EXIT_OK
    from assessment import score, validate_assessment

    if not args.trial:
        raise CommandError("--trial: at least one --trial SECONDS is required (or --csv FILE)")
    raw = {
        "age": args.age,
        "sex": args.sex,
        "population": args.population,
        "trials": list(args.trial),
        "previous_seconds": args.previous,
        "steadi": _steadi_args(args),
    }
    from assessment.gatekeeper import validate_prior_falls, validate_walking_aid
    from models import risk_function
    assessment = validate_assessment(raw)
    predictors = {"prior_falls": validate_prior_falls(args.prior_falls, "--prior-falls"),
                  "walking_aid": validate_walking_aid(args.walking_aid, "--walking-aid")}
    base_rate = _base_rate(args.base_rate)
    result = score(assessment)
    out = result.to_dict()
    risk = risk_function(_model_for(args), base_rate=base_rate)(assessment, result, predictors)
    out.update(_risk_fields(risk))
    from datetime import date

    from assessment.program import build_program, validate_safety_screen

    screen = _screen_args(args.screen)
    program = build_program(
        assessed_on=assessment.assessed_on or date.today(), risk_category=out["risk_category"], band=result.band,
        mean_seconds=result.mean_seconds, population=assessment.population,
        safety_screen=validate_safety_screen(screen) if screen is not None else None,
        stop_reason=None, valid_trials=result.valid_trials,
        loss_of_balance=False, hands_on_assistance=False, assistive_device=assessment.assistive_device.value,
        **predictors,
        steadi_at_risk={s.item: s.at_risk for s in result.steadi},
    )
    out.update(_program_fields(program))
    out.update(_risk_context(risk))
    _print_json(out) if args.json else _print_score(out)
    return EXIT_OK


def score_batch(in_path, out_path, model, base_rate: float | None = None) -> int:
    """``stepback score --csv``: read, validate, score, estimate risk, write.

    Nothing is written when any row is bad. Returns the number of walks.
    """
    import pandas as pd

    from assessment.batch import read_csv, score_frame, write_csv

    scored = score_frame(read_csv(in_path))
    risk = model.predict_frame(scored, base_rate=base_rate).rename(columns={"note": "risk_note"})
    clash = [c for c in risk.columns if c in scored.columns]
    if clash:  # e.g. a scored CSV fed back in: its output columns would be written twice
        raise InputError("--csv", f"column {str(clash[0])[:60]!r} is one the scoring writes; allowed: the input "
                                  "columns (age, sex, population, trial_1 …, the optional predictors)")
    numbers = ["probability", "probability_low", "probability_high", "probability_scenario_a", "probability_scenario_b"]
    risk[numbers] = risk[numbers].round(4)
    from records.files import write_atomically

    table = pd.concat([scored, risk], axis=1)
    write_atomically(out_path, lambda tmp: write_csv(table, tmp), "--out")
    return len(scored)


def _base_rate(value):
    from models.model import check_base_rate

    try:
        return check_base_rate(value)
    except InputError as err:
        raise InputError("--base-rate", err.message) from None


def _steadi_args(args) -> dict:
    return {
        "stay_independent_score": args.stay_independent,
        "tug_seconds": args.tug,
        "chair_stand_count": args.chair_stand,
        "tandem_seconds": args.tandem,
    }


RISK_FIELDS = ("probability", "probability_low", "probability_high", "risk_category", "model_version")


def _risk_fields(risk: dict | None) -> dict:
    """The model's output under the CLI's names (all None when not estimated)."""
    risk = risk or {}
    out = {k: risk.get(k) for k in RISK_FIELDS}
    out["risk_thresholds"] = risk.get("thresholds")
    out["risk_note"] = risk.get("note") or (None if risk else "no valid timed trial")
    return out


def _screen_args(values) -> dict | None:
    """``--screen KEY=yes|no`` (repeatable) as the safety-screen answers; None when none is given."""
    from assessment.program import SAFETY_SCREEN_KEYS

    if not values:
        return None
    answers: dict[str, str] = {}
    for item in values:
        key, sep, answer = str(item).partition("=")
        key = key.strip()
        if not sep or key not in SAFETY_SCREEN_KEYS:
            raise InputError("--screen", f"{str(item)[:60]!r} is not allowed; allowed: KEY=yes|no with KEY one of "
                                         f"{', '.join(SAFETY_SCREEN_KEYS)}")
        if key in answers:
            raise InputError("--screen", f"{key} is given twice; allowed: each question once")
        answers[key] = answer.strip()
    missing = [k for k in SAFETY_SCREEN_KEYS if k not in answers]
    if missing:
        raise InputError("--screen", f"{missing[0]} is not answered; allowed: all seven answers "
                                     f"({', '.join(SAFETY_SCREEN_KEYS)}) or none")
    return answers


def _program_fields(program) -> dict:
    """The safe starting program under the CLI's names (the same decision as the app and reports)."""
    return {"program_tier": program.tier, "program_reasons": list(program.reasons),
            "program_why": list(program.why), "risk_level": program.risk_level}


def _risk_context(risk: dict | None) -> dict:
    """What the probability is of and what it was computed from (the model's horizon and inputs)."""
    from models.model import HORIZON

    risk = risk or {}
    return {"risk_horizon": risk.get("horizon", HORIZON), "risk_inputs": risk.get("inputs"),
            "risk_scenario_probabilities": risk.get("scenario_probabilities") or None}


def _patient_dict(p) -> dict:
    return {
        "mrn": p.mrn,
        "given_name": p.given_name,
        "family_name": p.family_name,
        "birth_date": p.birth_date.isoformat(),
        "sex": p.sex,
        "population": p.population,
    }


def cmd_patient_add(args) -> int:
    from records import services

    db = _open_db(args)
    p = services.add_patient(
        db,
        mrn=args.mrn,
        given_name=args.given,
        family_name=args.family,
        birth_date=args.birth_date,
        sex=args.sex,
        population=args.population,
        language=args.language,
        actor=_actor(args),
    )
    language = f", handout language {p.language}" if p.language else ""
    print(f"Added patient {p.mrn}: {p.family_name}, {p.given_name} (born {p.birth_date}, {p.sex}, {p.population}{language})")
    return EXIT_OK


def cmd_patient_list(args) -> int:
    from records import services

    db = _open_db(args)
    patients = services.list_patients(db, search=args.search, limit=args.limit)
    if args.json:
        _print_json([_patient_dict(p) for p in patients])
        return EXIT_OK
    if not patients:
        print("No patients.")
    for p in patients:
        print(f"{p.mrn:<12} {p.family_name or ''}, {p.given_name or '':<20} {p.birth_date}  {p.sex or '':<6} "
              f"{p.population}")
    return EXIT_OK


def _assessment_dict(view) -> dict:
    out = dict(view.score or {})
    out.update({k: getattr(view, k) for k in RISK_FIELDS})
    out.update(
        assessment_id=view.id,
        version=view.version,
        mrn=view.mrn,
        assessed_on=view.assessed_on.isoformat() if view.assessed_on else None,
        status=view.status,
    )
    if view.is_final:
        from assessment.program import program_for

        out.update(_program_fields(program_for(view)))
    return out


def cmd_assess(args) -> int:
    from records import services

    db = _open_db(args)
    from models import risk_function

    raw = {"trials": list(args.trial), "assessed_on": args.date, "start": args.start,
           "prior_falls": args.prior_falls, "walking_aid": args.walking_aid, "steadi": _steadi_args(args)}
    screen = _screen_args(args.screen)
    if screen is not None:
        raw["safety_screen"] = screen
    model_risk = risk_function(_active_model(db), base_rate=_base_rate(args.base_rate))
    given: list[dict | None] = []

    def risk_fn(*a):
        given.append(model_risk(*a))
        return given[-1]

    view, _ = services.record_assessment(db, args.mrn, raw, risk_fn=risk_fn, actor=_actor(args))
    result = _assessment_dict(view)
    result.update(_risk_context(given[-1] if given else None))
    if args.json:
        _print_json(result)
    else:
        print(f"Assessment {view.id} for {view.mrn} on {result['assessed_on']} saved (final).")
        _print_score(result)
    return EXIT_OK


def cmd_amend(args) -> int:
    from models import risk_function
    from records import services

    db = _open_db(args)
    changes: dict = {}
    if args.trial:
        changes["trials"] = list(args.trial)
    for key, value in (("assessed_on", args.date), ("start", args.start), ("prior_falls", args.prior_falls),
                       ("walking_aid", args.walking_aid)):
        if value is not None:
            changes[key] = value
    screen = _screen_args(args.screen)
    if screen is not None:
        changes["safety_screen"] = screen
    if not changes:
        raise CommandError("nothing to amend: give at least one of --trial, --date, --start, --prior-falls, "
                           "--walking-aid, --screen", "stepback amend")
    risk_fn = risk_function(_active_model(db), base_rate=_base_rate(args.base_rate))
    view = services.amend_assessment(db, args.assessment, changes, reason=args.reason, risk_fn=risk_fn,
                                     actor=_actor(args))
    result = _assessment_dict(view)
    result["supersedes_id"] = view.supersedes_id
    if args.json:
        _print_json(result)
    else:
        print(f"Assessment {view.supersedes_id} amended: version {view.version} is assessment {view.id} "
              f"(the earlier version is kept).")
        _print_score(result)
    return EXIT_OK


def cmd_history(args) -> int:
    from records import services

    db = _open_db(args)
    rows = [_assessment_dict(v) for v in services.history(db, args.mrn)]
    if args.json:
        _print_json(rows)
        return EXIT_OK
    if not rows:
        print(f"No final assessments for {args.mrn}.")
    for r in rows:
        change = r.get("change") or ""
        amended = f" (amended, v{r['version']})" if r["version"] > 1 else ""
        print(f"{r['assessed_on']}  {_fmt(r.get('mean_seconds'), '.2f', ' s'):>8}  "
              f"{r.get('band') or '—':<12} {change}{amended}")
    return EXIT_OK


#: Warnings of the running command, printed only when it succeeds (a refusal is its one error line).
_WARNINGS: list[str] = []


def _report_models(db, patient, assessment, kinds, clinic, actor, language=None):
    """The report models of one assessment (not yet audited: a report is audited once its file is written)."""
    import reports
    from reports.i18n import review_warning
    from reports.inputs import clinic_inputs, report_inputs
    from records import services

    settings = services.get_clinic_settings(db)
    inputs = report_inputs(patient, assessment, services.history(db, patient.mrn, actor=actor),
                           **clinic_inputs(settings, clinic), language=language)
    if "patient" in kinds and review_warning(inputs["language"]):  # printed once the reports are written
        _WARNINGS.append(f"warning: {patient.mrn}: {review_warning(inputs['language'])}")
    builders = {"patient": reports.build_patient_report, "clinician": reports.build_clinician_report}
    return [builders[k](**inputs) for k in kinds]


def _progress_bar(done: int, total: int) -> None:
    """A progress bar on stderr, at a terminal only (a log or a pipe gets just the result line)."""
    if not sys.stderr.isatty():
        return
    width = 30
    filled = width * done // max(total, 1)
    end = "\n" if done == total else ""
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} reports", end=end, file=sys.stderr, flush=True)


#: Most worker processes `report` starts (each loads reportlab and renders in memory).
MAX_REPORT_WORKERS = 16


def cmd_report(args) -> int:
    import reports
    from records import services

    from records.validation import validate_language

    batch = args.due or args.date_from or args.date_to
    kinds = [args.kind] if args.kind else ["patient", "clinician"]
    language = validate_language(args.language, "--language")
    actor = _actor(args)
    db = _open_db(args)
    if not batch:
        if not args.mrn:
            raise CommandError("--mrn: required (or --due / --from / --to for a batch)", "stepback report")
        if not args.kind or not args.out:
            raise CommandError("--kind and --out: both required for one report", "stepback report")
        patient = services.get_patient(db, args.mrn, actor=actor)
        if args.assessment is not None:
            assessment = services.get_assessment(db, args.assessment, actor=actor)
            if assessment.mrn != patient.mrn or assessment.status != "final":
                raise InputError("--assessment", f"{args.assessment} is not a final assessment of {patient.mrn}")
        else:
            current = services.history(db, patient.mrn, actor=actor)
            if not current:
                raise InputError("--mrn", f"{patient.mrn} has no final assessment to report")
            assessment = services.get_assessment(db, current[-1].id, actor=actor)
        (model,) = _report_models(db, patient, assessment, kinds, args.clinic, actor, language)
        from records.files import write_bytes_atomically

        write_bytes_atomically(args.out, reports.render_pdf(model), "--out")
        services.record_report_printed(db, assessment.id, kinds, actor=actor)  # printed once the file is there
        print(f"Wrote {args.kind} report for {patient.mrn} (assessment {assessment.id}) to {args.out}")
        return EXIT_OK
    if args.mrn or args.out or args.assessment is not None:
        raise CommandError("--mrn/--assessment/--out: not allowed in a batch; use --out-dir", "stepback report")
    if not args.out_dir:
        raise CommandError("--out-dir: required for a batch", "stepback report")
    from assessment.gatekeeper import parse_date
    from datetime import date as _date

    today = _date.today()
    start = parse_date("--from", args.date_from, today) if args.date_from else None
    end = parse_date("--to", args.date_to, today) if args.date_to else None
    rows = services.final_assessments(db, assessed_from=start, assessed_to=end, latest_per_patient=args.due, actor=actor)
    jobs = []  # (assessment id, kind, model)
    for patient, assessment in rows:
        # reassess_on is stored at finalising (the program's date); undated counts as due
        if args.due and assessment.reassess_on is not None and assessment.reassess_on > today:
            continue
        models = _report_models(db, patient, assessment, kinds, args.clinic, actor, language)
        jobs += [(assessment.id, kind, model) for kind, model in zip(kinds, models)]
    if not jobs:
        print("No reports to print.", file=sys.stderr)
        return EXIT_OK
    written = _write_reports(db, jobs, args.out_dir, args.workers, actor)
    print(f"Wrote {written} reports to {args.out_dir}")
    return EXIT_OK


def _write_reports(db, jobs, out_dir: str, workers: int, actor: str) -> int:
    """Render ``jobs`` and write each PDF into ``out_dir`` (temporary file, then rename); audit each once written.

    Stops at the first failure (a full disk ...): the reports already
    written stay (each whole, each audited), nothing half-written is left,
    and the error says how many were written and where.
    """
    import reports
    from records import services
    from records.files import write_bytes_atomically

    stems = [model.file_stem for _, _, model in jobs]
    if len(set(stems)) != len(stems):
        raise InputError("--out-dir", "two reports would have the same file name; allowed: distinct patients")
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    try:
        with contextlib.closing(reports.render_each([m for _, _, m in jobs], workers=workers)) as rendered:
            for index, pdf in rendered:
                assessment_id, kind, model = jobs[index]
                write_bytes_atomically(folder / f"{model.file_stem}.pdf", pdf, "--out-dir")
                services.record_report_printed(db, assessment_id, [kind], actor=actor)
                written += 1
                _progress_bar(written, len(jobs))
    except (OSError, InputError) as err:
        why = err.message if isinstance(err, InputError) else (err.strerror or type(err).__name__)
        if sys.stderr.isatty() and written:
            print(file=sys.stderr)  # end the progress bar's line
        raise InputError("--out-dir", f"{why}; stopped after {written} of {len(jobs)} reports: the {written} "
                                      f"written (each whole, each audited as printed) are in {folder}") from None
    return written


def cmd_clinic(args) -> int:
    from records import services

    db = _open_db(args)
    if args.clinic_command == "set":
        logo = services.KEEP_LOGO
        if args.logo is not None and args.no_logo:
            raise CommandError("--logo: not allowed with --no-logo (give one of them)")
        if args.no_logo:
            logo = None
        elif args.logo is not None:
            path = Path(args.logo)
            if not path.is_file():
                raise InputError("--logo", f"{args.logo}: no such file; allowed: a PNG or JPEG image file")
            with path.open("rb") as fh:
                logo = fh.read(services.LOGO_MAX_BYTES + 1)
        s = services.set_clinic_settings(db, name=args.name, phone=args.phone, address=args.address, logo=logo,
                                         actor=_actor(args))
        print(f"Clinic set: {s.name}, {s.phone}" + (f", {s.address}" if s.address else "")
              + (", with a logo" if s.logo else ""))
        return EXIT_OK
    s = services.get_clinic_settings(db)
    if s is None:
        print("No clinic set (stepback clinic set --name NAME --phone PHONE).")
        return EXIT_OK
    print(f"Name: {s.name}\nPhone: {s.phone}\nAddress: {s.address or '—'}\n"
          f"Logo: {f'yes ({len(s.logo) // 1024 or 1} KB)' if s.logo else 'none'}")
    return EXIT_OK


def cmd_model(args) -> int:
    from models.persist import from_bytes, to_bytes
    from records import services

    action = args.model_command
    if action == "train":
        from models.card import render_card
        from models.train import train_evidence_model

        model = train_evidence_model(seed=args.seed)
        from models.persist import save

        save(model, args.out)
        if args.card:
            Path(args.card).write_text(render_card(model, model.metrics), "utf-8")
        print(f"Trained {model.version} (seed {args.seed}) from clinical-evidence.md into {args.out}")
        return EXIT_OK
    db = _open_db(args)
    if action == "activate":  # a version that is not there is refused before anything is written
        from models import load_default_model

        if args.version == load_default_model().version:
            _ensure_shipped_model(db)
        services.activate_model_version(db, args.version, actor=_actor(args))
        print(f"Activated model {args.version}: new assessments are scored with it.")
        return EXIT_OK
    _ensure_shipped_model(db)
    if action == "list":
        rows = [{"version": v.version, "kind": v.kind, "active": v.active, "created_at": v.created_at}
                for v in services.list_model_versions(db)]
        if args.json:
            _print_json(rows)
        else:
            for r in rows:
                print(f"{'*' if r['active'] else ' '} {r['version']:<40} {r['kind']:<13} {r['created_at']:%Y-%m-%d %H:%M}")
        return EXIT_OK
    model = from_bytes(services.active_model_version(db).artifact)
    if action == "card":
        print(model.card)
        return EXIT_OK
    if action == "evaluate":
        from models.evaluate import evaluate

        metrics = evaluate(model, seed=args.seed)
        if args.json:
            _print_json(metrics)
        else:
            _print_metrics(model.version, metrics)
        return EXIT_OK
    if action == "recalibrate":
        from models.recalibrate import NotEnoughOutcomes, RecalibrationRefused, recalibrate

        outcomes = services.labelled_outcomes(db, actor=_actor(args))
        try:
            new = recalibrate(model, outcomes)
        except NotEnoughOutcomes as err:
            raise InputError("outcomes", str(err)) from None
        except RecalibrationRefused as err:
            raise InputError("outcomes", str(err)) from None
        services.save_model_version(db, version=new.version, kind=new.kind, artifact=to_bytes(new),
                                    card=new.card, metrics=new.metrics, actor=_actor(args))
        local = new.metrics.get("local", {})
        if args.json:
            _print_json({"version": new.version, "kind": new.kind, "parent_version": model.version, "local": local})
        else:
            print(f"Saved {new.version} ({new.kind}) from {len(outcomes)} outcomes; not active.")
            print(json.dumps(local, indent=2, default=str))
            print(f"Activate it with: stepback model activate {new.version}")
        return EXIT_OK
    raise CommandError("ACTION: one of train, evaluate, card, recalibrate, activate, list", "stepback model")


def _print_metrics(version: str, metrics: dict) -> None:
    """``stepback model evaluate``: every metric with the cohort it comes from."""
    print(f"Model {version}: checks on cohorts simulated from the model's own assumptions (not a validation)")
    print(f"Mix cohort: {metrics['cohort']}")
    head = f"  {'scenario':<9}{'population':<14}{'n':>7}{'ECE':>8}{'slope':>8}{'intercept':>10}{'AUC':>7}{'time-only ECE':>15}  deciles covered"
    print(head)
    for scenario, block in metrics["scenarios"].items():
        for pid, m in block["by_population"].items():
            print(f"  {scenario:<9}{pid:<14}{m['n']:>7}{m['ece']:>8.3f}{m['calibration_slope']:>8.3f}"
                  f"{m['calibration_intercept']:>+10.3f}{m['auc']:>7.3f}{m['time_only_ece']:>15.3f}  {m['deciles_covered']} / 10")
    for label in metrics["scenario_labels"].values():
        print(f"  scenario {label}")
    checks = metrics["published_checks"]
    print(f"Published figures, time only ({checks['cohort']}):")
    c = checks["community"]
    print(f"  community: AUC {c['time_only_auc']:.3f} (published {c['published_auc']}); at {c['cutoff_seconds']:g} s "
          f"sensitivity {c['sensitivity']:.1%} (published {c['published_sensitivity']:.1%}), specificity "
          f"{c['specificity']:.1%} (published {c['published_specificity']:.1%})")
    for pid in ("nursing_home", "parkinsons"):
        print(f"  {pid}: AUC {checks[pid]['time_only_auc']:.3f} (published {checks[pid]['published_auc']})")


def _read_password() -> str:
    """A new password: asked twice at a terminal, else one line from stdin. Never an argument."""
    if sys.stdin is not None and sys.stdin.isatty():
        first = getpass.getpass("Password (12 characters or more): ")
        if getpass.getpass("Repeat the password: ") != first:
            raise InputError("password", "the two entries differ")
        return first
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.rstrip("\r\n")


def cmd_user(args) -> int:
    from records import accounts

    db = _open_db(args)
    if args.user_command == "add":
        user = accounts.add_user(db, username=args.username, password=_read_password(),
                                 role="admin" if args.admin else "clinician", display_name=args.display_name,
                                 clinic=args.clinic, actor=accounts.SYSTEM_ACTOR)
        print(f"Added {user.role} {user.username}.")
    elif args.user_command == "disable":
        accounts.disable_user(db, args.username, actor=accounts.SYSTEM_ACTOR)
        print(f"Disabled {args.username}; their history is kept.")
    elif args.user_command == "unlock":
        cleared = accounts.unlock_user(db, args.username, actor=accounts.SYSTEM_ACTOR)
        print(f"Unlocked {args.username} ({cleared} source{'s' if cleared != 1 else ''} cleared).")
    elif args.user_command == "set-password":
        accounts.set_password(db, args.username, password=_read_password(), actor=accounts.SYSTEM_ACTOR)
        print(f"Set a new password for {args.username}; its sign-in locks are cleared.")
    elif args.user_command == "list":
        users = accounts.list_users(db)
        rows = [{"username": u.username, "display_name": u.display_name, "role": u.role,
                 "disabled": u.disabled_at is not None} for u in users]
        if args.json:
            _print_json(rows)
        for r in rows if not args.json else ():
            print(f"{r['username']:<24} {r['role']:<10} {'disabled' if r['disabled'] else 'active':<9} {r['display_name']}")
    else:
        raise CommandError("ACTION: one of add, disable, unlock, set-password, list", "stepback user")
    return EXIT_OK


#: Problems of a rejected import named on its one error line (the rest are counted).
IMPORT_PROBLEMS_SHOWN = 10


def cmd_import(args) -> int:
    from records.exchange import ImportRejected, import_csv

    if bool(args.csv) == bool(args.fhir):
        raise CommandError("--csv FILE or --fhir FILE: exactly one is required", "stepback import")
    from records.files import input_file

    input_file(args.fhir or args.csv, "--fhir" if args.fhir else "--csv")
    db = _open_db(args)
    try:
        if args.fhir:
            from records.fhir import import_fhir

            summary = import_fhir(db, args.fhir, actor=_actor(args))
        else:
            from models import risk_function

            summary = import_csv(db, args.csv, actor=_actor(args), risk_fn=risk_function(_active_model(db)))
    except ImportRejected as err:  # one line: the count, then the first problems ("line N: column: why")
        shown = "; ".join(str(p) for p in err.problems[:IMPORT_PROBLEMS_SHOWN])
        more = len(err.problems) - IMPORT_PROBLEMS_SHOWN
        tail = f" (and {more} more)" if more > 0 else ""
        print(_one_line(f"stepback import: error: {err.field}: {err.message}: {shown}{tail}"), file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.fhir:
        print(f"Imported {summary.rows} FHIR patients: {summary.patients_added} new, "
              f"{summary.patients_existing} already present.")
        return EXIT_OK
    print(f"Imported {summary.rows} rows: {summary.patients_added} new patients, "
          f"{summary.assessments_added} new assessments, {summary.assessments_skipped} already present.")
    return EXIT_OK


def cmd_export(args) -> int:
    db = _open_db(args)
    if args.fhir_bulk:
        if not args.out_dir or args.fhir or args.csv or args.mrn or args.out:
            raise CommandError("--fhir-bulk: takes --out-dir DIR only", "stepback export")
        from records.fhir import export_bulk

        from records.validation import SYSTEM_ACTOR

        # The local command line acts as `system` (as `user add` does); --clinician must name an administrator.
        written = export_bulk(db, args.out_dir, actor=getattr(args, "clinician", None) or SYSTEM_ACTOR)
        counts = ", ".join(f"{sum(1 for _ in open(p, encoding='utf-8'))} {kind}" for kind, p in written.items())
        print(f"Wrote FHIR R4 Bulk Data NDJSON to {args.out_dir}: {counts}")
        return EXIT_OK
    if args.out_dir:
        raise CommandError("--out-dir: only with --fhir-bulk", "stepback export")
    if args.fhir:
        if not args.mrn or not args.out:
            raise CommandError("--mrn and --out: required with --fhir", "stepback export")
        if args.csv:
            raise CommandError("--csv: not allowed with --fhir", "stepback export")
        from records.fhir import export_fhir

        n = export_fhir(db, args.mrn, args.out, actor=_actor(args))
        print(f"Wrote a FHIR R4 Bundle of {n} resources for {args.mrn} to {args.out}")
        return EXIT_OK
    if not args.csv:
        raise CommandError("--csv FILE or --fhir --mrn MRN --out FILE.json: one is required", "stepback export")
    from records.exchange import export_csv

    summary = export_csv(db, args.csv, actor=_actor(args))
    print(f"Exported {summary.patients} patients and {summary.assessments} assessments to {args.csv}")
    return EXIT_OK


def cmd_quality(args) -> int:
    from records.quality import falls_screening, read_visits, validate_measure, validate_period

    try:
        measure = validate_measure(args.measure)
        start, end = validate_period(args.date_from, args.date_to)
    except InputError as err:  # name the options as typed
        raise InputError(f"--{err.field}", err.message) from None
    if args.out and Path(args.out).suffix.lower() != ".pdf":
        raise InputError("--out", f"{args.out}: allowed: a file name ending in .pdf")
    from records.files import input_file

    visits = read_visits(input_file(args.visits, "--visits")) if args.visits else []
    report = falls_screening(_open_db(args), period_from=start, period_to=end, visits=visits, clinic=args.clinic,
                             measure=measure, actor=_actor(args))
    if args.out:
        from reports.quality import build_quality_pdf

        pdf = build_quality_pdf(report)
        out = Path(args.out)
        tmp = out.with_name(f".{out.name}.part")
        tmp.write_bytes(pdf)
        tmp.replace(out)
    if args.json:
        _print_json(report.to_json())
        return EXIT_OK
    print(f"CMS139 falls screening {start} to {end}: {report.numerator} of {report.denominator} patients screened "
          f"({_fmt(report.rate, '.0%')}); {len(report.not_screened)} not yet screened.")
    print(f"Plan of care (MIPS #155): {report.plan_numerator} of {report.plan_denominator} at-risk patients "
          f"with a documented program ({_fmt(report.plan_rate, '.0%')}).")
    for u in report.not_screened:
        print(f"  not screened: {u.mrn:<12} {u.name}  (last visit {u.last_visit})")
    if report.unknown_visit_mrns:
        print(f"{len(report.unknown_visit_mrns)} visit-list MRN(s) are not StepBack patients here; not counted.")
    if args.out:
        print(f"Wrote {args.out}")
    return EXIT_OK


def cmd_backup(args) -> int:
    from records.backup import backup

    info = backup(_open_db(args), args.out, actor=_actor(args))
    print(f"Backed up to {info.path} ({info.bytes:,} bytes, schema {info.revision}, sha256 {info.sha256[:12]}…)")
    return EXIT_OK


def cmd_restore(args) -> int:
    from records.backup import restore
    from records.db import resolve_url
    from records.files import input_file

    input_file(args.file, "backup_file")
    info = restore(resolve_url(_database_url(args)), args.file, actor=_actor(args))
    print(f"Restored {args.file} into {info.target} (schema {info.revision_in_file} → {info.revision_now}).")
    if info.audit_rows_after_backup:
        print(f"stepback restore: warning: the replaced database had {info.audit_rows_after_backup} audit rows "
              f"newer than the backup; they are not in the restored one. It was saved first as {info.safety_copy}.",
              file=sys.stderr)
    return EXIT_OK


def cmd_serve(args) -> int:
    from serve import ServeOptions, serve

    options = ServeOptions(host=args.host, port=args.port, backend_port=args.backend_port,
                           names=tuple(args.name or ()), cert=args.cert, key=args.key, session_ttl=args.session_ttl,
                           **({"workers": args.workers} if args.workers is not None else {}))
    return serve(options)


# --------------------------------------------------------------------------- parser


def build_parser() -> Parser:
    """The whole command line; every option here is documented in README.md."""
    db_parent = Parser(add_help=False)
    db_parent.add_argument("--db", metavar="URL_OR_PATH", default=argparse.SUPPRESS,
                           help="database URL or SQLite file (default: $STEPBACK_DATABASE_URL or the user data directory)")
    db_parent.add_argument("--clinician", metavar="USERNAME", default=argparse.SUPPRESS,
                           help="who is recording (default: $STEPBACK_CLINICIAN or the login name)")
    db_parent.add_argument("--create", action="store_true", default=argparse.SUPPRESS,
                           help="make a new SQLite database at --db (or $STEPBACK_DATABASE_URL) when there is none; "
                                "without it a missing file is an error")
    parser = Parser(prog="stepback", description="Fall-risk screening with the 3-meter backward walk test.")
    parser.add_argument("--db", metavar="URL_OR_PATH", help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    p = sub.add_parser("score", help="score a walk (or a CSV of walks) without storing it")
    p.add_argument("--age", help="age in whole years (18–120)")
    p.add_argument("--sex", help="female | male")
    p.add_argument("--population", help="population id (default community)")
    p.add_argument("--trial", action="append", metavar="SECONDS", help="a timed trial, seconds (repeat)")
    p.add_argument("--previous", metavar="SECONDS", help="previous 3MBW time, to judge change against the MDC95")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--csv", metavar="FILE", help="batch: score every row of this CSV")
    p.add_argument("--out", metavar="FILE", help="batch: write the scored CSV here")
    _risk_options(p)
    p.add_argument("--db", metavar="URL_OR_PATH", default=argparse.SUPPRESS,
                   help="use the active model of this database (default: the shipped evidence model)")
    p.set_defaults(func=cmd_score)

    patient = sub.add_parser("patient", help="add or list patients")
    psub = patient.add_subparsers(dest="patient_command", metavar="ACTION", parser_class=Parser)
    p = psub.add_parser("add", parents=[db_parent], help="add a patient")
    p.add_argument("--mrn", required=True, help="medical record number (unique)")
    p.add_argument("--given", required=True, help="given name")
    p.add_argument("--family", required=True, help="family name")
    p.add_argument("--birth-date", required=True, help="YYYY-MM-DD")
    p.add_argument("--sex", required=True, help="female | male")
    p.add_argument("--population", default="community", help="population id (default community)")
    p.add_argument("--language", metavar="en|es|zh-Hans", help="preferred language of the patient handout (not recorded if left out)")
    p.set_defaults(func=cmd_patient_add)
    p = psub.add_parser("list", parents=[db_parent], help="list patients")
    p.add_argument("--search", help="MRN prefix or part of a name")
    p.add_argument("--limit", type=_whole(1, 100_000), default=100, help="at most this many (default 100)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_patient_list)

    p = sub.add_parser("assess", parents=[db_parent], help="record and score a finalised assessment")
    p.add_argument("--mrn", required=True, help="the patient's MRN")
    p.add_argument("--trial", action="append", required=True, metavar="SECONDS", help="a timed trial, seconds (repeat)")
    p.add_argument("--date", help="assessment date YYYY-MM-DD (default today)")
    p.add_argument("--start", default="standing", help="start convention: standing | rolling")
    p.add_argument("--json", action="store_true", help="print JSON")
    _risk_options(p)
    p.set_defaults(func=cmd_assess)

    p = sub.add_parser("amend", parents=[db_parent], help="amend a final assessment (a new version; the old one is kept)")
    p.add_argument("--assessment", type=_whole(1, MAX_ID), required=True, metavar="ID", help="the current version of a final assessment")
    p.add_argument("--reason", required=True, metavar="TEXT", help="why it is amended (1–500 characters)")
    p.add_argument("--trial", action="append", metavar="SECONDS", help="the corrected timed trials (repeat; replaces all)")
    p.add_argument("--date", help="corrected assessment date YYYY-MM-DD")
    p.add_argument("--start", help="corrected start convention: standing | rolling")
    p.add_argument("--prior-falls", metavar="0|1|2+", help="corrected falls in the past 12 months")
    p.add_argument("--walking-aid", metavar="yes|no", help="corrected: uses a walking aid")
    p.add_argument("--screen", action="append", metavar="KEY=yes|no", help="corrected safety-screen answers (all seven)")
    p.add_argument("--base-rate", metavar="P", help="the clinic's own pre-test fall rate (as for assess)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_amend)

    p = sub.add_parser("history", parents=[db_parent], help="a patient's assessments, oldest first")
    p.add_argument("--mrn", required=True, help="the patient's MRN")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_history)

    p = sub.add_parser("report", parents=[db_parent], help="print PDF reports (one, or a batch)")
    p.add_argument("--mrn", help="one report: the patient's MRN")
    p.add_argument("--assessment", type=_whole(1, MAX_ID), metavar="ID", help="one report: this assessment (default: the latest)")
    p.add_argument("--kind", choices=("patient", "clinician"), help="which report (a batch prints both by default)")
    p.add_argument("--out", metavar="FILE.pdf", help="one report: where to write it")
    p.add_argument("--due", action="store_true", help="batch: every patient whose reassessment date has come")
    p.add_argument("--from", dest="date_from", metavar="DATE", help="batch: assessments on or after this date")
    p.add_argument("--to", dest="date_to", metavar="DATE", help="batch: assessments on or before this date")
    p.add_argument("--out-dir", metavar="DIR", help="batch: folder for the PDFs")
    p.add_argument("--workers", type=_whole(1, MAX_REPORT_WORKERS), default=2, help="batch: worker processes (default 2, one per core)")
    p.add_argument("--clinic", metavar="NAME", help="clinic name printed on the reports (default: `clinic set`)")
    p.add_argument("--language", metavar="en|es|zh-Hans",
                   help="language of the patient handout (default: the patient's preferred language, else en)")
    p.set_defaults(func=cmd_report)

    clinic = sub.add_parser("clinic", help="the clinic printed on the reports: set, show")
    csub = clinic.add_subparsers(dest="clinic_command", metavar="ACTION", parser_class=Parser)
    p = csub.add_parser("set", parents=[db_parent], help="store the clinic's name and phone (and address, logo)")
    p.add_argument("--name", required=True, help="clinic name")
    p.add_argument("--phone", required=True, help="phone number patients call")
    p.add_argument("--address", help="postal address (optional)")
    p.add_argument("--logo", metavar="FILE", help="logo printed on both reports: PNG or JPEG, up to 512 KB "
                                                  "(default: keep the stored logo)")
    p.add_argument("--no-logo", action="store_true", help="remove the stored logo")
    p.set_defaults(func=cmd_clinic)
    p = csub.add_parser("show", parents=[db_parent], help="print the clinic settings")
    p.set_defaults(func=cmd_clinic)

    model = sub.add_parser("model", help="the fall-risk model: train, evaluate, card, recalibrate, activate, list")
    msub = model.add_subparsers(dest="model_command", metavar="ACTION", parser_class=Parser)
    p = msub.add_parser("train", help="rebuild the evidence model from clinical-evidence.md (fixed seed)")
    p.add_argument("--seed", type=_whole(0, 2**32 - 1), default=20250601, help="seed of the evidence cohort (default 20250601)")
    p.add_argument("--out", required=True, metavar="FILE.skops", help="where to write the fitted model")
    p.add_argument("--card", metavar="FILE.md", help="also write its model card here")
    p.set_defaults(func=cmd_model)
    p = msub.add_parser("evaluate", parents=[db_parent], help="metrics of the active model on an independent evidence cohort")
    p.add_argument("--seed", type=_whole(0, 2**32 - 1), default=20250602, help="seed of the evaluation cohort (default 20250602)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_model)
    p = msub.add_parser("card", parents=[db_parent], help="print the active model's card")
    p.set_defaults(func=cmd_model)
    p = msub.add_parser("recalibrate", parents=[db_parent], help="fit a local recalibration on the clinic's outcomes")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_model)
    p = msub.add_parser("activate", parents=[db_parent], help="make a saved version the active model")
    p.add_argument("version", metavar="VERSION", help="a version from `stepback model list`")
    p.set_defaults(func=cmd_model)
    p = msub.add_parser("list", parents=[db_parent], help="saved model versions (* = active)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_model)

    user = sub.add_parser("user", help="clinician accounts")
    usub = user.add_subparsers(dest="user_command", metavar="ACTION", parser_class=Parser)
    p = usub.add_parser("add", parents=[db_parent], help="add an account (password from a prompt or stdin)")
    p.add_argument("--username", required=True, help="sign-in name")
    p.add_argument("--admin", action="store_true", help="an administrator (the first account must be one)")
    p.add_argument("--display-name", help="name printed on reports")
    p.add_argument("--clinic", help="the clinic the clinician belongs to")
    p.set_defaults(func=cmd_user)
    p = usub.add_parser("disable", parents=[db_parent], help="disable an account (its history is kept)")
    p.add_argument("username", metavar="USERNAME", help="the account to disable")
    p.set_defaults(func=cmd_user)
    p = usub.add_parser("unlock", parents=[db_parent], help="clear an account's sign-in locks at every source")
    p.add_argument("username", metavar="USERNAME", help="the account to unlock")
    p.set_defaults(func=cmd_user)
    p = usub.add_parser("set-password", parents=[db_parent], help="set an account's password (from a prompt or stdin)")
    p.add_argument("username", metavar="USERNAME", help="the account")
    p.set_defaults(func=cmd_user)
    p = usub.add_parser("list", parents=[db_parent], help="list accounts")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_user)

    p = sub.add_parser("import", parents=[db_parent], help="import patients and past assessments (CSV) or patients (FHIR)")
    p.add_argument("--csv", metavar="FILE", help="the CSV to import (the columns export writes)")
    p.add_argument("--fhir", metavar="FILE", help="a FHIR Bundle or NDJSON of Patient resources (an EHR export)")
    p.set_defaults(func=cmd_import)
    p = sub.add_parser("export", parents=[db_parent], help="export to CSV, one patient to FHIR, or the clinic as FHIR NDJSON")
    p.add_argument("--csv", metavar="FILE", help="write every patient and assessment to this CSV")
    p.add_argument("--fhir", action="store_true", help="write one patient as a FHIR Bundle (JSON)")
    p.add_argument("--mrn", help="with --fhir: the patient")
    p.add_argument("--out", metavar="FILE.json", help="with --fhir: where to write the Bundle")
    p.add_argument("--fhir-bulk", action="store_true", help="admin: every patient as FHIR Bulk Data NDJSON files")
    p.add_argument("--out-dir", metavar="DIR", help="with --fhir-bulk: the folder for Patient/Observation/RiskAssessment.ndjson")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("quality", parents=[db_parent], help="quality measures: CMS139 falls screening, plan of care")
    p.add_argument("--measure", required=True, metavar="MEASURE", help="cms139")
    p.add_argument("--from", dest="date_from", required=True, metavar="DATE", help="first day of the period, YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", required=True, metavar="DATE", help="last day of the period, YYYY-MM-DD")
    p.add_argument("--visits", metavar="FILE.csv", help="the EHR visit list, columns mrn,date")
    p.add_argument("--clinic", metavar="NAME", help="only this clinic's patients (default: every patient)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--out", metavar="FILE.pdf", help="also write the PDF report (who is not yet screened)")
    p.set_defaults(func=cmd_quality)
    p = sub.add_parser("backup", parents=[db_parent], help="consistent copy of the SQLite database, safe while the app runs")
    p.add_argument("--out", required=True, metavar="FILE", help="the backup file to write")
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser("restore", parents=[db_parent], help="replace the SQLite database with a backup")
    p.add_argument("file", metavar="FILE", help="a backup made by `stepback backup`")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("serve", help="serve the app to a clinic: Caddy with TLS in front of several app processes")
    p.add_argument("--host", default="0.0.0.0", metavar="ADDRESS",
                   help="address the HTTPS server listens on (default 0.0.0.0, every interface)")
    p.add_argument("--port", type=int, default=8443, help="HTTPS port (default 8443)")
    p.add_argument("--workers", type=int, metavar="N", help="app processes (default: one per core)")
    p.add_argument("--backend-port", type=int, default=8601, metavar="PORT",
                   help="loopback port of the first app process; the others take the next ones (default 8601)")
    p.add_argument("--name", action="append", metavar="HOST",
                   help="a host name or IP address the tablets use, for the internal CA's certificate (repeat)")
    p.add_argument("--cert", type=Path, metavar="FILE.pem", help="the clinic's TLS certificate (PEM; with --key)")
    p.add_argument("--key", type=Path, metavar="FILE.pem", help="the clinic certificate's private key (PEM)")
    p.add_argument("--session-ttl", type=int, default=120, metavar="SECONDS",
                   help="keep a session whose websocket dropped this long for the browser to reconnect (default 120)")
    p.set_defaults(func=cmd_serve)
    return parser


def _risk_options(p) -> None:
    """Predictors and the pre-test override shared by `score` and `assess`."""
    p.add_argument("--prior-falls", metavar="0|1|2+", help="falls in the past 12 months (unknown if left out)")
    p.add_argument("--walking-aid", metavar="yes|no", help="uses a walking aid (unknown if left out)")
    p.add_argument("--stay-independent", metavar="POINTS", help="STEADI Stay Independent score, 0–14")
    p.add_argument("--tug", metavar="SECONDS", help="STEADI Timed Up and Go, seconds")
    p.add_argument("--chair-stand", metavar="COUNT", help="STEADI 30-second chair stand, number of stands")
    p.add_argument("--tandem", metavar="SECONDS", help="STEADI 4-stage balance: seconds the tandem stance was held")
    p.add_argument("--base-rate", metavar="P", help="the clinic's own pre-test fall rate, 0 < P < 1 (recalibration-in-the-large)")
    p.add_argument("--screen", action="append", metavar="KEY=yes|no",
                   help="a safety-screen answer (repeat for all seven; keys as in the CSV columns); "
                        "without them the program is supervised")


@functools.cache
def _parser() -> Parser:
    """The command line, built once per process (argparse parsers keep no state between parses)."""
    return build_parser()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``stepback`` console script."""
    code = EXIT_BAD_INPUT
    try:
        code = _run(_parser(), argv)
        if code == EXIT_OK:
            for warning in _WARNINGS:
                print(warning, file=sys.stderr)
        return code
    finally:
        _WARNINGS.clear()
        while _OPENED:  # release the connections (main may run many times in one process)
            _OPENED.pop().dispose()
        while _CREATED:  # a refused command leaves no new, empty database behind
            created = _CREATED.pop()
            if code != EXIT_OK:
                for suffix in ("", "-wal", "-shm", "-journal"):
                    with contextlib.suppress(OSError):
                        Path(f"{created}{suffix}").unlink(missing_ok=True)


def _check_text(argv: Sequence[str]) -> None:
    """Refuse an argument that is not UTF-8 text (bytes the shell passed that decode to lone surrogates)."""
    for i, token in enumerate(argv):
        try:
            token.encode("utf-8")
        except UnicodeEncodeError:
            before = argv[i - 1] if i and argv[i - 1].startswith("-") else None
            field = before.partition("=")[0] if before else (token.partition("=")[0] if token.startswith("-") else "argument")
            raise CommandError(f"{_printable(field)[:40]}: {_printable(token)[:60]!r} is not UTF-8 text; allowed: UTF-8 "
                               "names, numbers and paths") from None


def _printable(text: str) -> str:
    """``text`` with anything that is not UTF-8 shown as an escape."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _run(parser: Parser, argv: Sequence[str] | None) -> int:
    """Parse ``argv``, run the command, and turn every refusal into one line and exit code 2."""
    try:
        _check_text(sys.argv[1:] if argv is None else argv)
        args = parser.parse_args(argv)
        func: Callable | None = getattr(args, "func", None)
        if func is None:
            parser.print_help()
            return EXIT_BAD_INPUT
        return func(args)
    except CommandError as err:
        print(_one_line(f"{err.prog}: error: {err}"), file=sys.stderr)
        return EXIT_BAD_INPUT
    except InputError as err:
        print(_one_line(f"stepback: error: {err.field}: {err.message}"), file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as err:  # disk full, permission, a name too long ...: one line, never a traceback
        where = f" ({str(err.filename)[:120]})" if getattr(err, "filename", None) else ""
        print(_one_line(f"stepback: error: file: {err.strerror or type(err).__name__}{where}"), file=sys.stderr)
        return EXIT_BAD_INPUT
    except ImportError as err:  # e.g. --db mysql://...: no driver for that database
        print(_one_line(f"stepback: error: database: no driver for it ({err.name or err}); "
                        "allowed: a SQLite file, sqlite:///PATH or postgresql+psycopg://..."), file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as err:
        if not type(err).__module__.startswith("sqlalchemy"):
            raise
        # an unreachable server, not a database ...: SQLAlchemy is imported only by the commands that use it
        print(_one_line(f"stepback: error: database: cannot use the database ({type(err).__name__}: "
                        f"{str(getattr(err, 'orig', None) or err).splitlines()[0][:160]})"), file=sys.stderr)
        return EXIT_BAD_INPUT


#: Every character :meth:`str.splitlines` breaks a line at, and how an error line shows it.
_LINE_BREAKS = str.maketrans({c: repr(c)[1:-1] for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"})


def _one_line(text: str) -> str:
    """The error contract is one line: show any line break in echoed input escaped."""
    return text.translate(_LINE_BREAKS)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
