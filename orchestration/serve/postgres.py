"""Publish the marts of the published DuckDB warehouse to PostgreSQL, atomically for readers.

One transaction does it all: create a load schema, COPY every mart into it with the dbt contract's types,
add the grain as primary key (or unique index), indexes where BI filters, comments from the dbt docs and
grants for the read-only role; then take ACCESS EXCLUSIVE locks on the current marts (waiting, in short
attempts, for readers still inside a transaction that touched them), rename `marts` away, rename the load
schema to `marts`, drop the old one, commit. Readers therefore see the old marts or the new, never a mix,
and a failure anywhere rolls everything back: the previous marts stay as they were. DuckDB is only read.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import duckdb

from orchestration.serve.contract import MARTS_SCHEMA, Mart, load_marts, postgres_type, warehouse_marts

# Columns BI filters on; each gets an index unless it already leads the primary key.
FILTER_COLUMNS = ("indicator_id", "year", "municipality_code")
PUBLICATION_TABLE = "publication_info"
DEFAULT_READER_ROLE = "boligsosial_reader"
COPY_BATCH = 20_000


class PublicationError(RuntimeError):
    """A publication that did not happen; the message says why and what to check."""


@dataclass(frozen=True)
class Publication:
    target: str                   # the URL without its password
    schema: str
    tables: dict[str, int]        # mart → rows
    published_at: dt.datetime
    seconds: float


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def reader_role() -> str:
    return os.environ.get("BOLIGSOSIAL_POSTGRES_READER", DEFAULT_READER_ROLE).strip() or DEFAULT_READER_ROLE


def connect(url: str, **kwargs):
    """A psycopg connection, or a PublicationError that says what failed (password, host, port, database)."""
    import psycopg

    try:
        return psycopg.connect(url, connect_timeout=int(os.environ.get("BOLIGSOSIAL_POSTGRES_CONNECT_TIMEOUT", "10")),
                               application_name="boligsosial", **kwargs)
    except psycopg.OperationalError as exc:
        detail = " ".join(str(exc).split())
        if "password authentication failed" in detail or "no password supplied" in detail:
            hint = "the user or password in BOLIGSOSIAL_POSTGRES_URL is wrong"
        elif "does not exist" in detail:
            hint = "the database or user in BOLIGSOSIAL_POSTGRES_URL does not exist"
        else:
            hint = "is the server running, and are host and port in BOLIGSOSIAL_POSTGRES_URL right?"
        raise PublicationError(f"cannot connect to PostgreSQL at {redact(url)}: {detail} ({hint})") from None
    except psycopg.ProgrammingError as exc:  # a malformed URL
        raise PublicationError(f"BOLIGSOSIAL_POSTGRES_URL is not a valid connection string: {exc}") from None


def publish_marts(url: str, warehouse: Path, *, schema: str = MARTS_SCHEMA, manifest: Path | None = None,
                  lock_wait_seconds: float | None = None, log=print) -> Publication:
    """Copy every mart of the DuckDB `warehouse` (opened read-only) into `schema` of the database at `url`."""
    import psycopg
    from psycopg import sql

    started = time.monotonic()
    if not warehouse.exists():
        raise PublicationError(f"no published warehouse at {warehouse}: run `make demo` first")
    if lock_wait_seconds is None:
        lock_wait_seconds = float(os.environ.get("BOLIGSOSIAL_POSTGRES_LOCK_WAIT", "600"))
    contracts = load_marts(manifest)
    published_at = dt.datetime.now(dt.timezone.utc)
    load_schema = f"{schema}__load_{published_at:%Y%m%d%H%M%S}_{os.getpid()}"
    old_schema = f"{schema}__old_{published_at:%Y%m%d%H%M%S}_{os.getpid()}"
    reader = reader_role()
    duck = duckdb.connect(str(warehouse), read_only=True)
    try:
        marts = warehouse_marts(duck, contracts)
        synthetic = _synthetic(duck)
        with connect(url) as pg:  # the block commits on success and rolls back on any exception
            with pg.cursor() as cur:
                cur.execute(sql.SQL("create schema {}").format(sql.Identifier(load_schema)))
                counts = {}
                for mart in marts:
                    counts[mart.name] = _load_table(cur, duck, mart, load_schema)
                    log(f"PostgreSQL: {mart.name}: {counts[mart.name]:,} rows copied")
                _publication_table(cur, load_schema, published_at, warehouse, synthetic, counts)
                cur.execute("select 1 from pg_roles where rolname = %s", [reader])
                if cur.fetchone():
                    _grant_read(cur, load_schema, reader)
                _swap(cur, pg, schema, load_schema, old_schema, lock_wait_seconds, log)
    except psycopg.Error as exc:
        raise PublicationError(f"publication to {redact(url)} failed, the previous marts are unchanged: "
                               f"{' '.join(str(exc).split())}") from exc
    finally:
        duck.close()
    return Publication(target=redact(url), schema=schema, tables=counts, published_at=published_at,
                       seconds=time.monotonic() - started)


def _load_table(cur, duck: duckdb.DuckDBPyConnection, mart: Mart, schema: str) -> int:
    from psycopg import sql

    table = sql.Identifier(schema, mart.name)
    columns = [sql.SQL("{} {}{}").format(sql.Identifier(c.name),
                                         sql.SQL(postgres_type(c.data_type, f"marts.{mart.name}.{c.name}")),
                                         sql.SQL(" not null" if c.not_null else ""))
               for c in mart.columns]
    cur.execute(sql.SQL("create table {} ({})").format(table, sql.SQL(", ").join(columns)))
    names = [c.name for c in mart.columns]
    rows = copy_rows(cur, duck, f'{MARTS_SCHEMA}."{mart.name}"', table, names, order=mart.grain or names[:1])
    if mart.grain:
        key = sql.SQL(", ").join(map(sql.Identifier, mart.grain))
        if mart.grain_is_primary_key:
            cur.execute(sql.SQL("alter table {} add primary key ({})").format(table, key))
        else:  # nullable grain columns: unique with NULLs equal, as the dbt test counts them
            cur.execute(sql.SQL("create unique index {} on {} ({}) nulls not distinct").format(
                sql.Identifier(f"{mart.name}_grain"), table, key))
    for column in FILTER_COLUMNS:
        if column in names and (not mart.grain or mart.grain[0] != column):
            cur.execute(sql.SQL("create index {} on {} ({})").format(
                sql.Identifier(f"{mart.name}_{column}"), table, sql.Identifier(column)))
    if mart.description:
        cur.execute(sql.SQL("comment on table {} is {}").format(table, sql.Literal(mart.description)))
    for c in mart.columns:
        if c.description:
            cur.execute(sql.SQL("comment on column {}.{} is {}").format(
                table, sql.Identifier(c.name), sql.Literal(c.description)))
    cur.execute(sql.SQL("analyze {}").format(table))
    return rows


def copy_rows(cur, duck: duckdb.DuckDBPyConnection, relation: str, table, names: list[str],
              order: Sequence[str] = ()) -> int:
    """COPY the columns `names` of the DuckDB `relation` (optionally in `order`) into the PostgreSQL `table`
    (a psycopg sql.Identifier), in batches; the row count."""
    from psycopg import sql

    def quoted(columns: Sequence[str]) -> str:
        return ", ".join(f'"{c}"' for c in columns)

    source = duck.execute(f"select {quoted(names)} from {relation}" + (f" order by {quoted(order)}" if order else ""))
    rows = 0
    copy_sql = sql.SQL("copy {} ({}) from stdin").format(table, sql.SQL(", ").join(map(sql.Identifier, names)))
    with cur.copy(copy_sql) as copy:
        while batch := source.fetchmany(COPY_BATCH):
            for row in batch:
                copy.write_row(row)
            rows += len(batch)
    return rows


def _publication_table(cur, schema: str, published_at: dt.datetime, warehouse: Path, synthetic: bool,
                       counts: dict[str, int]) -> None:
    """One row BI can show as «data as of»: when, from which warehouse file, synthetic or not."""
    from psycopg import sql

    table = sql.Identifier(schema, PUBLICATION_TABLE)
    cur.execute(sql.SQL("create table {} (published_at timestamptz not null, warehouse text not null, "
                        "warehouse_published_at timestamptz, synthetic boolean not null, tables jsonb not null)"
                        ).format(table))
    cur.execute(sql.SQL("comment on table {} is {}").format(table, sql.Literal(
        "When these marts were published, from which DuckDB warehouse, and whether they hold synthetic demo "
        "data (SYNTETISKE DEMODATA); `tables` holds the row count of each mart.")))
    mtime = dt.datetime.fromtimestamp(warehouse.stat().st_mtime, dt.timezone.utc)
    cur.execute(sql.SQL("insert into {} values (%s, %s, %s, %s, %s)").format(table),
                [published_at, str(warehouse), mtime, synthetic, json.dumps(counts)])


def _grant_read(cur, schema: str, role: str) -> None:
    from psycopg import sql

    cur.execute(sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(schema), sql.Identifier(role)))
    cur.execute(sql.SQL("grant select on all tables in schema {} to {}").format(sql.Identifier(schema),
                                                                                sql.Identifier(role)))


def _swap(cur, pg, schema: str, load_schema: str, old_schema: str, lock_wait_seconds: float, log) -> None:
    """Lock the current marts, rename them away, rename the load schema in, drop the old ones.

    The locks wait for readers still inside a transaction that read a mart (a REPEATABLE READ reader keeps its
    view); each attempt is short, so a reader asking for another mart meanwhile is never deadlocked.
    """
    import psycopg
    from psycopg import sql

    cur.execute("select tablename from pg_tables where schemaname = %s", [schema])
    current = [r[0] for r in cur.fetchall()]
    dependents = _outside_dependents(cur, schema)
    if dependents:
        raise PublicationError(
            f"objects outside schema {schema!r} depend on its tables and would be dropped with them: "
            f"{', '.join(dependents)}; move or drop them (the previous marts are unchanged)")
    if current:
        deadline = time.monotonic() + lock_wait_seconds
        waited = False
        while True:
            cur.execute("savepoint swap_locks")
            try:
                cur.execute("set local lock_timeout = '500ms'")
                cur.execute(sql.SQL("lock table {} in access exclusive mode").format(
                    sql.SQL(", ").join(sql.Identifier(schema, t) for t in current)))
                break
            except psycopg.errors.LockNotAvailable:
                cur.execute("rollback to savepoint swap_locks")
                if time.monotonic() > deadline:
                    raise PublicationError(
                        f"readers kept transactions open on {schema} for more than {lock_wait_seconds:.0f} s; "
                        "the previous marts are unchanged (BOLIGSOSIAL_POSTGRES_LOCK_WAIT sets the wait)") from None
                if not waited:
                    log(f"PostgreSQL: waiting for readers with open transactions on {schema} to finish")
                    waited = True
                time.sleep(0.5)
        cur.execute(sql.SQL("alter schema {} rename to {}").format(sql.Identifier(schema), sql.Identifier(old_schema)))
    else:
        cur.execute(sql.SQL("drop schema if exists {}").format(sql.Identifier(schema)))  # an empty one only
    cur.execute(sql.SQL("alter schema {} rename to {}").format(sql.Identifier(load_schema), sql.Identifier(schema)))
    if current:
        cur.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(old_schema)))


def _outside_dependents(cur, schema: str) -> list[str]:
    """Views or foreign keys elsewhere that reference the marts (DROP ... CASCADE would remove them)."""
    cur.execute(
        """
        select distinct coalesce(dn.nspname || '.' || dc.relname, d.classid::regclass::text || ' ' || d.objid)
        from pg_depend d
        join pg_class c on c.oid = d.refobjid and d.refclassid = 'pg_class'::regclass
        join pg_namespace n on n.oid = c.relnamespace and n.nspname = %s
        left join pg_rewrite r on d.classid = 'pg_rewrite'::regclass and r.oid = d.objid
        left join pg_class dc on dc.oid = coalesce(r.ev_class, case when d.classid = 'pg_class'::regclass then d.objid end)
        left join pg_namespace dn on dn.oid = dc.relnamespace
        where d.deptype = 'n' and coalesce(dn.nspname, '') <> %s
          and d.classid in ('pg_rewrite'::regclass, 'pg_class'::regclass)
        order by 1
        """, [schema, schema])
    return [r[0] for r in cur.fetchall()]


def _synthetic(duck: duckdb.DuckDBPyConnection) -> bool:
    """Any synthetic demo row in the marts (every mart row carries the flag where it applies)."""
    tables = duck.execute("select table_name from duckdb_columns() where schema_name = ? and column_name = 'synthetic'",
                          [MARTS_SCHEMA]).fetchall()
    return any(duck.execute(f'select bool_or(synthetic) from {MARTS_SCHEMA}."{t}"').fetchone()[0] for (t,) in tables)


def create_reader_role(url: str, role: str, password: str, *, schema: str = MARTS_SCHEMA) -> None:
    """Create (or update) a LOGIN role that can read the marts and nothing else.

    Publication grants it SELECT on every new marts schema; the role's sessions are read-only by default.
    """
    from psycopg import sql

    with connect(url) as pg, pg.cursor() as cur:
        cur.execute("select 1 from pg_roles where rolname = %s", [role])
        verb = "alter" if cur.fetchone() else "create"
        cur.execute(sql.SQL(verb + " role {} with login nosuperuser nocreatedb nocreaterole noreplication "
                            "password {}").format(sql.Identifier(role), sql.Literal(password)))
        cur.execute(sql.SQL("alter role {} set default_transaction_read_only = on").format(sql.Identifier(role)))
        cur.execute("select current_database()")
        database = cur.fetchone()[0]
        cur.execute(sql.SQL("grant connect on database {} to {}").format(sql.Identifier(database),
                                                                          sql.Identifier(role)))
        cur.execute(sql.SQL("revoke create on schema public from {}").format(sql.Identifier(role)))
        cur.execute("select 1 from pg_namespace where nspname = %s", [schema])
        if cur.fetchone():
            _grant_read(cur, schema, role)


def reader_url(url: str, role: str) -> str:
    """The connection string BI uses: the publisher's host, port and database with the reader's name."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{role}:$BOLIGSOSIAL_POSTGRES_READER_PASSWORD@{host}{port}"))
