"""Airtable's error bodies (api-wire-protocol §3.6), raised inside the emulator as exceptions."""

from __future__ import annotations

from typing import Any

PERMISSIONS_MESSAGE = (
    "Invalid permissions, or the requested model was not found. Check that both your user and "
    "your token have the required permissions, and that the model names and/or ids are correct."
)
PARAMETER_MESSAGE = "Invalid request: parameter validation failed. Check your request data."
RATE_LIMIT_MESSAGE = "Rate limit exceeded. Please try again later"


class AirtableError(Exception):
    """An error the emulator answers with; ``body()`` is the exact JSON Airtable sends."""

    def __init__(self, status: int, error_type: str | None, message: str | None = None) -> None:
        super().__init__(f"{status} {error_type}: {message}")
        self.status = status
        self.error_type = error_type
        self.message = message

    def body(self) -> dict[str, Any]:
        # Unknown routes use the bare string form, everything else the typed envelope.
        if self.error_type is None:
            return {"error": "NOT_FOUND"}
        error: dict[str, Any] = {"type": self.error_type}
        if self.message is not None:
            error["message"] = self.message
        return {"error": error}


def not_found_route() -> AirtableError:
    return AirtableError(404, None)


def authentication_required() -> AirtableError:
    return AirtableError(401, "AUTHENTICATION_REQUIRED", "Authentication required")


def model_not_found() -> AirtableError:
    return AirtableError(403, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND", PERMISSIONS_MESSAGE)


def record_not_found(record_id: str) -> AirtableError:
    return AirtableError(404, "MODEL_ID_NOT_FOUND", f"Could not find record {record_id}")


def row_does_not_exist(record_id: str) -> AirtableError:
    """A batch update naming a record the table no longer holds: Airtable answers 422, not the
    404 of the single-record routes (observed reply quoted in github.com/domdomegg/
    airtable-mcp-server/issues/28: ``{"error": {"type": "ROW_DOES_NOT_EXIST", "message":
    "Record ID rec… does not exist in this table"}}``)."""
    return AirtableError(
        422, "ROW_DOES_NOT_EXIST", f"Record ID {record_id} does not exist in this table"
    )


def invalid_request(message: str = PARAMETER_MESSAGE) -> AirtableError:
    return AirtableError(422, "INVALID_REQUEST_UNKNOWN", message)


def missing_fields() -> AirtableError:
    return AirtableError(
        422, "INVALID_REQUEST_MISSING_FIELDS", 'Could not find field "fields" in the request body'
    )


def unknown_field(name: str) -> AirtableError:
    return AirtableError(422, "UNKNOWN_FIELD_NAME", f'Unknown field name: "{name}"')


def invalid_value(field_name: str) -> AirtableError:
    return AirtableError(
        422, "INVALID_VALUE_FOR_COLUMN", f'Field "{field_name}" cannot accept the provided value'
    )


def computed_field(field_name: str) -> AirtableError:
    return AirtableError(
        422,
        "INVALID_VALUE_FOR_COLUMN",
        f'Field "{field_name}" cannot accept a value because the field is computed',
    )


def invalid_select_option(value: str) -> AirtableError:
    # The doubled quotes are what Airtable really sends (§3.4).
    return AirtableError(
        422,
        "INVALID_MULTIPLE_CHOICE_OPTIONS",
        f'Insufficient permissions to create new select option ""{value}""',
    )


def invalid_formula(detail: str) -> AirtableError:
    return AirtableError(
        422,
        "INVALID_FILTER_BY_FORMULA",
        f"The formula for filtering records is invalid: {detail}",
    )


def invalid_records(message: str) -> AirtableError:
    # §7 open question 3: the exact type for >10 records and ambiguous upserts is unverified.
    return AirtableError(422, "INVALID_RECORDS", message)


def iterator_not_available() -> AirtableError:
    return AirtableError(422, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE", None)


def invalid_offset(offset: str) -> AirtableError:
    return AirtableError(422, "INVALID_OFFSET_VALUE", f"The value of offset {offset} is invalid")


def rate_limited() -> AirtableError:
    return AirtableError(429, "RATE_LIMIT_REACHED", RATE_LIMIT_MESSAGE)
