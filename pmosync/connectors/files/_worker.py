"""The MPXJ side of the file reader: runs only inside the worker process that holds the JVM.

Nothing here imports Java at module level, so the parent process (and tests of the pure helpers)
can import this module without starting a JVM. Everything returned is plain Python data from
``model.py``: JPype proxies cannot be pickled and must never leak out of the worker.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import signal
import tempfile
import time
from collections.abc import Iterable
from datetime import date, datetime
from functools import cache
from multiprocessing.connection import Connection
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from pmosync.connectors.files.model import (
    CustomFieldDefinition,
    CustomValue,
    EntityKind,
    FileErrorKind,
    LinkType,
    ScheduleAssignment,
    ScheduleBaseline,
    ScheduleCalendar,
    ScheduleCalendarException,
    ScheduleFile,
    ScheduleFileError,
    ScheduleLink,
    ScheduleProperties,
    ScheduleResource,
    ScheduleTask,
)

# A JVM that crashes writes hs_err_pid<pid>.log into the current directory, i.e. into the
# user's project folder; the temp directory is the place for it, and the parent names it.
_CRASH_LOG = str(Path(tempfile.gettempdir()) / "pmosync-mpxj-hs_err_pid{pid}.log")

# log4j2 otherwise prints a "no logging provider" warning on every start; MPXJ has nothing to
# say through it that an import run needs.
JVM_OPTIONS: tuple[str, ...] = (
    "-Dlog4j2.loggerContextFactory=org.apache.logging.log4j.simple.SimpleLoggerContextFactory",
    "-Djava.awt.headless=true",
    "-XX:ErrorFile=" + _CRASH_LOG.format(pid="%p"),
)

_LINK_TYPES: dict[str, LinkType] = {
    "FINISH_START": "FS",
    "START_START": "SS",
    "FINISH_FINISH": "FF",
    "START_FINISH": "SF",
}
_ENTITY_KINDS: dict[str, EntityKind] = {
    "TASK": "task",
    "RESOURCE": "resource",
    "ASSIGNMENT": "assignment",
    "PROJECT": "project",
}
# Enterprise fields outside MPXJ's custom-field list (e.g. ENTERPRISE_PROJECT_TEXT1 on the project
# summary task) still carry user data; their *_UNITS and ENTERPRISE_DATA siblings do not.
_VALUE_DATA_TYPES = frozenset({"STRING", "NUMERIC", "DATE", "BOOLEAN", "CURRENCY", "DURATION"})
# MSPDI's "no resource" marker; MPXJ passes it through for some formats.
_NO_RESOURCE_UID = -65535
_HASH_CHUNK = 1 << 20


def duration_minutes(
    value: float, unit: str, *, minutes_per_day: int, minutes_per_week: int, days_per_month: int
) -> float | None:
    """Convert an MPXJ Duration (value, TimeUnit name) to minutes.

    Working units use the file's own calendar settings, as MS Project does when it shows "1w";
    elapsed units are wall-clock (a day is 24h, a month 30 days). Percent units are relative to
    another duration and have no minutes on their own, so they give None.
    """
    factor = _unit_minutes(minutes_per_day, minutes_per_week, days_per_month).get(unit)
    if factor is None:
        return None
    # Files store tenths of a minute; rounding strips float noise such as 479.99999 from
    # values MPXJ converted into days and back.
    return round(value * factor, 3)


@cache
def _unit_minutes(
    minutes_per_day: int, minutes_per_week: int, days_per_month: int
) -> dict[str, int]:
    return {
        "MINUTES": 1,
        "HOURS": 60,
        "DAYS": minutes_per_day,
        "WEEKS": minutes_per_week,
        "MONTHS": days_per_month * minutes_per_day,
        "YEARS": 12 * days_per_month * minutes_per_day,
        "ELAPSED_MINUTES": 1,
        "ELAPSED_HOURS": 60,
        "ELAPSED_DAYS": 24 * 60,
        "ELAPSED_WEEKS": 7 * 24 * 60,
        "ELAPSED_MONTHS": 30 * 24 * 60,
        "ELAPSED_YEARS": 365 * 24 * 60,
    }


def crash_log(pid: int) -> Path:
    """Where the worker's JVM writes its report if it crashes."""
    return Path(_CRASH_LOG.format(pid=pid))


