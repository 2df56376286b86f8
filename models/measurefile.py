"""Measure files: measures defined in a plan file's `measures:` list, in a file of their own
(YAML with a `measures:` list, or a CSV with one row per measure), and actuals in a CSV
(measure, period, value, note). Each is checked whole before anything is written; an error
names the entry or row at fault. Whether the departments, goals and initiatives they name exist
is checked when they are loaded into a plan (models/measures.py)."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from models.clean import clean_text
from models.measure_status import DEFAULT_BAND, Aggregation, Direction, Frequency
from models.periods import PeriodError, parse_period
from models.planfile import DATA_DIR, MAX_TEXT, FileReader, PlanFileError, slug

# Illustrative measures for the bundled plan, loaded by local mode: never the city's figures.
SAMPLE_MEASURES = DATA_DIR / "hartford-fy2016-sample-measures.yaml"
MAX_UNIT = 20
MAX_VALUE = 1e15  # larger is a typo, not a city's figure
_FY = re.compile(r"^FY(\d{4})$", re.IGNORECASE)
_NUMBER = re.compile(r"^[-+]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?$")
MEASURE_COLUMNS = ("key", "name", "unit", "direction")
MEASURE_OPTIONAL = (
    "description",
    "frequency",
    "aggregation",
    "department",
    "goals",
    "initiatives",
    "baseline",
    "baseline_period",
    "band",
    "targets",
    "aliases",
    "source_url",
    "source_format",
    "source_value",
    "source_period",
)
ACTUAL_COLUMNS = ("measure", "period", "value")
ACTUAL_OPTIONAL = ("note", "ref")
# Words people use for a unit, and the unit they mean.
UNITS = {
    "%": "%",
    "percent": "%",
    "percentage": "%",
    "count": "count",
    "number": "count",
    "days": "days",
    "day": "days",
    "hours": "hours",
    "hour": "hours",
    "minutes": "minutes",
    "dollars": "dollars",
    "dollar": "dollars",
    "$": "dollars",
    "usd": "dollars",
}


class MeasureFileError(PlanFileError):
    """A measure file, or a row of actuals, we refuse, with where the fault is (and, for a row
    of actuals, which of its fields)."""

    def __init__(self, where: str, problem: str, field: str | None = None) -> None:
        super().__init__(where, problem)
        self.field = field


class MeasureReader(FileReader):
    """Typed reads of a measure file, whose faults are MeasureFileErrors."""

    def fail(self, where: str, problem: str) -> PlanFileError:
        return MeasureFileError(f"{self.source} {where}", problem)


@dataclass(frozen=True)
class MeasureSource:
    url: str
    format: str  # "csv" or "json"
    value: str  # the column, or a dotted path into each JSON record
    period: str | None = None  # where each record names its period; None: the due period


@dataclass(frozen=True)
class MeasureSpec:
    key: str
    name: str
    unit: str
    direction: Direction
    frequency: Frequency = Frequency.MONTHLY
    aggregation: Aggregation = Aggregation.LATEST
    description: str = ""
    department: str | None = None  # a department key
    goals: tuple[str, ...] = ()  # goal keys
    initiatives: tuple[tuple[str | None, int], ...] = ()  # (department key or None, number)
    baseline: float | None = None
    baseline_period: str | None = None
    band: float = DEFAULT_BAND
    targets: tuple[tuple[str, float], ...] = ()  # ("FY2016" or "2026-10", value)
    aliases: tuple[str, ...] = ()
    source: MeasureSource | None = None
    where: str = field(default="", compare=False)  # the entry in its file, for errors


@dataclass(frozen=True)
class MeasureFile:
    measures: tuple[MeasureSpec, ...]
    sample: bool = False  # illustrative figures, not the city's
    description: str = ""


@dataclass(frozen=True)
class ActualRow:
    measure: str  # a key, name or alias, as written
    period: str
    value: float
    note: str = ""
    ref: str | None = None
    where: str = field(default="", compare=False)


def read_number(text: str) -> float | None:
    """'2.4', '1,234', '71%', '$1,200.50', '-3' → a float; None for anything else (no 'NaN',
    no 'inf', no '1e400')."""
    cleaned = text.strip().replace(" ", "")
    cleaned = cleaned.removeprefix("$").removesuffix("%")
    if not cleaned or not _NUMBER.match(cleaned) or cleaned in ("+", "-", "."):
        return None
    try:
        value = float(cleaned.replace(",", ""))
    except ValueError:
        return None
    if not math.isfinite(value) or abs(value) > MAX_VALUE:
        return None
    return value


def normal_unit(text: str) -> str:
    """A unit as stored: the known words folded ('percent' → '%'), others as written."""
    return UNITS.get(text.strip().lower(), text.strip())


def read_measure_file(path: Path | str) -> MeasureFile:
    target = Path(path)
    try:
        raw = target.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise MeasureFileError(str(target), "no such file") from exc
    except UnicodeDecodeError as exc:
        raise MeasureFileError(str(target), "not UTF-8 text") from exc
    suffix = target.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return parse_yaml_measures(raw, source=target.name)
    if suffix == ".csv":
        return parse_csv_measures(raw, source=target.name)
    raise MeasureFileError(str(target), "a measure file ends in .yaml, .yml or .csv")


def parse_yaml_measures(raw: str, source: str = "measures.yaml") -> MeasureFile:
    try:
        doc = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source} line {mark.line + 1}" if mark else source
        raise MeasureFileError(where, "not valid YAML") from exc
    if not isinstance(doc, dict) or "measures" not in doc:
        raise MeasureFileError(source, "expected a mapping with a measures list")
    reader = MeasureReader(source)
    measures = yaml_measures(reader, doc.get("measures"))
    sample = doc.get("sample", False)
    if not isinstance(sample, bool):
        raise MeasureFileError(f"{source} sample", "expected true or false")
    description = reader.text(doc.get("description"), "description", required=False)
    return MeasureFile(measures=measures, sample=sample, description=description)


def yaml_measures(reader: FileReader, items: Any) -> tuple[MeasureSpec, ...]:
    """A `measures:` list, in a plan file or a file of its own."""
    specs = tuple(
        _yaml_measure(reader, item, f"measures[{i}]")
        for i, item in enumerate(reader.sequence(items, "measures", required=False))
    )
    check_measures(specs, reader.source)
    return specs


def _yaml_measure(reader: FileReader, item: Any, where: str) -> MeasureSpec:
    data = reader.mapping(item, where)
    known = set(MEASURE_COLUMNS + MEASURE_OPTIONAL) | {"source"}
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise reader.fail(where, f"unknown field(s): {', '.join(unknown)}")
    targets = data.get("targets")
    if targets is not None and not isinstance(targets, dict):
        raise reader.fail(f"{where}.targets", "expected a mapping like {FY2016: 85}")
    source = data.get("source")
    if source is not None:
        source_data = reader.mapping(source, f"{where}.source")
        source_fields = {
            "source_url": source_data.get("url"),
            "source_format": source_data.get("format"),
            "source_value": source_data.get("value"),
            "source_period": source_data.get("period"),
        }
    else:
        source_fields = {}

    def cell(name: str) -> str:
        value = data.get(name, source_fields.get(name))
        if name in ("goals", "initiatives", "aliases") and isinstance(value, list):
            return ";".join(str(v) for v in value)
        if isinstance(value, bool | dict | list):
            raise reader.fail(f"{where}.{name}", "expected text or a number")
        return "" if value is None else str(value)

    return _measure(
        cell, lambda name, problem: reader.fail(f"{where}.{name}", problem), where, targets
    )


def parse_csv_measures(raw: str, source: str = "measures.csv") -> MeasureFile:
    """One row per measure: key, name, unit, direction and optionally the rest of
    MEASURE_OPTIONAL; lists separated by ';', targets as 'FY2016=85; FY2017=88'."""
    reader, header = _csv(raw, source, MEASURE_COLUMNS, MEASURE_OPTIONAL)
    specs = []
    for row_number, row in enumerate(reader, start=2):
        if None in row:
            raise MeasureFileError(f"{source} row {row_number}", "more cells than columns")
        if not any((row.get(c) or "").strip() for c in header):
            continue

        def cell(column: str, row: dict[str, Any] = row) -> str:
            return clean_text(row.get(column) or "").strip()

        def fail(column: str, problem: str, at: int = row_number) -> MeasureFileError:
            return MeasureFileError(f"{source} row {at}, column {column!r}", problem)

        specs.append(_measure(cell, fail, f"row {row_number}", None))
    specs_tuple = tuple(specs)
    check_measures(specs_tuple, source)
    return MeasureFile(measures=specs_tuple)


def _measure(cell: Any, fail: Any, where: str, targets: dict[str, Any] | None) -> MeasureSpec:
    """One measure from its cells (YAML fields or CSV columns, read alike)."""
    for name in ("key", "name", "unit", "direction", "description"):
        if len(cell(name)) > MAX_TEXT:
            raise fail(name, f"longer than {MAX_TEXT} characters")
    key = cell("key")
    if not key or slug(key) != key or len(key) > 60:
        raise fail("key", f"{key!r} is not a key: use lowercase letters, digits and - (60 at most)")
    name = cell("name")
    if not name:
        raise fail("name", "is missing")
    if len(name) > 300:
        raise fail("name", "longer than 300 characters")
    unit = normal_unit(cell("unit"))
    if not unit or len(unit) > MAX_UNIT:
        raise fail(
            "unit", f"give a unit of {MAX_UNIT} characters at most: %, count, days, dollars…"
        )
    direction = _choice(cell("direction"), Direction, "direction", fail, None)
    frequency = _choice(cell("frequency"), Frequency, "frequency", fail, Frequency.MONTHLY)
    aggregation = _choice(cell("aggregation"), Aggregation, "aggregation", fail, Aggregation.LATEST)
    band_text = cell("band")
    band = DEFAULT_BAND
    if band_text:
        read = read_number(band_text)
        if read is None:
            raise fail("band", f"{band_text!r} is not a number")
        band = read / 100 if band_text.strip().endswith("%") or read > 1 else read
        if not 0 <= band < 1:
            raise fail("band", f"{band_text!r}: a band is a share of the target, 0 to 99%")
    baseline_text = cell("baseline")
    baseline = None
    if baseline_text:
        baseline = read_number(baseline_text)
        if baseline is None:
            raise fail("baseline", f"{baseline_text!r} is not a number")
    baseline_period = _period(cell("baseline_period"), "baseline_period", fail) or None
    target_pairs: list[tuple[str, float]] = []
    if targets is None:
        for part in _split(cell("targets")):
            scope, sep, value = part.partition("=")
            if not sep:
                raise fail("targets", f"{part!r}: write targets as FY2016=85; 2026-10=80")
            target_pairs.append(_target(scope, value, fail))
    else:
        for scope, value in targets.items():
            target_pairs.append(_target(str(scope), str(value), fail))
    scopes = [s for s, _ in target_pairs]
    if len(set(scopes)) != len(scopes):
        raise fail("targets", "a fiscal year or period has two targets")
    initiatives: list[tuple[str | None, int]] = []
    for ref in _split(cell("initiatives")):
        words = ref.replace("#", " ").split()
        if not words or not words[-1].isdigit() or int(words[-1]) < 1 or len(words) > 2:
            raise fail("initiatives", f"{ref!r}: name an initiative as 3, or as fire 3")
        dept = slug(words[0]) if len(words) == 2 else None
        initiatives.append((dept, int(words[-1])))
    source = None
    url = cell("source_url")
    if url:
        if not url.startswith(("http://", "https://")):
            raise fail("source_url", f"{url!r} is not an http(s) URL")
        kind = cell("source_format").lower() or ("json" if url.lower().endswith(".json") else "csv")
        if kind not in ("csv", "json"):
            raise fail("source_format", f"{kind!r}: csv or json")
        value_field = cell("source_value")
        if not value_field:
            raise fail("source_value", "name the column (CSV) or path (JSON) holding the value")
        source = MeasureSource(url, kind, value_field, cell("source_period") or None)
    return MeasureSpec(
        key=key,
        name=name,
        unit=unit,
        direction=direction,
        frequency=frequency,
        aggregation=aggregation,
        description=cell("description"),
        department=slug(cell("department")) or None,
        goals=tuple(dict.fromkeys(slug(g) for g in _split(cell("goals")))),
        initiatives=tuple(dict.fromkeys(initiatives)),
        baseline=baseline,
        baseline_period=baseline_period,
        band=band,
        targets=tuple(target_pairs),
        aliases=tuple(a for a in _split(cell("aliases"))),
        source=source,
        where=where,
    )


def _choice(text: str, kind: Any, column: str, fail: Any, default: Any) -> Any:
    if not text:
        if default is None:
            raise fail(column, f"is missing: one of {', '.join(k.value for k in kind)}")
        return default
    try:
        return kind(text.strip().lower())
    except ValueError:
        raise fail(column, f"{text!r} is not one of {', '.join(k.value for k in kind)}") from None


def _period(text: str, column: str, fail: Any) -> str:
    if not text:
        return ""
    try:
        return parse_period(text)
    except PeriodError as exc:
        raise fail(column, str(exc)) from None


def _target(scope: str, value: str, fail: Any) -> tuple[str, float]:
    scope = scope.strip()
    fy = _FY.match(scope)
    if fy:
        scope = f"FY{fy.group(1)}"
    else:
        try:
            scope = parse_period(scope)
        except PeriodError:
            raise fail(
                "targets", f"{scope!r} is neither a fiscal year (FY2016) nor a period"
            ) from None
    number = read_number(value)
    if number is None:
        raise fail("targets", f"{value.strip()!r} is not a number (target for {scope})")
    return scope, number


def _split(cell: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;|]", cell) if part.strip()]


def check_measures(specs: tuple[MeasureSpec, ...], source: str) -> None:
    """Keys unique, and no name or alias naming two measures."""
    seen: dict[str, str] = {}
    for spec in specs:
        for word in (spec.key, spec.name, *spec.aliases):
            folded = word.casefold()
            if folded in seen and seen[folded] != spec.key:
                raise MeasureFileError(
                    f"{source} {spec.where}", f"{word!r} already names measure {seen[folded]!r}"
                )
            seen[folded] = spec.key
        if sum(1 for s in specs if s.key == spec.key) > 1:
            raise MeasureFileError(
                f"{source} {spec.where}", f"measure key {spec.key!r} appears twice"
            )


# --- actuals ----------------------------------------------------------------------------------


def read_actuals_file(path: Path | str) -> list[ActualRow]:
    target = Path(path)
    try:
        raw = target.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise MeasureFileError(str(target), "no such file") from exc
    except UnicodeDecodeError as exc:
        raise MeasureFileError(str(target), "not UTF-8 text") from exc
    if target.suffix.lower() != ".csv":
        raise MeasureFileError(str(target), "actuals are loaded from a .csv file")
    return parse_actuals_csv(raw, source=target.name)


def parse_actuals_csv(raw: str, source: str = "actuals.csv") -> list[ActualRow]:
    """measure, period, value, and optionally note and ref (the sender's reference)."""
    reader, _ = _csv(raw, source, ACTUAL_COLUMNS, ACTUAL_OPTIONAL)
    rows = []
    for row_number, row in enumerate(reader, start=2):
        if None in row:
            raise MeasureFileError(f"{source} row {row_number}", "more cells than columns")
        values = {k: clean_text(v or "").strip() for k, v in row.items() if k is not None}
        if not any(values.values()):
            continue
        rows.append(check_actual(values, f"{source} row {row_number}"))
    if not rows:
        raise MeasureFileError(source, "no actuals")
    return rows


def check_actual(values: dict[str, Any], where: str) -> ActualRow:
    """One actual, from a CSV row or a JSON object: measure, period, value, note, ref."""

    def text(name: str, limit: int) -> str:
        value = values.get(name)
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise MeasureFileError(f"{where}, {name!r}", "expected text", name)
        cleaned = clean_text(str(value)).strip()
        if len(cleaned) > limit:
            raise MeasureFileError(f"{where}, {name!r}", f"longer than {limit} characters", name)
        return cleaned

    measure = text("measure", 300)
    if not measure:
        raise MeasureFileError(f"{where}, 'measure'", "is missing", "measure")
    period_text = text("period", 20)
    try:
        period = parse_period(period_text)
    except PeriodError as exc:
        raise MeasureFileError(f"{where}, 'period'", str(exc), "period") from None
    raw = values.get("value")
    if isinstance(raw, bool) or raw is None or raw == "":
        raise MeasureFileError(f"{where}, 'value'", "is missing", "value")
    if isinstance(raw, int | float):
        value: float | None = float(raw) if math.isfinite(raw) and abs(raw) <= MAX_VALUE else None
    else:
        value = read_number(str(raw)) if isinstance(raw, str) else None
    if value is None:
        shown = str(raw)[:40]
        raise MeasureFileError(f"{where}, 'value'", f"{shown!r} is not a number", "value")
    return ActualRow(
        measure=measure,
        period=period,
        value=value,
        note=text("note", MAX_TEXT),
        ref=text("ref", 200) or None,
        where=where,
    )


def _csv(
    raw: str, source: str, required: tuple[str, ...], optional: tuple[str, ...]
) -> tuple[csv.DictReader[str], list[str]]:
    reader = csv.DictReader(io.StringIO(raw))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise MeasureFileError(f"{source} row 1", f"missing column(s): {', '.join(missing)}")
    unknown = [h for h in header if h not in required + optional]
    if unknown:
        raise MeasureFileError(f"{source} row 1", f"unknown column(s): {', '.join(unknown)}")
    reader.fieldnames = header
    return reader, header


# --- a measure's own data source --------------------------------------------------------------


def source_values(
    body: bytes, source: MeasureSource, default_period: str
) -> list[tuple[str, float]]:
    """(period, value) pairs read from what a measure's source URL returned: CSV with a header
    row, or JSON — a list of records, an object holding one (`source.value` and
    `source.period` are column names, or dotted paths into each record). Without a period
    field, the last record's value is `default_period`'s. Garbage raises MeasureFileError
    saying what was wrong; nothing is guessed."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MeasureFileError(source.url, "not UTF-8 text") from None
    if source.format == "csv":
        records: list[Any] = _csv_records(text, source)
    else:
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            raise MeasureFileError(source.url, "not JSON") from None
        records = document if isinstance(document, list) else [document]
    if not records:
        raise MeasureFileError(source.url, "no records")
    if source.period is None:
        records = records[-1:]
    found: dict[str, float] = {}
    for index, record in enumerate(records):
        where = f"{source.url} record {index + 1}"
        raw = _at(record, source.value)
        if raw is None:
            raise MeasureFileError(where, f"no {source.value!r} in it")
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise MeasureFileError(where, f"{source.value!r} is not a number")
        number = (
            float(raw)
            if isinstance(raw, int | float) and math.isfinite(raw) and abs(raw) <= MAX_VALUE
            else read_number(str(raw))
            if isinstance(raw, str)
            else None
        )
        if number is None:
            raise MeasureFileError(where, f"{str(raw)[:40]!r} is not a number")
        period = default_period
        if source.period is not None:
            raw_period = _at(record, source.period)
            try:
                period = parse_period(str(raw_period or "")[:7])
            except PeriodError:
                raise MeasureFileError(
                    where, f"{str(raw_period)[:40]!r} is not a period (YYYY-MM)"
                ) from None
        found[period] = number  # a later record of the same period wins
    return sorted(found.items())


def _csv_records(text: str, source: MeasureSource) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise MeasureFileError(source.url, "no header row")
    columns = {name.strip().lower(): name for name in reader.fieldnames if name}
    wanted = [source.value] + ([source.period] if source.period else [])
    for column in wanted:
        if column.strip().lower() not in columns:
            raise MeasureFileError(source.url, f"no column {column!r}")
    return [
        {key.strip().lower(): value for key, value in row.items() if isinstance(key, str)}
        for row in reader
    ]


def _at(record: Any, path: str) -> Any:
    """`record[a][b]` for the path "a.b" (a CSV column, lower-cased); None when absent."""
    if isinstance(record, dict) and path.strip().lower() in record and "." not in path:
        return record[path.strip().lower()]
    value = record
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value
