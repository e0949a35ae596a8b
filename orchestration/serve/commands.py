"""`boligsosial publish-postgres`, `postgres-reader-role`, `export` and `dbt-postgres`: messages and exit codes.
Credentials come from the environment only, never from arguments (they would land in shell history)."""

from __future__ import annotations

import os
import sys

from orchestration import settings

URL_HELP = ("set BOLIGSOSIAL_POSTGRES_URL=postgresql://USER:PASSWORD@HOST:5432/DATABASE "
            "(a user that may create schemas in that database)")


def publish_postgres() -> int:
    from orchestration.serve.contract import ContractMismatch
    from orchestration.serve.postgres import PublicationError, publish_marts, reader_role

    url = settings.postgres_url()
    if url is None:
        print(f"PostgreSQL publication skipped: BOLIGSOSIAL_POSTGRES_URL is not set; {URL_HELP}", file=sys.stderr)
        return 2
    try:
        publication = publish_marts(url, settings.warehouse_path())
    except (PublicationError, ContractMismatch, FileNotFoundError) as exc:
        print(f"✘ {exc}", file=sys.stderr)
        return 1
    total = sum(publication.tables.values())
    print(f"✔ published {len(publication.tables)} marts ({total:,} rows) from {settings.warehouse_path()} to "
          f"{publication.target}, schema {publication.schema}, in {publication.seconds:.1f} s")
    print(f"  BI reads them as the role {reader_role()} (create it with `boligsosial postgres-reader-role`)")
    return 0


def postgres_reader_role() -> int:
    from orchestration.serve.postgres import PublicationError, create_reader_role, reader_role, reader_url

    url = settings.postgres_url()
    password = os.environ.get("BOLIGSOSIAL_POSTGRES_READER_PASSWORD", "")
    if url is None:
        print(f"✘ BOLIGSOSIAL_POSTGRES_URL is not set; {URL_HELP} (a user with CREATEROLE)", file=sys.stderr)
        return 2
    if not password:
        print("✘ BOLIGSOSIAL_POSTGRES_READER_PASSWORD is not set: the password the read-only role logs in with",
              file=sys.stderr)
        return 2
    role = reader_role()
    try:
        create_reader_role(url, role, password)
    except PublicationError as exc:
        print(f"✘ {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # e.g. the publishing user may not create roles
        print(f"✘ could not create the role {role}: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    print(f"✔ read-only role {role}: may connect and SELECT from schema marts (every publication grants it "
          "again); its sessions are read-only")
    print(f"  BI connects with: {reader_url(url, role)}")
    return 0


def export() -> int:
    from orchestration.serve.contract import ContractMismatch
    from orchestration.serve.exports import write_exports

    try:
        manifest = write_exports(settings.warehouse_path(), settings.exports_dir(), log=lambda _m: None)
    except (ContractMismatch, FileNotFoundError) as exc:
        print(f"✘ {exc}", file=sys.stderr)
        return 1
    print(f"✔ exports: {settings.exports_dir()} ({len(manifest['tables'])} marts; manifest.json)")
    return 0


def dbt_postgres() -> int:
    """The dbt models built in a PostgreSQL database of their own: its schemas staging, intermediate, marts and
    catalogue would collide with the publication's `marts`, so not BOLIGSOSIAL_POSTGRES_URL's database."""
    from orchestration.serve.dbt_postgres import build_models
    from orchestration.serve.postgres import PublicationError, redact

    url = os.environ.get("BOLIGSOSIAL_DBT_POSTGRES_URL", "").strip()
    if not url:
        print("✘ BOLIGSOSIAL_DBT_POSTGRES_URL is not set: postgresql://USER:PASSWORD@HOST:5432/DATABASE, a database "
              "for the dbt build alone (not the publication's)", file=sys.stderr)
        return 2
    if url == (settings.postgres_url() or ""):
        print("✘ BOLIGSOSIAL_DBT_POSTGRES_URL names the publication's database, whose schema marts the build would "
              "overwrite; use another database", file=sys.stderr)
        return 2
    try:
        run = build_models(url, settings.warehouse_path())
    except (PublicationError, FileNotFoundError) as exc:
        print(f"✘ {exc}", file=sys.stderr)
        return 1
    print(run.stdout[-4000:])
    if run.returncode != 0:
        print(f"✘ dbt on PostgreSQL failed ({redact(url)}):\n{run.stderr[-2000:]}", file=sys.stderr)
        return 1
    print(f"✔ dbt models built in {redact(url)} from the raw data of {settings.warehouse_path()}")
    return 0