def start_jvm() -> None:
    import jpype
    import mpxj  # noqa: F401  (importing it puts MPXJ's jars on the class path)

    # interrupt=False: Ctrl-C is the parent's to handle; the JVM must not install its own
    # SIGINT handler in the worker.
    jpype.startJVM(*JVM_OPTIONS, convertStrings=True, interrupt=False)


def serve(conn: Connection) -> None:
    """Worker process entry point: start the JVM once, then read one path per request."""
    # Ctrl-C reaches the whole process group; the parent decides what stops, and kills this
    # process if need be, so the worker must not die with a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    started = time.perf_counter()
    try:
        start_jvm()
        # The JVM (through JPype) takes over SIGTERM and, when it arrives (the parent exiting
        # with the worker still alive, a `kill`), calls back into Python and segfaults, leaving
        # an hs_err_pid*.log in the user's directory. Plain termination is what is wanted.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        versions = _versions()
    except BaseException as exc:  # noqa: BLE001  (the parent turns this into a ConfigError)
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", os.getpid(), time.perf_counter() - started, versions))
    while True:
        try:
            request = conn.recv()
        except EOFError:  # the parent went away; nothing left to serve
            return
        if request is None:
            return
        path = Path(request)
        try:
            files = read_path(path)
        except Exception as exc:  # noqa: BLE001  (e.g. a PermissionError: one file, not the batch)
            files = _failed(path, "unreadable", f"cannot read it: {_java_message(exc)}")
        conn.send(("done", files))


def read_path(path: Path) -> list[ScheduleFile]:
    """Read every project in one file; failures come back as one ScheduleFile with ``error``."""
    started = time.perf_counter()
    if not path.exists():
        return _failed(path, "not_found", "no such file")
    if not path.is_file():
        return _failed(path, "unreadable", "not a regular file")
    try:
        sha256 = _sha256(path)
    except OSError as exc:
        return _failed(path, "unreadable", f"cannot open it: {exc.strerror or exc}")

    try:
        projects = _read_projects(path)
    except Exception as exc:  # noqa: BLE001  (any MPXJ failure is this file's problem only)
        message = f"MPXJ could not read it: {_java_message(exc)}"
        return _failed(path, "unreadable", message, sha256=sha256)
    if not projects:
        message = (
            "not a schedule file MPXJ recognises, or a damaged one (expected .mpp, "
            "MSPDI .xml, .xer, PMXML or another format MPXJ reads)"
        )
        return _failed(path, "not_a_schedule", message, sha256=sha256)
    files: list[ScheduleFile] = []
    for index, project in enumerate(projects):
        try:
            extracted = _Extractor(project, projects).schedule_file(path, sha256, index)
        except Exception as exc:  # noqa: BLE001
            message = f"project {index} could not be extracted: {_java_message(exc)}"
            return _failed(path, "unreadable", message, sha256=sha256)
        files.append(extracted)
    timing = {"worker_pid": os.getpid(), "read_seconds": time.perf_counter() - started}
    return [f.model_copy(update=timing) for f in files]


def _failed(
    path: Path, kind: FileErrorKind, reason: str, *, sha256: str | None = None
) -> list[ScheduleFile]:
    """The one ScheduleFile that stands for a file that could not be read."""
    return [
        ScheduleFile(
            path=path,
            sha256=sha256,
            error=ScheduleFileError(kind=kind, message=f"{path}: {reason}"),
            worker_pid=os.getpid(),
        )
    ]


