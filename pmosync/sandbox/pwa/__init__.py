"""Project Web App (Project Online / Project Server) REST emulator.

``PwaEmulator(seed=SeedSpec(...), token_validator=entra.validate)`` serves
``{site}/_api/ProjectServer``, ``{site}/_api/ProjectData`` and ``{site}/_api/contextinfo``;
see :mod:`pmosync.sandbox.pwa.emulator` for the wire behaviour and knobs and
:mod:`pmosync.sandbox.pwa.seed` for what the seed contains.
"""

from __future__ import annotations

from pmosync.sandbox.pwa.emulator import DEFAULT_KNOBS, PwaEmulator
from pmosync.sandbox.pwa.seed import PROGRAMMES, PROJECT_FIELDS, RAG_VALUES, TASK_FIELDS, SeedSpec

__all__ = [
    "DEFAULT_KNOBS",
    "PROGRAMMES",
    "PROJECT_FIELDS",
    "RAG_VALUES",
    "TASK_FIELDS",
    "PwaEmulator",
    "SeedSpec",
]
