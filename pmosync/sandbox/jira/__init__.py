"""Jira Cloud and Data Center emulator (see ``emulator.py`` for knobs and ``seed.py`` for data)."""

from __future__ import annotations

from pmosync.sandbox.jira.emulator import JiraEmulator
from pmosync.sandbox.jira.seed import CUSTOM_FIELD_OFFSETS, SeedSpec, build_state, custom_field_id

__all__ = ["CUSTOM_FIELD_OFFSETS", "JiraEmulator", "SeedSpec", "build_state", "custom_field_id"]
