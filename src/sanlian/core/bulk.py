"""Rows of many tables written in bulk: COPY on PostgreSQL, executemany elsewhere, for the
demo data of the larger scales (`delivery.demo`, `resources.demo_history`).

The caller names each model's columns (every concrete field, in the order its row tuples
give them) and assigns the ids itself (`Writer.new_id`, or a block from `next_ids`)."""

from __future__ import annotations

import operator
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import connection

# Tables that got at least this many rows are analysed once loaded.
ANALYZE_FROM = 10_000


def allocate(total: int, weights: Sequence[float]) -> list[int]:
    """`total` in whole parts proportional to `weights` that add up exactly (largest
    remainder): how the demo seeders spread a volume over places and years."""
    whole = sum(weights)
    if total <= 0 or whole <= 0:
        return [0] * len(weights)
    raw = [total * w / whole for w in weights]
    out = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (out[i] - raw[i], i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


class Writer:
    """Rows of several tables in bulk, in chunks: COPY on PostgreSQL, executemany elsewhere.

    Ids are assigned here (`new_id`), after the rows already there. On PostgreSQL the tables'
    indexes, unique and foreign-key constraints are dropped when the writer opens (their
    pending checks run first) and built again by `finish`, which also moves each table's id
    sequence past its rows and gathers the planner's statistics of the tables it filled (a
    server without autovacuum, as this project's machines run, would otherwise plan the
    first pages' queries on a million rows as if the tables were empty)."""

    def __init__(self, columns: Mapping[Any, Sequence[str]], *, chunk: int = 20_000) -> None:
        self.pg = connection.vendor == "postgresql"
        self.chunk = chunk
        self.columns = {model: tuple(names) for model, names in columns.items()}
        self.targets = list(self.columns)
        # A row's tuple from a dict of its columns.
        self.row_of: dict[Any, Callable[[dict[str, Any]], tuple[Any, ...]]] = {
            model: operator.itemgetter(*names) for model, names in self.columns.items()
        }
        self.buffers: dict[Any, list[tuple[Any, ...]]] = {m: [] for m in self.targets}
        self.written: dict[Any, int] = defaultdict(int)
        self.next_ids: dict[Any, int] = {}
        self.rebuild: list[str] = []  # DDL to run again in `finish`, in order
        self.seconds: dict[str, float] = defaultdict(float)
        self.types: dict[Any, list[int]] = {}
        for model in self.targets:
            names = set(self.columns[model])
            fields = {f.attname for f in model._meta.concrete_fields}
            if names != fields:
                raise RuntimeError(f"{model.__name__}: columns {sorted(fields ^ names)}")
            top = model.objects.order_by("-pk").values_list("pk", flat=True).first()
            self.next_ids[model] = (top or 0) + 1
        if self.pg:
            started = time.monotonic()
            self._detach()
            self.seconds["detach"] += time.monotonic() - started - self.seconds["queued_checks"]

    def new_id(self, model: Any) -> int:
        pk = self.next_ids[model]
        self.next_ids[model] = pk + 1
        return pk

    def add(self, model: Any, row: tuple[Any, ...]) -> None:
        buffer = self.buffers[model]
        buffer.append(row)
        if len(buffer) >= self.chunk:
            self._flush(model)

    def extend(self, model: Any, rows: list[tuple[Any, ...]]) -> None:
        """Rows whose ids the caller took from `next_ids` itself (a block at a time)."""
        buffer = self.buffers[model]
        buffer.extend(rows)
        if len(buffer) >= self.chunk:
            self._flush(model)

    def add_dict(self, model: Any, values: dict[str, Any]) -> None:
        self.add(model, self.row_of[model](values))

    def _flush(self, model: Any) -> None:
        rows = self.buffers[model]
        if not rows:
            return
        started = time.monotonic()
        table, columns = model._meta.db_table, self.columns[model]
        with connection.cursor() as cursor:
            if self.pg:
                types = self.types.get(model)
                if types is None:
                    cursor.execute(
                        "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass"
                        " AND attnum > 0 AND NOT attisdropped",
                        [_quote(table)],
                    )
                    oids = dict(cursor.fetchall())
                    types = self.types[model] = [oids[c] for c in columns]
                names = ", ".join(_quote(c) for c in columns)
                sql = f"COPY {_quote(table)} ({names}) FROM STDIN (FORMAT BINARY)"
                with cursor.cursor.copy(sql) as copy:
                    copy.set_types(types)
                    for row in rows:
                        copy.write_row(row)
            else:
                fields = [model._meta.get_field(c) for c in columns]
                values = [
                    [f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)]
                    for row in rows
                ]
                cursor.executemany(
                    f"INSERT INTO {_quote(table)} ({', '.join(_quote(c) for c in columns)})"  # noqa: S608
                    f" VALUES ({', '.join(['%s'] * len(columns))})",
                    values,
                )
        self.written[model] += len(rows)
        self.buffers[model] = []
        self.seconds["write"] += time.monotonic() - started

    def flush(self) -> None:
        for model in self.targets:
            self._flush(model)

    # -- PostgreSQL: what is dropped while loading, and built again --------------------------
    def _detach(self) -> None:
        tables = [m._meta.db_table for m in self.targets]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT conname, conrelid::regclass::text, contype, pg_get_constraintdef(oid)"
                " FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('f', 'u')"
                " ORDER BY contype DESC, conrelid, conname",
                [tables],
            )
            constraints = cursor.fetchall()
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)"
                " FROM pg_index i WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
                " WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)"
                " ORDER BY i.indrelid, i.indexrelid",
                [tables],
            )
            indexes = cursor.fetchall()
            # Rows written earlier in this transaction have their foreign keys' checks queued
            # for the commit, and a table (or the table a dropped key refers to) with queued
            # checks cannot be altered: run them now (they cost the same now as at the commit).
            started = time.monotonic()
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            self.seconds["queued_checks"] += time.monotonic() - started
            for name, table, _kind, _definition in constraints:
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_quote(name)}")
            for name, _definition in indexes:
                cursor.execute(f"DROP INDEX {name}")
        unique = [(n, t, d) for n, t, k, d in constraints if k == "u"]
        foreign_keys = [(n, t, d) for n, t, k, d in constraints if k == "f"]
        self.rebuild = [
            *(f"ALTER TABLE {t} ADD CONSTRAINT {_quote(n)} {d}" for n, t, d in unique),
            *(definition for _n, definition in indexes),
            *(f"ALTER TABLE {t} ADD CONSTRAINT {_quote(n)} {d}" for n, t, d in foreign_keys),
        ]

    def finish(self) -> None:
        self.flush()
        if not self.pg:
            return
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("SHOW maintenance_work_mem")
            maintenance = cursor.fetchone()[0]
            cursor.execute("SHOW work_mem")
            work = cursor.fetchone()[0]
            # Sorting for the indexes and hashing for the foreign keys' checks in memory.
            cursor.execute("SELECT set_config('maintenance_work_mem', '512MB', true)")
            cursor.execute("SELECT set_config('work_mem', '256MB', true)")
            for statement in self.rebuild:
                cursor.execute(statement)
            cursor.execute("SELECT set_config('maintenance_work_mem', %s, true)", [maintenance])
            cursor.execute("SELECT set_config('work_mem', %s, true)", [work])
            self.seconds["rebuild"] += time.monotonic() - started
            started = time.monotonic()
            for model in self.targets:
                table = model._meta.db_table
                after = f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {_quote(table)})"  # noqa: S608
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence(%s, 'id'), {after}, false)",
                    [_quote(table)],
                )
            self.seconds["sequences"] += time.monotonic() - started
            started = time.monotonic()
            for model in self.targets:
                if self.written[model] >= ANALYZE_FROM:
                    cursor.execute(f"ANALYZE {_quote(model._meta.db_table)}")
        self.seconds["analyze"] += time.monotonic() - started
