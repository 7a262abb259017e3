"""``pmo-sync discover CONNECTION`` for Airtable: tables and fields with ids and types."""

from __future__ import annotations

from typing import Any

import requests
from pyairtable import Api

from pmosync.config.connections import AirtableConnection
from pmosync.connectors.http import HttpPolicy, mount_policy, translate_exception


def discover(name: str, config: AirtableConnection) -> dict[str, Any]:
    """Tables (id, name, primary field), fields (id, name, type, select options), views.

    Raises:
        AuthError: the token was refused.
        ConfigError: the base does not exist or the token cannot see it.
        RetriableError: Airtable could not be reached.
    """
    api = Api(
        config.token.resolve("token", connection=name),
        timeout=(10, int(config.timeout_seconds)),
        retry_strategy=None,
        endpoint_url=config.endpoint_url.rstrip("/"),
    )
    mount_policy(
        api.session,
        HttpPolicy(
            requests_per_second=config.requests_per_second,
            lockout_seconds=config.lockout_seconds,
            max_attempts=config.max_attempts,
        ),
        ca_bundle=str(config.ca_bundle) if config.ca_bundle else None,
    )
    try:
        schema = api.base(config.base_id).schema(force=True)
    except (requests.RequestException, OSError) as exc:
        raise translate_exception(exc, connection=name, what="reading the base schema") from None
    finally:
        api.session.close()
    tables = []
    for table in schema.tables:
        fields = []
        for field in table.fields:
            entry: dict[str, Any] = {
                "id": field.id,
                "name": field.name,
                "type": str(getattr(field.type, "value", field.type)),
            }
            choices = getattr(getattr(field, "options", None), "choices", None)
            if choices:
                entry["options"] = [c.name for c in choices]
            fields.append(entry)
        tables.append(
            {
                "id": table.id,
                "name": table.name,
                "primary_field": table.primary_field_id,
                "fields": fields,
                "views": [{"id": v.id, "name": v.name, "type": v.type} for v in table.views],
            }
        )
    return {"connection": name, "kind": "airtable", "base_id": config.base_id, "tables": tables}


def render_text(found: dict[str, Any]) -> str:
    lines = [f"{found['connection']}: Airtable base {found['base_id']}"]
    for table in found["tables"]:
        lines.append(f"\ntable {table['id']}  {table['name']}")
        for field in table["fields"]:
            options = f"  [{', '.join(field['options'])}]" if field.get("options") else ""
            lines.append(f"  {field['id']}  {field['type']:<20} {field['name']}{options}")
    return "\n".join(lines)
