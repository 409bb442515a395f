"""``learnsight lrs …`` and ``learnsight serve``: run and administer the xAPI LRS (issue 6).

* ``lrs credentials add|list|revoke`` — HTTP Basic credentials with xAPI scopes
  (:mod:`learnsight.lrs.auth`; only a salted scrypt digest of a secret is kept);
* ``lrs erase-actor`` — privacy: erase every statement, document and profile of one learner and
  report what was removed (:meth:`learnsight.lrs.backend.LRSBackend.erase_actor`);
* ``serve`` — the LRS on uvicorn (:func:`learnsight.lrs.create_app`).

``--db`` takes a DuckDB path (default: the learnsight store) or a ``postgresql://`` URL.
"""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from learnsight.commands.common import JsonFlag, console, err_console
from learnsight.errors import LearnsightError

if TYPE_CHECKING:
    from learnsight.lrs.backend import LRSBackend

lrs_app = typer.Typer(help="Administer the xAPI Learning Record Store.", no_args_is_help=True)
credentials_app = typer.Typer(help="HTTP Basic credentials with xAPI scopes.", no_args_is_help=True)
lrs_app.add_typer(credentials_app, name="credentials")

TargetOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="DuckDB store path or postgresql:// URL. Default: $LEARNSIGHT_DB or the user data dir."
    ),
]


def open_target(db: str | None) -> LRSBackend:
    """The LRS backend of ``--db`` (the default store when absent)."""
    from learnsight.lrs.connect import open_backend

    if db is None:
        from learnsight.settings import get_settings

        db = str(get_settings().db)
    return open_backend(db)


@credentials_app.command("add")
def credentials_add(
    key: Annotated[str, typer.Argument(help="The credential's key (the Basic user name).")],
    secret: Annotated[
        str | None, typer.Option("--secret", help="The secret; default: a random one, printed once.")
    ] = None,
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope",
            help="An xAPI scope (repeatable): statements/write, statements/read, "
            "statements/read/mine, state, define, profile, all. Default: all.",
        ),
    ] = None,
    db: TargetOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Create (or replace) a credential."""
    from learnsight.lrs.auth import add_credential

    generated = secret is None
    secret = secret if secret is not None else secrets.token_urlsafe(24)
    scopes = scope or ["all"]
    backend = open_target(db)
    try:
        add_credential(backend, key, secret, scopes)
    except ValueError as exc:
        raise LearnsightError(f"--scope/--secret/KEY: {exc}") from None
    finally:
        backend.close()
    result = {"key": key, "scopes": sorted(set(scopes)), **({"secret": secret} if generated else {})}
    if as_json:
        console.print_json(json.dumps(result))
        return
    console.print(f"credential [bold]{key}[/] with scopes {', '.join(result['scopes'])}")
    if generated:
        console.print(f"secret (shown once): [bold]{secret}[/]")


@credentials_app.command("list")
def credentials_list(db: TargetOption = None, as_json: JsonFlag = False) -> None:
    """List the credentials (never their secrets)."""
    backend = open_target(db)
    try:
        records = backend.list_credentials()
    finally:
        backend.close()
    rows = [
        {
            "key": r.key,
            "scopes": list(r.scopes),
            "authority": r.authority,
            "created_at": r.created_at.isoformat(),
        }
        for r in records
    ]
    if as_json:
        console.print_json(json.dumps(rows))
        return
    table = Table("key", "scopes", "authority", "created")
    for r in records:
        table.add_row(r.key, " ".join(r.scopes), json.dumps(r.authority), r.created_at.isoformat())
    console.print(table)


@credentials_app.command("revoke")
def credentials_revoke(
    key: Annotated[str, typer.Argument(help="The credential to remove.")], db: TargetOption = None
) -> None:
    """Remove a credential; its requests are refused (401) from then on."""
    backend = open_target(db)
    try:
        removed = backend.delete_credential(key)
    finally:
        backend.close()
    if not removed:
        raise LearnsightError(f"KEY: no credential {key!r}")
    console.print(f"revoked [bold]{key}[/]")


@lrs_app.command("erase-actor")
def erase_actor(
    agent: Annotated[
        str, typer.Option("--agent", help='The learner as an xAPI Agent, e.g. {"mbox": "mailto:a@b.org"}.')
    ],
    db: TargetOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Erase every statement, document and profile of one learner, and report what was removed."""
    from learnsight.lrs.query import parse_agent
    from learnsight.lrs.statements import LRSError

    try:
        key = parse_agent(agent)
    except LRSError as exc:
        raise LearnsightError(f"--agent: {exc.message}") from None
    if not yes and not typer.confirm(f"Erase everything about {key}?"):
        raise typer.Exit(1)
    backend = open_target(db)
    try:
        report = backend.erase_actor(key)
    finally:
        backend.close()
    if as_json:
        console.print_json(json.dumps(report.to_dict()))
        return
    table = Table("removed", "count", title=f"erased {key}")
    for name, count in report.to_dict().items():
        if name != "actor":
            table.add_row(name, str(count))
    console.print(table)


def serve(
    db: TargetOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    credential: Annotated[
        list[str] | None,
        typer.Option("--credential", help="KEY:SECRET[:SCOPE,SCOPE] to create at start (repeatable)."),
    ] = None,
    default_version: Annotated[
        str, typer.Option(help="xAPI version named in answers to requests that name none.")
    ] = "2.0.0",
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the xAPI LRS (statements, documents, activities, agents, about) under /xAPI."""
    import uvicorn

    from learnsight.lrs import create_app

    made: dict[str, tuple[str, list[str]]] = {}
    for item in credential or []:
        parts = item.split(":")
        if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
            raise LearnsightError(f"--credential: {item!r} is not KEY:SECRET[:SCOPES]")
        made[parts[0]] = (parts[1], parts[2].split(",") if len(parts) == 3 else ["all"])
    try:
        app = create_app(open_target(db), credentials=made, default_version=default_version)
    except ValueError as exc:
        raise LearnsightError(f"--credential/--default-version: {exc}") from None
    err_console.print(f"xAPI LRS on http://{host}:{port}/xAPI (Ctrl-C stops)")
    uvicorn.run(app, host=host, port=port, log_level=log_level)


__all__ = ["credentials_app", "lrs_app", "serve"]
