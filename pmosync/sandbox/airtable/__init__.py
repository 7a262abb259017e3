"""Loopback Airtable emulator (Web API + metadata API) for tests, the demo and benchmarks."""

from __future__ import annotations

from pmosync.sandbox.airtable.emulator import ALL_SCOPES, AirtableEmulator, TokenGrant

__all__ = ["ALL_SCOPES", "AirtableEmulator", "TokenGrant"]
