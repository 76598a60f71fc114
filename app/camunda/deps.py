"""Dependencies of the dialect: the same context and the same authentication as the native API, plus
Camunda's paging and sorting parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request

from app.api.deps import MAX_OFFSET, Context, CurrentActor
from app.errors import InvalidInput

__all__ = ["Context", "CurrentActor", "FirstResult", "MaxResults", "SortBy", "SortOrder", "csv", "page_size",
           "self_link", "sort_key"]

# Camunda returns every row when maxResults is absent; we cap a page so one request stays bounded.
DEFAULT_MAX_RESULTS = 1000

FirstResult = Annotated[int, Query(alias="firstResult", ge=0, le=MAX_OFFSET, description="Rows to skip.")]
MaxResults = Annotated[int | None, Query(alias="maxResults", ge=0,
                                         description=f"Page size (at most {DEFAULT_MAX_RESULTS}).")]
SortBy = Annotated[str | None, Query(alias="sortBy")]
SortOrder = Annotated[str | None, Query(alias="sortOrder", pattern="^(asc|desc)$")]


def page_size(max_results: int | None) -> int:
    return DEFAULT_MAX_RESULTS if max_results is None else min(max_results, DEFAULT_MAX_RESULTS)


def csv(value: str | list[str] | None) -> list[str] | None:
    """Camunda's `...In` parameters: comma-separated text in queries, arrays in JSON bodies."""
    if value is None:
        return None
    parts = value.split(",") if isinstance(value, str) else value
    return [part.strip() for part in parts if part and part.strip()]


def sort_key(sort_by: str | None, sort_order: str | None, mapping: dict[str, str]) -> tuple[str | None, bool]:
    """Camunda's sortBy/sortOrder -> our sort key and direction; a sortBy we cannot honour is refused."""
    descending = sort_order == "desc"
    if sort_by is None:
        return None, descending
    if sort_by not in mapping:
        raise InvalidInput(f"sortBy {sort_by!r} is not supported here; use one of {', '.join(mapping)}")
    return mapping[sort_by], descending


def self_link(request: Request, path: str) -> dict[str, str]:
    """Camunda's `links` entry for a resource of this dialect (`path` relative to /engine-rest)."""
    root = str(request.base_url).rstrip("/")
    if not root.endswith(ENGINE_REST):
        root += ENGINE_REST
    return {"method": "GET", "href": root + path, "rel": "self"}


ENGINE_REST = "/engine-rest"
