"""SQL building blocks that differ between PostgreSQL and SQLite: seconds between two timestamps, and
medians / percentiles computed in the database (PostgreSQL's percentile_cont; window functions on SQLite)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ARRAY, Float, Integer, Select, case, cast, func, literal, select
from sqlalchemy.dialects.postgresql import array as pg_array
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

# The percentiles every timing figure reports.
MEDIAN, P90 = 0.5, 0.9


def epoch(dialect: str, column: Any) -> ColumnElement[float]:
    """Seconds since 1970 of a stored UTC timestamp."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", column), Float)
    return (func.julianday(column) - 2440587.5) * 86400.0  # SQLite stores ISO text


def seconds_between(dialect: str, start: Any, end: Any) -> ColumnElement[float]:
    return epoch(dialect, end) - epoch(dialect, start)


def percentile_rows(session: Session, source: Select[Any], keys: Sequence[str], values: Sequence[str],
                    ps: Sequence[float] = (MEDIAN, P90)) -> list[dict[str, Any]]:
    """One statement: per group of `keys`, for each column in `values`: its count (`<v>_n`), mean (`<v>_avg`)
    and the interpolated percentiles (`<v>_p50`, `<v>_p90`), like PostgreSQL's percentile_cont. Rows with a
    NULL value are left out of that value's figures."""
    dialect = session.get_bind().dialect.name
    sub = source.subquery("d")
    key_cols = [sub.c[k] for k in keys]
    if dialect == "postgresql":
        columns: list[Any] = list(key_cols)
        for v in values:
            col = sub.c[v]
            # One ordered-set aggregate per value with an array of fractions: one sort, not one per percentile.
            columns += [func.count(col).label(f"{v}_n"), func.avg(col).label(f"{v}_avg"),
                        func.percentile_cont(pg_array([literal(p, Float) for p in ps]), type_=ARRAY(Float))
                        .within_group(col.asc()).label(f"{v}__ps")]
        query = select(*columns).group_by(*key_cols)
        rows = []
        for r in session.execute(query):
            row = dict(r._mapping)
            for v in values:
                found = row.pop(f"{v}__ps") or [None] * len(ps)
                row.update({f"{v}_p{round(p * 100)}": x for p, x in zip(ps, found, strict=True)})
            rows.append(row)
        return rows
    # SQLite: rank each value inside its group, then pick the one or two ranks around each percentile.
    ranked_cols: list[Any] = list(key_cols)
    for v in values:
        col = sub.c[v]
        present = case((col.is_(None), 1), else_=0)
        ranked_cols += [
            col.label(v),
            func.row_number().over(partition_by=[*key_cols, present], order_by=col).label(f"{v}__rn"),
            func.count(col).over(partition_by=key_cols or None).label(f"{v}__n"),
        ]
    ranked = select(*ranked_cols).subquery("r")
    columns = [ranked.c[k] for k in keys]
    for v in values:
        col, rn, n = ranked.c[v], ranked.c[f"{v}__rn"], ranked.c[f"{v}__n"]
        columns += [func.max(n).label(f"{v}_n"), func.avg(col).label(f"{v}_avg")]
        for p in ps:
            position = literal(1.0) + literal(p) * (n - 1)
            low = cast(position, Integer)  # positive, so truncation is floor
            at_low = func.max(case(((rn == low) & col.is_not(None), col)))
            at_high = func.max(case(((rn == low + 1) & col.is_not(None), col)))
            fraction = func.max(case((col.is_not(None), position - low)))
            columns.append((at_low + fraction * (func.coalesce(at_high, at_low) - at_low))
                           .label(f"{v}_p{round(p * 100)}"))
    query = select(*columns).group_by(*[ranked.c[k] for k in keys])
    return [dict(r._mapping) for r in session.execute(query)]


def rounded(value: Any, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)