def _read_projects(path: Path) -> list[Any]:
    """Every project in the file; empty when MPXJ does not recognise the format."""
    proxy = _java().UniversalProjectReader().getProjectReaderProxy(str(path))
    if proxy is None:
        return []
    try:
        format_reader = proxy.getProjectReader()
        # A multi-project XER keeps links between its projects only when asked to; by default
        # MPXJ silently drops them, and cross-project logic is what a PMO imports XER for.
        if hasattr(format_reader, "setLinkCrossProjectRelations"):
            format_reader.setLinkCrossProjectRelations(True)
        return list(proxy.readAll())
    finally:
        proxy.close()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _java_message(exc: BaseException) -> str:
    """The exception and its Java causes: MPXJ's own message ("Failed to parse file") rarely
    says what is wrong, the parser's cause underneath usually does."""
    getter = getattr(exc, "getMessage", None)
    if not callable(getter):
        return f"{type(exc).__name__}: {exc}"
    parts: list[str] = []
    cause: Any = exc
    while cause is not None and len(parts) < 4:
        text = f"{cause.getClass().getSimpleName()}: {cause.getMessage()}"
        if text not in parts:
            parts.append(text)
        cause = cause.getCause()
    return "; caused by ".join(parts)


@cache
def _java() -> Any:
    """The Java classes the extractor needs, looked up once per worker."""
    import jpype

    def cls(name: str) -> Any:
        return jpype.JClass(name)

    field_lists = cls("org.mpxj.common.FieldLists")
    return SimpleNamespace(
        UniversalProjectReader=cls("org.mpxj.reader.UniversalProjectReader"),
        FieldTypeHelper=cls("org.mpxj.common.FieldTypeHelper"),
        CUSTOM_FIELDS_SET=field_lists.CUSTOM_FIELDS_SET,
        UserDefinedField=cls("org.mpxj.UserDefinedField"),
        Boolean=cls("java.lang.Boolean"),
        Number=cls("java.lang.Number"),
        LocalDateTime=cls("java.time.LocalDateTime"),
        LocalDate=cls("java.time.LocalDate"),
        Duration=cls("org.mpxj.Duration"),
        MANUALLY_SCHEDULED=cls("org.mpxj.TaskMode").MANUALLY_SCHEDULED,
    )


def _versions() -> dict[str, str]:
    import jpype

    # The jar's manifest carries no version; the wheel's metadata does.
    return {
        "java": str(jpype.JClass("java.lang.System").getProperty("java.version")),
        "mpxj": importlib.metadata.version("mpxj"),
        "jpype": importlib.metadata.version("JPype1"),
    }


def _dt(value: Any) -> datetime | None:
    if value is None:
        return None
    text = str(value)
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # e.g. nanosecond precision, which fromisoformat refuses
        return datetime(
            value.getYear(),
            value.getMonthValue(),
            value.getDayOfMonth(),
            value.getHour(),
            value.getMinute(),
            value.getSecond(),
        )


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _float(value: Any) -> float | None:
    return None if value is None else float(value.doubleValue())


def _str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text or None


def _name(enum_value: Any) -> str | None:
    return None if enum_value is None else str(enum_value.name())


def _calendar_uid(calendar: Any) -> int | None:
    return None if calendar is None else _int(calendar.getUniqueID())


def _minute_of_day(value: Any) -> int:
    return int(value.getHour()) * 60 + int(value.getMinute())


def _working_ranges(ranges: Any) -> tuple[tuple[int, int], ...]:
    """MPXJ LocalTimeRanges as (start, end) minutes; an end of 00:00 is midnight, i.e. 1440."""
    out: list[tuple[int, int]] = []
    for time_range in ranges:
        if time_range.getStart() is None or time_range.getEnd() is None:
            continue
        start = _minute_of_day(time_range.getStart())
        end = _minute_of_day(time_range.getEnd()) or 1440
        if end > start:
            out.append((start, end))
    return tuple(sorted(out))


