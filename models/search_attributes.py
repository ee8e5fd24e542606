"""The one registry of our custom search attributes. None of them ever holds personal data."""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType as T
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode

__all__ = [
    "ACT_VERSION",
    "ALL",
    "CALENDAR_VERSION",
    "NEXT_DEADLINE",
    "OVERDUE",
    "PROCEDURE",
    "STATUS",
    "add_to_namespace",
    "dev_server_flags",
]

PROCEDURE = SearchAttributeKey.for_keyword("KzProcedure")
STATUS = SearchAttributeKey.for_keyword("KzStatus")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("KzNextDeadline")
OVERDUE = SearchAttributeKey.for_bool("KzOverdue")
ACT_VERSION = SearchAttributeKey.for_keyword("KzActVersion")
CALENDAR_VERSION = SearchAttributeKey.for_keyword("KzCalendarVersion")

ALL: tuple[SearchAttributeKey, ...] = (  # type: ignore[type-arg]
    PROCEDURE,
    STATUS,
    NEXT_DEADLINE,
    OVERDUE,
    ACT_VERSION,
    CALENDAR_VERSION,
)

_TYPE_NAMES = {
    T.KEYWORD: "Keyword",
    T.TEXT: "Text",
    T.INT: "Int",
    T.DOUBLE: "Double",
    T.BOOL: "Bool",
    T.DATETIME: "Datetime",
    T.KEYWORD_LIST: "KeywordList",
}


def dev_server_flags() -> list[str]:
    """``temporal server start-dev`` flags that register every attribute."""
    flags: list[str] = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={_TYPE_NAMES[key.indexed_value_type]}"]
    return flags


async def add_to_namespace(client: Client) -> None:
    """Register every attribute on the client's namespace; for servers started without the flags.

    Works on the time-skipping test server (which implements only AddSearchAttributes) and on a full
    server, where attributes that already exist are left as they are.
    """
    for key in ALL:
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(
                    namespace=client.namespace,
                    search_attributes={key.name: IndexedValueType.ValueType(key.indexed_value_type)},
                )
            )
        except RPCError as exc:
            if exc.status is not RPCStatusCode.ALREADY_EXISTS:
                raise
