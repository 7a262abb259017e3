"""Load ``pmo-sync.yaml`` and every team mapping, reporting all problems at once.

Each problem reads ``file:line › key.path: message`` so an editor can jump to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError

from pmosync.canonical_model import ENTITY_CLASSES, EntityType
from pmosync.config.mapping import TeamMapping
from pmosync.config.models import ConnectionConfig, PmoSyncConfig
from pmosync.config.secrets import FORBIDDEN_SECRET_KEYS
from pmosync.config.yamlsource import YamlDocument, load_yaml
from pmosync.errors import ConfigError

_PATH_KEYS = {
    "token_file",
    "ca_bundle",
    "client_secret_file",
    "token_cache",
    "password_file",
    "url_file",
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

    def connection(self, name: str, kind: str | None = None) -> ConnectionConfig:
        """The named connection (of ``kind``, when given).

        Raises:
            ConfigError: naming the connections that would fit.
        """
        found = self.config.connections.get(name)
        if found is not None and (kind is None or found.kind == kind):
            return found
        fitting = sorted(n for n, c in self.config.connections.items() if kind in (None, c.kind))
        what = f"{kind} connection" if kind else "connection"
        raise ConfigError(
            f"no {what} named {name!r} in {self.path} (there: {', '.join(fitting) or 'none'})"
        )

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


def _mapping_problems(doc: YamlDocument) -> Iterator[str]:
    """Checks on the raw YAML, so they run even where the model found other errors."""
    entities = doc.data.get("entities") if isinstance(doc.data, dict) else None
    if not isinstance(entities, dict):
        return
    for key, entity in entities.items():
        try:
            entity_type = EntityType(key)
        except ValueError:
            continue  # the model reports an unknown entity type
        if not isinstance(entity, dict):
            continue
        cls = ENTITY_CLASSES[entity_type]
        known = set(cls.model_fields)
        fields = entity.get("fields")
        for name, field_mapping in (fields or {}).items() if isinstance(fields, dict) else ():
            line, path = doc.locate(("entities", key, "fields", name))
            direction = field_mapping.get("direction") if isinstance(field_mapping, dict) else None
            if name not in known:
                yield (
                    f"{doc.path}:{line} › {path}: {key} has no canonical field "
                    f"{name!r} (known: {', '.join(sorted(known))})"
                )
            elif name in cls.computed and direction in ("pull", "both"):
                yield (
                    f"{doc.path}:{line} › {path}.direction: {name} is computed by pmo-sync, "
                    "so it can only be pushed (direction: push)"
                )
        yield from _values_problems(doc, entity_type, fields)
        id_field = entity.get("id_field")
        if id_field and isinstance(fields, dict):
            # The id_field is a remote column; a canonical field carried by that same column
            # would overwrite the pmo-sync id (and identity with it) on every push.
            for name, raw in fields.items():
                remote = raw.get("field") if isinstance(raw, dict) else None
                if isinstance(remote, str) and remote.casefold() == str(id_field).casefold():
                    line, path = doc.locate(("entities", key, "fields", name, "field"))
                    yield (
                        f"{doc.path}:{line} › {path}: {remote!r} is this entity's id_field (it "
                        "holds the pmo-sync id); map the field to another column"
                    )
        jql = entity.get("jql")
        if isinstance(jql, str):
            problem = jql_fragment_problem(jql)
            if problem:
                line, path = doc.locate(("entities", key, "jql"))
                yield f"{doc.path}:{line} › {path}: {problem}"
    for key in _LOADER_FILLED & set(doc.data):
        line, path = doc.locate((key,))
        yield (
            f"{doc.path}:{line} › {path}: unknown key {key!r} (teams and connections are "
            "tied together in pmo-sync.yaml)"
        )


# TeamMapping fields the loader fills from pmo-sync.yaml; a mapping file must not set them.
_LOADER_FILLED = {"team", "connection", "source"}


def jql_fragment_problem(jql: str) -> str | None:
    """Why a mapping's JQL cannot be ANDed safely into pmo-sync's own query, or None.

    pmo-sync wraps the fragment in parentheses; an unbalanced ``)`` or an open quote would let
    it escape them (``x) OR (project = OTHER``) and widen the scope to records not meant.
    """
    depth = 0
    quote: str | None = None
    escaped = False
    for char in jql:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return "unbalanced ')' in the JQL: it would close pmo-sync's own parentheses"
    if quote:
        return f"unterminated {quote} quote in the JQL"
    if depth:
        return "unbalanced '(' in the JQL: close every parenthesis it opens"
    return None


def _values_problems(doc: YamlDocument, entity_type: EntityType, fields: Any) -> Iterator[str]:
    """`values` maps whose canonical side the canonical model would refuse: found now, not as
    a quarantined record at sync time."""
    from pmosync.canonical_model import validate_fields

    if not isinstance(fields, dict):
        return
    for name, raw in fields.items():
        values = raw.get("values") if isinstance(raw, dict) else None
        if name not in ENTITY_CLASSES[entity_type].model_fields or not isinstance(values, dict):
            continue
        for option, canonical in values.items():
            if canonical is None:
                continue
            try:
                validate_fields(entity_type, {name: canonical})
            except ValidationError as exc:
                if not any(err["loc"][:1] == (name,) for err in exc.errors()):
                    continue
                line, path = doc.locate(("entities", entity_type.value, "fields", name, "values"))
                yield (
                    f"{doc.path}:{line} › {path}.{option}: {canonical!r} is not a valid "
                    f"{entity_type.value}.{name}: {exc.errors()[0]['msg']}"
                )


def _unwritable(doc: YamlDocument, connection: Any) -> Iterator[str]:
    """Fields a mapping pushes that its connection's tool cannot take (config/writable.py)."""
    from pmosync.config.writable import meant_to_write, write_problem

    kind = connection.get("kind") if isinstance(connection, dict) else None
    entities = doc.data.get("entities") if isinstance(doc.data, dict) else None
    if not isinstance(kind, str) or not isinstance(entities, dict):
        return
    for key, entity in entities.items():
        if key not in EntityType.__members__.values() or not isinstance(entity, dict):
            continue
        entity_type = EntityType(key)
        fields = entity.get("fields")
        for name, raw in (fields or {}).items() if isinstance(fields, dict) else ():
            if name not in ENTITY_CLASSES[entity_type].model_fields:
                continue  # reported as an unknown field
            if not meant_to_write(entity_type, name, raw):
                continue
            reason = write_problem(kind, entity_type, name, raw, entity)
            if reason:
                line, path = doc.locate(("entities", key, "fields", name))
                yield f"{doc.path}:{line} › {path}: {kind} cannot write {name}: {reason}"


