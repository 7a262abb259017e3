"""Dataverse Web API emulator (Planner Premium / Project for the web) for the sandbox."""

from __future__ import annotations

from pmosync.sandbox.dataverse.emulator import API, DataverseEmulator
from pmosync.sandbox.dataverse.seed import PlanSpec, SeedSpec, seeder

__all__ = ["API", "DataverseEmulator", "PlanSpec", "SeedSpec", "seeder"]