class _Extractor:
    """Turns one MPXJ ProjectFile into a ScheduleFile, using that file's own time units."""

    def __init__(self, project: Any, file_projects: list[Any]) -> None:
        self._project = project
        self._file_projects = file_projects
        self._j = _java()
        props = project.getProjectProperties()
        self._props = props
        self._minutes_per_day = _int(props.getMinutesPerDay()) or 480
        self._minutes_per_week = _int(props.getMinutesPerWeek()) or 2400
        self._days_per_month = _int(props.getDaysPerMonth()) or 20
        self._definitions = self._custom_field_definitions()
        self._fields_by_entity: dict[str, list[tuple[str, Any]]] = {}
        for definition, field in self._definitions:
            self._fields_by_entity.setdefault(definition.entity, []).append((definition.key, field))

    def schedule_file(self, path: Path, sha256: str, index: int) -> ScheduleFile:
        tasks = self._tasks()
        task_minutes = {t.unique_id: t.duration_minutes for t in tasks}
        return ScheduleFile(
            path=path,
            sha256=sha256,
            project_index=index,
            properties=self._properties(),
            tasks=tuple(tasks),
            links=tuple(self._links(task_minutes)),
            resources=tuple(self._resources()),
            assignments=tuple(self._assignments()),
            custom_fields=tuple(definition for definition, _ in self._definitions),
            calendars=tuple(self._calendars()),
        )

    # -- conversions -------------------------------------------------------------------------

    def _minutes(self, duration: Any) -> float | None:
        if duration is None:
            return None
        return duration_minutes(
            float(duration.getDuration()),
            str(duration.getUnits().name()),
            minutes_per_day=self._minutes_per_day,
            minutes_per_week=self._minutes_per_week,
            days_per_month=self._days_per_month,
        )

    def _plain(self, value: Any) -> CustomValue:
        j = self._j
        if value is None or isinstance(value, str):
            return value
        # Java's Boolean is an int subclass in JPype, so it must be caught before int.
        if isinstance(value, (bool, j.Boolean)):
            return bool(value)
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return float(value)
        if isinstance(value, j.Number):
            return float(value.doubleValue())
        if isinstance(value, j.LocalDateTime):
            return _dt(value)
        if isinstance(value, j.LocalDate):
            return date(value.getYear(), value.getMonthValue(), value.getDayOfMonth())
        if isinstance(value, j.Duration):
            return self._minutes(value)
        return str(value)  # GUIDs, enums, lookup-table items: their text is the value

    # -- custom fields -----------------------------------------------------------------------

    def _is_custom(self, field: Any) -> bool:
        j = self._j
        if isinstance(field, j.UserDefinedField) or j.CUSTOM_FIELDS_SET.contains(field):
            return True
        data_type = _name(field.getDataType())
        return str(field.name()).startswith("ENTERPRISE_") and data_type in _VALUE_DATA_TYPES

    def _custom_field_definitions(self) -> list[tuple[CustomFieldDefinition, Any]]:
        """Every custom field that has an alias or a value, with its MPXJ field type."""
        project = self._project
        configured: dict[Any, Any] = {}
        for custom_field in project.getCustomFields():
            field = custom_field.getFieldType()
            if field is not None:
                configured[field] = custom_field
        populated: list[Any] = [
            field
            for container in (
                project.getTasks(),
                project.getResources(),
                project.getResourceAssignments(),
            )
            for field in container.getPopulatedFields()
            if self._is_custom(field)
        ]
        fields = list(configured) + [f for f in populated if f not in configured]

        definitions: list[tuple[CustomFieldDefinition, Any]] = []
        keys_in_use: set[tuple[str, str]] = set()
        for field in sorted(fields, key=lambda f: (str(f.getFieldTypeClass()), str(f.name()))):
            custom_field = configured.get(field)
            alias = _str(custom_field.getAlias()) if custom_field is not None else None
            field_name = str(field.getName())
            entity = _ENTITY_KINDS.get(str(field.getFieldTypeClass()), "other")
            key = alias or field_name
            if (entity, key) in keys_in_use:  # an alias that shadows another field's name
                key = f"{key} ({field_name})"
            keys_in_use.add((entity, key))
            lookup: tuple[str, ...] = ()
            if custom_field is not None and custom_field.getLookupTable() is not None:
                lookup = tuple(
                    str(item.getValue())
                    for item in custom_field.getLookupTable()
                    if item.getValue() is not None
                )
            field_id = int(self._j.FieldTypeHelper.getFieldID(field))
            definition = CustomFieldDefinition(
                entity=entity,
                field=str(field.name()),
                field_name=field_name,
                field_id=field_id if field_id >= 0 else None,
                data_type=_name(field.getDataType()),
                alias=alias,
                lookup_values=lookup,
                key=key,
            )
            definitions.append((definition, field))
        return definitions

    def _custom_values(self, entity: EntityKind, row: Any) -> dict[str, CustomValue]:
        values: dict[str, CustomValue] = {}
        for key, field in self._fields_by_entity.get(entity, ()):
            value = self._plain(row.get(field))
            if value is not None:
                values[key] = value
        return values

    # -- entities ----------------------------------------------------------------------------

    def _properties(self) -> ScheduleProperties:
        props = self._props
        return ScheduleProperties(
            name=_str(props.getName()),
            title=_str(props.getProjectTitle()),
            project_id=_str(props.getProjectID()),
            guid=_str(props.getGUID()),
            author=_str(props.getAuthor()),
            company=_str(props.getCompany()),
            start=_dt(props.getStartDate()),
            finish=_dt(props.getFinishDate()),
            status_date=_dt(props.getStatusDate()),
            creation_date=_dt(props.getCreationDate()),
            last_saved=_dt(props.getLastSaved()),
            minutes_per_day=self._minutes_per_day,
            minutes_per_week=self._minutes_per_week,
            days_per_month=self._days_per_month,
            currency_symbol=_str(props.getCurrencySymbol()),
            currency_code=_str(props.getCurrencyCode()),
            file_type=_str(props.getFileType()),
            file_application=_str(props.getFileApplication()),
            export_flag=self._export_flag(),
            default_calendar_unique_id=_calendar_uid(props.getDefaultCalendar()),
        )

    def _export_flag(self) -> bool | None:
        """P6's export flag, only where it says something: MPXJ reports False when the XER
        has no export_flag column at all, so it counts only in a file where some project has
        it set (a real P6 export: the exported projects Y, their external stubs N)."""
        if _str(self._props.getFileApplication()) != "Primavera":
            return None
        flags = [bool(p.getProjectProperties().getExportFlag()) for p in self._file_projects]
        return bool(self._props.getExportFlag()) if any(flags) else None

    def _baselines(self, task: Any) -> Iterable[ScheduleBaseline]:
        for number in range(11):
            # MPXJ numbers baselines 1-10 and exposes baseline 0 through the unnumbered getters.
            args: tuple[int, ...] = () if number == 0 else (number,)
            baseline = ScheduleBaseline(
                number=number,
                start=_dt(task.getBaselineStart(*args)),
                finish=_dt(task.getBaselineFinish(*args)),
                duration_minutes=self._minutes(task.getBaselineDuration(*args)),
                work_minutes=self._minutes(task.getBaselineWork(*args)),
                cost=_float(task.getBaselineCost(*args)),
            )
            # MPP files report zero duration, work and cost for a baseline never saved, so a
            # baseline is kept when it has a date or any non-zero amount: one that holds only
            # a cost, a duration or a work figure (entered by hand, or by an add-in) counts.
            amounts = (baseline.duration_minutes, baseline.work_minutes, baseline.cost)
            if baseline.start or baseline.finish or any(amounts):
                yield baseline

    def _tasks(self) -> list[ScheduleTask]:
        tasks: list[ScheduleTask] = []
        for task in self._project.getTasks():
            # Blank rows in the MS Project grid: no data, no links.
            if task.getNull() or task.getUniqueID() is None:
                continue
            parent = task.getParentTask()
            # The project summary task (UID 0) is MPXJ's root; it is not a real parent.
            parent_uid = None
            if parent is not None and (_int(parent.getOutlineLevel()) or 0) > 0:
                parent_uid = _int(parent.getUniqueID())
            duration = task.getDuration()
            constraint = task.getConstraintType()
            tasks.append(
                ScheduleTask(
                    unique_id=int(task.getUniqueID()),
                    id=_int(task.getID()),
                    guid=_str(task.getGUID()),
                    name=_str(task.getName()),
                    wbs=_str(task.getWBS()),
                    outline_number=_str(task.getOutlineNumber()),
                    outline_level=_int(task.getOutlineLevel()),
                    parent_unique_id=parent_uid,
                    summary=bool(task.getSummary()),
                    milestone=bool(task.getMilestone()),
                    manually_scheduled=task.getTaskMode() == self._j.MANUALLY_SCHEDULED,
                    active=bool(task.getActive()),
                    recurring=bool(task.getRecurring()),
                    external=bool(task.getExternalTask()),
                    inserted_project=bool(task.getExternalProject()),
                    subproject_file=_str(task.getSubprojectFile()),
                    subproject_task_id=_int(task.getSubprojectTaskID()),
                    subproject_task_unique_id=_int(task.getSubprojectTaskUniqueID()),
                    start=_dt(task.getStart()),
                    finish=_dt(task.getFinish()),
                    actual_start=_dt(task.getActualStart()),
                    actual_finish=_dt(task.getActualFinish()),
                    duration_minutes=self._minutes(duration),
                    duration_unit=None if duration is None else _name(duration.getUnits()),
                    remaining_duration_minutes=self._minutes(task.getRemainingDuration()),
                    work_minutes=self._minutes(task.getWork()),
                    percent_complete=_float(task.getPercentageComplete()),
                    early_start=_dt(task.getEarlyStart()),
                    early_finish=_dt(task.getEarlyFinish()),
                    late_start=_dt(task.getLateStart()),
                    late_finish=_dt(task.getLateFinish()),
                    total_slack_minutes=self._minutes(task.getTotalSlack()),
                    free_slack_minutes=self._minutes(task.getFreeSlack()),
                    critical=bool(task.getCritical()),
                    constraint_type=_name(constraint),
                    constraint_date=_dt(task.getConstraintDate()),
                    deadline=_dt(task.getDeadline()),
                    calendar_unique_id=_int(task.getCalendarUniqueID()),
                    ignore_resource_calendar=bool(task.getIgnoreResourceCalendar()),
                    baselines=tuple(self._baselines(task)),
                    notes=_str(task.getNotes()),
                    custom_fields=self._custom_values("task", task),
                )
            )
        return tasks

    def _links(self, task_minutes: dict[int, float | None]) -> list[ScheduleLink]:
        links: list[ScheduleLink] = []
        for relation in self._project.getRelations():
            predecessor = relation.getPredecessorTask()
            successor = relation.getSuccessorTask()
            if predecessor is None or successor is None:
                continue
            pred_uid = int(predecessor.getUniqueID())
            other_project_index = self._other_project_index(predecessor, successor)
            lag = relation.getLag()
            lag_value = 0.0 if lag is None else float(lag.getDuration())
            lag_unit = "DAYS" if lag is None else str(lag.getUnits().name())
            lag_minutes = self._minutes(lag) if lag is not None else 0.0
            if lag_unit in ("PERCENT", "ELAPSED_PERCENT"):
                # MS Project's "FS+50%": a share of the predecessor's duration.
                base = task_minutes.get(pred_uid)
                lag_minutes = None if base is None else round(base * lag_value / 100, 3)
            links.append(
                ScheduleLink(
                    unique_id=_int(relation.getUniqueID()),
                    predecessor_unique_id=pred_uid,
                    successor_unique_id=int(successor.getUniqueID()),
                    type=_LINK_TYPES[str(relation.getType().name())],
                    lag_minutes=lag_minutes,
                    lag_value=lag_value,
                    lag_unit=lag_unit,
                    lag_elapsed=lag_unit.startswith("ELAPSED_"),
                    other_project_index=other_project_index,
                )
            )
        return links

    def _other_project_index(self, predecessor: Any, successor: Any) -> int | None:
        """For a link to a task of another project in the same file: that project's index."""
        for task in (predecessor, successor):
            owner = task.getParentFile()
            if owner is not None and not owner.equals(self._project):
                for index, project in enumerate(self._file_projects):
                    if project.equals(owner):
                        return index
        return None

    def _calendars(self) -> list[ScheduleCalendar]:
        import jpype

        days = jpype.JClass("java.time.DayOfWeek").values()  # MONDAY first, as ours
        calendars: list[ScheduleCalendar] = []
        for calendar in self._project.getCalendars():
            if calendar.getUniqueID() is None:
                continue
            week: list[tuple[tuple[int, int], ...] | None] = []
            for day in days:
                day_type = _name(calendar.getCalendarDayType(day))
                if day_type == "NON_WORKING":
                    week.append(())
                elif day_type == "WORKING":
                    hours = calendar.getCalendarHours(day)
                    week.append(() if hours is None else _working_ranges(hours))
                else:  # DEFAULT: as the base calendar
                    week.append(None)
            # Expanded: a recurring exception arrives as one entry per occurrence.
            exceptions = [
                ScheduleCalendarException(
                    from_date=date.fromisoformat(str(exc.getFromDate())),
                    to_date=date.fromisoformat(str(exc.getToDate())),
                    name=_str(exc.getName()),
                    ranges=_working_ranges(exc) if exc.getWorking() else (),
                )
                for exc in calendar.getExpandedCalendarExceptions()
                if exc.getFromDate() is not None and exc.getToDate() is not None
            ]
            per_day = _int(calendar.getCalendarMinutesPerDay())
            per_month = _int(calendar.getCalendarMinutesPerMonth())
            calendars.append(
                ScheduleCalendar(
                    unique_id=int(calendar.getUniqueID()),
                    name=_str(calendar.getName()),
                    base_calendar_unique_id=_calendar_uid(calendar.getParent()),
                    week=tuple(week),
                    exceptions=tuple(exceptions),
                    minutes_per_day=per_day,
                    minutes_per_week=_int(calendar.getCalendarMinutesPerWeek()),
                    # MS Project keeps minutes per month; days follow from minutes per day.
                    days_per_month=per_month // per_day if per_month and per_day else None,
                )
            )
        return calendars

    def _resources(self) -> list[ScheduleResource]:
        resources: list[ScheduleResource] = []
        for resource in self._project.getResources():
            if resource.getUniqueID() is None or resource.getNull():
                continue
            resources.append(
                ScheduleResource(
                    unique_id=int(resource.getUniqueID()),
                    id=_int(resource.getID()),
                    guid=_str(resource.getGUID()),
                    name=_str(resource.getName()),
                    email=_str(resource.getEmailAddress()),
                    initials=_str(resource.getInitials()),
                    group=_str(resource.getGroup()),
                    type=_name(resource.getType()),
                    max_units_percent=_float(resource.getMaxUnits()),
                    calendar_unique_id=_calendar_uid(resource.getCalendar()),
                    custom_fields=self._custom_values("resource", resource),
                )
            )
        return resources

    def _assignments(self) -> list[ScheduleAssignment]:
        assignments: list[ScheduleAssignment] = []
        for assignment in self._project.getResourceAssignments():
            task_uid = _int(assignment.getTaskUniqueID())
            if task_uid is None:
                continue
            resource_uid = _int(assignment.getResourceUniqueID())
            if resource_uid is not None and resource_uid == _NO_RESOURCE_UID:
                resource_uid = None
            assignments.append(
                ScheduleAssignment(
                    unique_id=_int(assignment.getUniqueID()),
                    task_unique_id=task_uid,
                    resource_unique_id=resource_uid,
                    work_minutes=self._minutes(assignment.getWork()),
                    actual_work_minutes=self._minutes(assignment.getActualWork()),
                    remaining_work_minutes=self._minutes(assignment.getRemainingWork()),
                    units_percent=_float(assignment.getUnits()),
                    start=_dt(assignment.getStart()),
                    finish=_dt(assignment.getFinish()),
                    cost=_float(assignment.getCost()),
                    custom_fields=self._custom_values("assignment", assignment),
                )
            )
        return assignments
