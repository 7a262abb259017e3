"""Which project each file of an import is: one plan, a later save of it, or another plan.

MS Project gives every plan a GUID, but a plan copied to start another one (File > Save As,
then edited into a new plan) keeps it, and so do its tasks. The GUID alone would merge two
plans into one project. So a plan is known by its *signature* too, and the rule is:

* two files with the same project identity (GUID, else P6 ID, title or name, see
  ``mapper.project_identity``) are **the same plan** when they were read from the same path,
  or when neither their creation dates nor their titles differ (a part a file lacks does not
  count against it). A later save keeps its creation date and, almost always, its title;
* otherwise they are **different plans**: the first one imported keeps the plain identity, the
  other one gets ``{identity}~{8 hex digits of its signature}`` and its tasks are keyed under
  that id (a copied plan shares its task GUIDs too), and the run report names both files.

A title changed on a later save that is also saved under another path is the one case this
splits wrongly into two projects; it shows as a warning naming both files, where merging two
plans would have been silent. The signature of every imported project is kept as the project
link's ``external_key`` so that a later run, which sees only the store, can apply the rule.

Pure: the store's side arrives as ``StoredProject`` values, built by the connector.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from pmosync.connectors.files.model import ScheduleFile

__all__ = [
    "PlanIds",
    "PlanSignature",
    "StoredProject",
    "file_basename",
    "plan_signature",
    "resolve_plan_ids",
    "same_plan",
]

# The Link.external_key column holds 255 characters; the path is cut on the left (its file
# name, what subproject references are matched by, stays).
_KEY_CHARS = 255
_SEP = "~"


def _digest(text: str, length: int = 16) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def file_basename(path_text: str) -> str:
    """``C:\\Plans\\Sub.mpp`` and ``/x/sub.mpp`` both give ``sub.mpp``: MS Project keeps the
    path of the author's machine, and only the file name can be compared with ours."""
    return path_text.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1].strip().casefold()


@dataclass(frozen=True)
class PlanSignature:
    created: str | None  # the plan's creation date, ISO
    title: str | None  # its Title property, case-folded
    path_hash: str  # of the absolute path it was read from
    path: str  # that path (cut on the left when long)

    def key(self) -> str:
        """As stored in the project link's ``external_key``."""
        parts = [self.created, self.title, self.path_hash]
        text = json.dumps([*parts, self.path], ensure_ascii=False)
        if len(text) > _KEY_CHARS:
            room = _KEY_CHARS - len(json.dumps([*parts, ""], ensure_ascii=False)) - 1
            text = json.dumps([*parts, "…" + self.path[-max(room, 0) :]], ensure_ascii=False)
            while len(text) > _KEY_CHARS:  # escapes made it longer than counted
                room -= 8
                text = json.dumps([*parts, "…" + self.path[-max(room, 0) :]], ensure_ascii=False)
        return text

    @classmethod
    def parse(cls, text: str | None) -> PlanSignature | None:
        """A stored key, or None for one written before signatures existed (or by hand)."""
        if not text:
            return None
        try:
            created, title, path_hash, path = json.loads(text)
        except (ValueError, TypeError):
            return None
        if not isinstance(path_hash, str) or not isinstance(path, str):
            return None
        return cls(created, title, path_hash, path)


def plan_signature(sf: ScheduleFile) -> PlanSignature:
    props = sf.properties
    created: datetime | None = props.creation_date if props else None
    title = (props.title or "").strip().casefold() if props else ""
    return PlanSignature(
        created=created.isoformat() if created else None,
        title=title or None,
        path_hash=_digest(str(sf.path)),
        path=str(sf.path),
    )


def same_plan(a: PlanSignature, b: PlanSignature) -> bool:
    """The rule in the module docstring: same path, or nothing known that differs."""
    if a.path_hash == b.path_hash:
        return True
    if a.created and b.created and a.created != b.created:
        return False
    return not (a.title and b.title and a.title != b.title)


def _difference(a: PlanSignature, b: PlanSignature) -> str:
    if a.created and b.created and a.created != b.created:
        return f"created {a.created} and {b.created}"
    return f"titled {a.title!r} and {b.title!r}"


@dataclass(frozen=True)
class StoredProject:
    """A project an earlier import of this connection stored."""

    external_id: str
    signature: PlanSignature | None
    name: str | None = None
    code: str | None = None
    external: bool = False


@dataclass
class PlanIds:
    ids: dict[int, str]  # position in the batch -> project external id
    base: dict[int, str]  # position -> the identity the file itself carries
    warnings: list[str]


def resolve_plan_ids(
    files: Sequence[ScheduleFile],
    identities: Mapping[int, str],
    stored: Mapping[str, StoredProject],
) -> PlanIds:
    """Each readable file's project id, applying the same-plan rule against the store and
    the files before it in the batch. ``identities``: position -> the file's own identity."""
    claimed: dict[str, tuple[PlanSignature, str]] = {}  # id -> signature, where it is from
    # an external stub stored under an id holds it only until the real plan is imported
    stored = {eid: project for eid, project in stored.items() if not project.external}
    for external_id, project in stored.items():
        if project.signature is not None:
            claimed[external_id] = (project.signature, project.signature.path)
    legacy = {eid for eid, project in stored.items() if project.signature is None}
    out = PlanIds({}, {}, [])
    for position, sf in enumerate(files):
        identity = identities.get(position)
        if identity is None:
            continue
        out.base[position] = identity
        signature = plan_signature(sf)
        chosen = _match(identity, signature, claimed, legacy)
        if chosen is None:
            chosen = identity
            if identity in claimed:
                other_signature, other_path = claimed[identity]
                chosen = _free_id(identity, signature, claimed, legacy)
                out.warnings.append(
                    f"{sf.path} and {other_path} carry the same project id {identity} but are "
                    f"different plans ({_difference(signature, other_signature)}): "
                    f"{sf.path} is kept as its own project {chosen}"
                )
        claimed.setdefault(chosen, (signature, str(sf.path)))
        out.ids[position] = chosen
    return out


def _match(
    identity: str,
    signature: PlanSignature,
    claimed: Mapping[str, tuple[PlanSignature, str]],
    legacy: set[str],
) -> str | None:
    """The id of a known project that is this plan: the plain identity first."""
    candidates = sorted(
        (eid for eid in (*claimed, *legacy) if eid.startswith(identity + _SEP)),
    )
    for external_id in (identity, *candidates):
        if external_id in legacy and external_id not in claimed:
            return external_id  # stored before signatures: the old rule (same id, same plan)
        known = claimed.get(external_id)
        if known is not None and same_plan(known[0], signature):
            return external_id
    return None


def _free_id(
    identity: str,
    signature: PlanSignature,
    claimed: Mapping[str, tuple[PlanSignature, str]],
    legacy: set[str],
) -> str:
    seed = f"{signature.created}|{signature.title}|{signature.path_hash}"
    for attempt in range(100):
        candidate = f"{identity}{_SEP}{_digest(f'{seed}|{attempt}' if attempt else seed, 8)}"
        if candidate not in claimed and candidate not in legacy:
            return candidate
    raise AssertionError("100 colliding digests")  # pragma: no cover
