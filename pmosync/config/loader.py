"""Load ``pmo-sync.yaml`` and every team mapping, reporting all problems at once.

Each problem reads ``file:line › key.path: message`` so an editor can jump to it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from pmosync.canonical_model import ENTITY_CLASSES, EntityType
from pmosync.config.mapping import TeamMapping
from pmosync.config.models import PmoSyncConfig
from pmosync.config.secrets import FORBIDDEN_SECRET_KEYS
from pmosync.config.yamlsource import YamlDocument, load_yaml
from pmosync.errors import ConfigError

_PATH_KEYS = {
    "token_file",
    "ca_bundle",
    "client_secret_file",
    "token_cache",
    "password_file",
    "mapping",
}


@dataclass
class LoadedConfig:
    path: Path
    config: PmoSyncConfig
    mappings: dict[str, TeamMapping] = field(default_factory=dict)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def mappings_for(self, connection: str) -> list[TeamMapping]:
        return [m for m in self.mappings.values() if m.connection == connection]

    def store_url(self) -> str:
        import os

        store = self.config.store
        url = store.url
        if store.url_env:
            url = os.environ.get(store.url_env, "")
            if not url:
                raise ConfigError(f"store.url_env: environment variable {store.url_env} is empty")
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            url = prefix + str((self.base_dir / url[len(prefix) :]).resolve())
        return url


def _message(error: Any) -> str:
    kind = error["type"]
    key = error["loc"][-1] if error["loc"] else ""
    if kind == "extra_forbidden":
        if str(key).lower() in FORBIDDEN_SECRET_KEYS:
            return (
                f"secrets are not allowed in YAML; remove {key!r} and use {key}_env (an "
                f"environment variable) or {key}_file (a file) instead"
                if key in ("token", "client_secret")
                else f"secrets are not allowed in YAML; remove {key!r} and use token_env or "
                "token_file instead"
            )
        return f"unknown key {key!r}"
    if kind == "missing":
        return "missing required key"
    msg: str = error["msg"]
    return msg.removeprefix("Value error, ")


def _validation_problems(doc: YamlDocument, exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        if error["type"] == "union_tag_invalid":
            loc += (error["ctx"]["discriminator"].strip("'"),)  # point at the `kind:` line
        line, path = doc.locate(loc)
        problems.append(f"{doc.path}:{line} › {path}: {_message(error)}")
    return problems


def _resolve_paths(data: Any, base: Path) -> Any:
    """Make file paths in the YAML relative to the file that names them, not the cwd."""
    if isinstance(data, dict):
        return {
            k: (
                str(base / v)
                if k in _PATH_KEYS and isinstance(v, str) and not Path(v).is_absolute()
                else _resolve_paths(v, base)
            )
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [_resolve_paths(v, base) for v in data]
    return data


M = TypeVar("M", bound=BaseModel)


def _validate(model: type[M], doc: YamlDocument, problems: list[str]) -> M | None:
    try:
        return model.model_validate(_resolve_paths(doc.data, doc.path.parent))
    except ValidationError as exc:
        problems.extend(_validation_problems(doc, exc))
        return None


def _mapping_problems(doc: YamlDocument, mapping: TeamMapping) -> Iterator[str]:
    for entity_type, entity in mapping.entities.items():
        cls = ENTITY_CLASSES[entity_type]
        known = set(cls.model_fields)
        for name, field_mapping in entity.fields.items():
            loc: Sequence[str] = ("entities", entity_type.value, "fields", name)
            line, path = doc.locate(loc)
            if name not in known:
                yield (
                    f"{doc.path}:{line} › {path}: {entity_type.value} has no canonical field "
                    f"{name!r} (known: {', '.join(sorted(known))})"
                )
            elif name in cls.computed and field_mapping.direction in ("pull", "both"):
                yield (
                    f"{doc.path}:{line} › {path}.direction: {name} is computed by pmo-sync, "
                    "so it can only be pushed (direction: push)"
                )
        if entity.id_field and entity.id_field in entity.fields:
            line, path = doc.locate(("entities", entity_type.value, "id_field"))
            yield f"{doc.path}:{line} › {path}: the pmo-sync id field cannot also carry a field"


def load_config(path: Path | str) -> LoadedConfig:
    """Load and validate the configuration and every team mapping it names.

    Raises:
        ConfigError: with ``problems`` listing every error found, each as file:line › key: msg.
    """
    path = Path(path).resolve()
    problems: list[str] = []
    doc = load_yaml(path)
    config = _validate(PmoSyncConfig, doc, problems)
    loaded_mappings: dict[str, TeamMapping] = {}
    if config is not None:
        authorities: dict[tuple[EntityType, str], str] = {}
        for team, team_config in config.teams.items():
            line, where = doc.locate(("teams", team, "connection"))
            if team_config.connection not in config.connections:
                problems.append(
                    f"{path}:{line} › {where}: no connection named {team_config.connection!r} "
                    f"(defined: {', '.join(sorted(config.connections))})"
                )
                continue
            try:
                mdoc = load_yaml(team_config.mapping)
            except ConfigError as exc:
                problems.extend(
                    exc.problems or [f"{doc.where(('teams', team, 'mapping'))} › {exc}"]
                )
                continue
            mapping = _validate(TeamMapping, mdoc, problems)
            if mapping is None:
                continue
            problems.extend(_mapping_problems(mdoc, mapping))
            mapping = mapping.model_copy(
                update={
                    "team": team,
                    "connection": team_config.connection,
                    "source": str(mdoc.path),
                }
            )
            loaded_mappings[team] = mapping
            for entity_type, entity in mapping.entities.items():
                for name, fm in entity.fields.items():
                    if fm.conflict != "authority":
                        continue
                    other = authorities.setdefault((entity_type, name), team_config.connection)
                    if other != team_config.connection:
                        line, where = mdoc.locate(("entities", entity_type.value, "fields", name))
                        problems.append(
                            f"{mdoc.path}:{line} › {where}.conflict: {other} already is the "
                            f"authority for {entity_type.value}.{name}; only one system can be"
                        )
    if problems:
        raise ConfigError(f"{len(problems)} problem(s) in the configuration", problems=problems)
    assert config is not None
    return LoadedConfig(path=path, config=config, mappings=loaded_mappings)
