"""``$batch`` as the Dataverse emulator models it: GET requests only, no change sets.

"Execute batch operations using the Web API",
https://learn.microsoft.com/power-apps/developer/data-platform/webapi/execute-batch-operations-using-web-api
(the format is OData 4.0 Part 1, 11.7 "Batch Requests"): a POST to ``<api>/$batch`` whose body is
``multipart/mixed`` with a ``batch_…`` boundary; each part is ``Content-Type: application/http``
and ``Content-Transfer-Encoding: binary`` around one raw HTTP request (request line with an
absolute or API-relative URL, its headers, a blank line). The operations run in order and the
answer is ``multipart/mixed`` with a ``batchresponse_…`` boundary holding one raw HTTP response
per request, in the same order; a part that fails gets its own status and the others still run.
At most 1,000 requests per batch. Change sets (writes in one transaction) are not modelled: a
batch holding one, or any request but a GET, is refused whole with a 400 naming what is not.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from http import HTTPStatus

from flask import Response

MAX_REQUESTS = 1000


class BatchError(ValueError):
    pass


@dataclass
class BatchRequest:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


def _boundary(content_type: str) -> str:
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name.lower() == "boundary" and value:
            return value.strip('"')
    raise BatchError("The batch request has no multipart boundary.")


def parse(body: bytes, content_type: str) -> list[BatchRequest]:
    if not content_type.lower().startswith("multipart/mixed"):
        raise BatchError("A $batch request is multipart/mixed.")
    delimiter = f"--{_boundary(content_type)}"
    text = body.decode("utf-8").replace("\r\n", "\n")
    requests: list[BatchRequest] = []
    for chunk in text.split(delimiter)[1:]:
        if chunk.startswith("--"):
            break  # the close delimiter
        head, _, http = chunk.strip("\n").partition("\n\n")
        if "multipart/mixed" in head.lower():
            raise BatchError("Change sets are not modelled by the emulator.")
        if "application/http" not in head.lower():
            raise BatchError("Each batch part is Content-Type: application/http.")
        lines = http.strip("\n").split("\n")
        method, _, rest = lines[0].partition(" ")
        url = rest.rsplit(" ", 1)[0] if rest.endswith(("HTTP/1.1", "HTTP/1.0")) else rest
        headers = {}
        for line in lines[1:]:
            if not line.strip():
                break
            name, _, value = line.partition(":")
            headers[name.strip()] = value.strip()
        if method.upper() != "GET":
            raise BatchError(f"The emulator models GET requests in a batch, not {method}.")
        requests.append(BatchRequest(method.upper(), url.strip(), headers))
    if not requests:
        raise BatchError("The batch holds no request.")
    if len(requests) > MAX_REQUESTS:
        raise BatchError(f"A batch holds at most {MAX_REQUESTS} requests.")
    return requests


def answer(responses: list[Response]) -> Response:
    """One multipart/mixed answer holding each response, in order."""
    boundary = f"batchresponse_{uuid.uuid4()}"
    out: list[str] = []
    for response in responses:
        status = HTTPStatus(response.status_code)
        headers = "".join(
            f"{name}: {value}\r\n"
            for name, value in response.headers.items()
            if name.lower() not in ("content-length",)
        )
        out.append(
            f"--{boundary}\r\nContent-Type: application/http\r\n"
            f"Content-Transfer-Encoding: binary\r\n\r\n"
            f"HTTP/1.1 {status.value} {status.phrase}\r\n{headers}\r\n"
            f"{response.get_data(as_text=True)}\r\n"
        )
    out.append(f"--{boundary}--\r\n")
    reply = Response("".join(out), status=200)
    reply.headers["Content-Type"] = f"multipart/mixed; boundary={boundary}"
    reply.headers["OData-Version"] = "4.0"
    return reply
