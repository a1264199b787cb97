"""Commands wire models <-> canonical documents and core answers.

Requests are stored and handed on as canonical 2.2.1 JSON with absent optional fields
left out (as every module stores its documents). The answers are core
:class:`~evroam.core.callbacks.Reply` objects on the node's side; their DisplayText
lists are read as one text (joined), and written as one English DisplayText.
Validation failures become ``InvalidInput`` (OCPI 2001) naming the field.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from evroam.core.backend import CommandType
from evroam.core.callbacks import Reply
from evroam.core.errors import InvalidInput
from evroam.core.objects import Document
from evroam.ocpi.common.envelope import describe_validation_error
from evroam.ocpi.v2_2_1.commands.models import (
    REQUEST_MODELS,
    CommandRequest,
    CommandResponse,
    CommandResult,
)
from evroam.ocpi.v2_2_1.types import DisplayText

#: DisplayText.text is string(512).
MAX_TEXT = 512


def parse_command_type(raw: str) -> CommandType:
    """The ``{command}`` URL segment: a CommandType, case as the spec writes it."""
    try:
        return CommandType(raw)
    except ValueError:
        allowed = ", ".join(t.value for t in CommandType)
        raise InvalidInput(f"{raw[:40]!r} is not a CommandType ({allowed})") from None


def to_document(model: CommandRequest | CommandResult) -> Document:
    """Present fields only: never ``null`` on the wire."""
    return model.model_dump(mode="json", exclude_none=True)


def parse_request(command: CommandType, data: Any) -> Document:
    """The request object of ``command`` as a canonical document (InvalidInput naming
    the bad field otherwise)."""
    if not isinstance(data, dict):
        raise InvalidInput(f"the body of {command.value} must be a JSON object")
    try:
        return to_document(REQUEST_MODELS[command].model_validate(data))
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc)) from None


def display_texts(message: str | None) -> list[dict[str, str]] | None:
    """One English DisplayText of at most 512 characters (None: no message)."""
    if not message:
        return None
    return [DisplayText(language="en", text=message[:MAX_TEXT]).model_dump(mode="json")]


def joined(texts: list[DisplayText] | None) -> str | None:
    """DisplayTexts as one text for the operator (English first when there is one)."""
    if not texts:
        return None
    ordered = sorted(texts, key=lambda t: t.language.lower() != "en")
    return " / ".join(t.text for t in ordered)


def response_json(reply: Reply) -> str:
    """A CommandResponse as JSON text, from the node's answer."""
    doc = CommandResponse.model_validate(
        {
            "result": reply.result,
            "timeout": reply.timeout or 0,
            "message": display_texts(reply.message),
        }
    ).model_dump(mode="json", exclude_none=True)
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def reply_from(data: Any, status_code: int = 1000) -> Reply:
    """A partner's CommandResponse as a :class:`Reply` (InvalidInput when it is not one)."""
    try:
        response = CommandResponse.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(f"not a CommandResponse: {describe_validation_error(exc)}") from None
    return Reply(response.result.value, response.timeout, joined(response.message), status_code)


def parse_result(data: Any) -> CommandResult:
    """A CommandResult a CPO POSTed (InvalidInput naming the bad field otherwise)."""
    if data is None:
        raise InvalidInput("request body is missing")
    try:
        return CommandResult.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc)) from None
