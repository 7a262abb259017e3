"""File import (`pmo-sync import`): .mpp, MSPDI .xml, .xer and PMXML read through MPXJ.

``read_schedule_files`` gives plain ``ScheduleFile`` data; mapping it into the canonical model
happens elsewhere. Importing this package never starts Java.
"""

from __future__ import annotations

from pmosync.connectors.files.model import (
    CustomFieldDefinition,
    ScheduleAssignment,
    ScheduleBaseline,
    ScheduleFile,
    ScheduleFileError,
    ScheduleLink,
    ScheduleProperties,
    ScheduleResource,
    ScheduleTask,
)
from pmosync.connectors.files.reader import java_available, read_schedule_files

__all__ = [
    "CustomFieldDefinition",
    "ScheduleAssignment",
    "ScheduleBaseline",
    "ScheduleFile",
    "ScheduleFileError",
    "ScheduleLink",
    "ScheduleProperties",
    "ScheduleResource",
    "ScheduleTask",
    "java_available",
    "read_schedule_files",
]