def _ca_bundle_problems(doc: YamlDocument, config: PmoSyncConfig | None) -> Iterator[str]:
    """A CA bundle that is missing or not PEM certificates is a local mistake (exit 2), found
    by `config validate`, not a "remote unavailable" at the first request."""
    import ssl

    for name, connection in (config.connections if config else {}).items():
        bundle = getattr(connection, "ca_bundle", None)
        if bundle is None:
            continue
        line, path = doc.locate(("connections", name, "ca_bundle"))
        try:
            ssl.create_default_context(cafile=str(bundle))
        except FileNotFoundError:
            yield f"{doc.path}:{line} › {path}: no such file {bundle}"
        except (ssl.SSLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or type(exc).__name__
            yield (
                f"{doc.path}:{line} › {path}: {bundle} holds no usable PEM certificate "
                f"({reason}); give the CA certificate(s) in PEM form"
            )


def _store_problems(doc: YamlDocument) -> Iterator[str]:
    store = doc.data.get("store") if isinstance(doc.data, dict) else None
    url = store.get("url") if isinstance(store, dict) else None
    if isinstance(url, str):
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            password = make_url(url).password
        except ArgumentError:
            line, path = doc.locate(("store", "url"))
            yield (
                f"{doc.path}:{line} › {path}: not a database URL; use e.g. "
                "sqlite:///pmo-sync.db or postgresql+psycopg://host/db (password in url_env)"
            )
            return
        if password:
            line, path = doc.locate(("store", "url"))
            yield (
                f"{doc.path}:{line} › {path}: the URL carries a password; secrets are not "
                "allowed in YAML: put the URL in an environment variable and name it in "
                "store.url_env"
            )


@dataclass
class _MappingFile:
    doc: YamlDocument | None
    mapping: TeamMapping | None


def _raw_dict(data: Any, key: str) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def load_config(path: Path | str, *, model: type[PmoSyncConfig] = PmoSyncConfig) -> LoadedConfig:
    """Load and validate the configuration and every team mapping it names.

    Every file is checked even when another has errors, so one run of `config validate`
    lists everything to fix.

    Raises:
        ConfigError: with ``problems`` listing every error found, each as file:line › key: msg.
    """
    path = Path(path).resolve()
    problems: list[str] = []
    doc = load_yaml(path)
    config = _validate(model, doc, problems)
    problems.extend(_store_problems(doc))
    problems.extend(_ca_bundle_problems(doc, config))
    connections = set(_raw_dict(doc.data, "connections"))
    files: dict[Path, _MappingFile] = {}
    loaded_mappings: dict[str, TeamMapping] = {}
    authorities: dict[tuple[EntityType, str], str] = {}
    for team, raw_team in _raw_dict(doc.data, "teams").items():
        if not isinstance(raw_team, dict):
            continue
        connection = raw_team.get("connection")
        if isinstance(connection, str) and connections and connection not in connections:
            line, where = doc.locate(("teams", team, "connection"))
            problems.append(
                f"{path}:{line} › {where}: no connection named {connection!r} "
                f"(defined: {', '.join(sorted(connections))})"
            )
        mapping_path = raw_team.get("mapping")
        if not isinstance(mapping_path, str):
            continue  # the model reports it
        resolved = (path.parent / mapping_path).resolve()
        if resolved not in files:  # two teams may share one mapping: report its problems once
            try:
                mdoc = load_yaml(resolved)
            except ConfigError as exc:
                where = doc.where(("teams", team, "mapping"))
                problems.extend(exc.problems or [f"{where} › {exc}"])
                files[resolved] = _MappingFile(None, None)
                continue
            mapping = _validate(TeamMapping, mdoc, problems)
            problems.extend(_mapping_problems(mdoc))
            files[resolved] = _MappingFile(mdoc, mapping)
        entry = files[resolved]
        if entry.doc is None or entry.mapping is None or not isinstance(connection, str):
            continue
        mapping = entry.mapping.model_copy(
            update={"team": team, "connection": connection, "source": str(entry.doc.path)}
        )
        loaded_mappings[team] = mapping
        for problem in _unwritable(entry.doc, _raw_dict(doc.data, "connections").get(connection)):
            if problem not in problems:  # a mapping two teams share is reported once
                problems.append(problem)
        for entity_type, entity in mapping.entities.items():
            for name, fm in entity.fields.items():
                if fm.conflict != "authority":
                    continue
                other = authorities.setdefault((entity_type, name), connection)
                if other != connection:
                    line, where = entry.doc.locate(("entities", entity_type.value, "fields", name))
                    problems.append(
                        f"{entry.doc.path}:{line} › {where}.conflict: {other} already is the "
                        f"authority for {entity_type.value}.{name}; only one system can be"
                    )
    if problems:
        raise ConfigError(f"{len(problems)} problem(s) in the configuration", problems=problems)
    assert config is not None
    return LoadedConfig(path=path, config=config, mappings=loaded_mappings)


class ImportConfig(PmoSyncConfig):
    """What a one-off file import needs: a store. Connections and teams are optional."""

    connections: dict[str, ConnectionConfig] = Field(default_factory=dict)


def load_import_config(path: Path | str, *, given: bool) -> tuple[LoadedConfig, str | None]:
    """The configuration for `pmo-sync import`, and a line to tell the user when there is none.

    A backfill must not need a sync set up first: a config without connections is fine, and
    with no config file at all (``given`` False: the default name, not found) the store is
    ``pmo-sync.db`` in the current directory, with the default identity rules.

    Raises:
        ConfigError: a config file named explicitly is missing, or a config has errors.
    """
    path = Path(path)
    if not given and not path.exists():
        loaded = LoadedConfig(path=(Path.cwd() / path.name).resolve(), config=ImportConfig())
        return loaded, f"no {path.name} here: importing into {loaded.store_url()}"
    return load_config(path, model=ImportConfig), None
