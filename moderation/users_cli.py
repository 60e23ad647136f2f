"""``moderation users``: console accounts from the command line (passwords only ever from standard input)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import click
from sqlalchemy.orm import Session

from moderation.cli_session import command_session
from moderation.store.users import (
    LANGUAGES,
    ROLES,
    Account,
    UserError,
    create_user,
    disable_user,
    list_accounts,
    remove_user,
    set_language_named,
    set_password,
    set_role,
    set_scope,
)


def _database(ctx: click.Context) -> AbstractContextManager[Session]:
    """One transaction on the configured database; a UserError becomes the command's error message."""
    return command_session(ctx.ensure_object(dict)["settings"], UserError)


def _password() -> str:
    """The password: prompted twice on a terminal, else the first line of standard input (never an argument)."""
    if sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


def _shown(account: Account) -> str:
    """An account as one JSON line (never a password hash)."""
    shown: dict[str, Any] = {"user": account.name, "role": account.role}
    if account.site_scope is not None:  # unscoped accounts print as they always did
        shown["sites"] = list(account.site_scope)
    if account.language is not None:
        shown["lang"] = account.language
    return json.dumps(shown)


def _site_ids(session: Session, slugs: str) -> list[int] | None:
    """Site ids of comma-separated slugs ('' or 'all': every site)."""
    from moderation.store.sites import site_by_slug

    names = [s.strip() for s in slugs.split(",") if s.strip()]
    if not names or names == ["all"]:
        return None
    ids = []
    for slug in names:
        site = site_by_slug(session, slug)
        if site is None:
            raise UserError(f"no site {slug!r}")
        ids.append(site.id)
    return ids


@click.group()
def users() -> None:
    """Console accounts (moderators and admins)."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="moderator", show_default=True)
@click.option("--sites", default="", help="Comma-separated site slugs a moderator acts on (default: all).")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None,
              help="Console language (default: the browser's, until the person picks one in the console).")
@click.pass_context
def users_add(ctx: click.Context, name: str, role: str, sites: str, lang: str | None) -> None:
    """Create an account; the password is read from standard input (first line), never from the command line."""
    password = _password()
    with _database(ctx) as session:
        account = create_user(session, name, role, password, lang)
        scope = _site_ids(session, sites)
        if scope is not None:
            account = set_scope(session, name, scope)
    click.echo(_shown(account))


@users.command("list")
@click.pass_context
def users_list(ctx: click.Context) -> None:
    """Every account with its role and site scope (never a password hash)."""
    with _database(ctx) as session:
        for account in list_accounts(session):
            click.echo(_shown(account))


def _change(ctx: click.Context, change: Callable[[Session], Any], done: dict[str, Any]) -> None:
    """Apply one account change in a transaction and print what was done."""
    with _database(ctx) as session:
        change(session)
    click.echo(json.dumps(done))


@users.command("passwd")
@click.argument("name")
@click.pass_context
def users_passwd(ctx: click.Context, name: str) -> None:
    """A new password from standard input; the account's open sessions end."""
    password = _password()
    _change(ctx, lambda s: set_password(s, name, password), {"user": name, "password": "changed", "sessions": "ended"})


@users.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@click.pass_context
def users_role(ctx: click.Context, name: str, role: str) -> None:
    """A new role; the account's open sessions end."""
    _change(ctx, lambda s: set_role(s, name, role), {"user": name, "role": role, "sessions": "ended"})


@users.command("scope")
@click.argument("name")
@click.argument("sites")
@click.pass_context
def users_scope(ctx: click.Context, name: str, sites: str) -> None:
    """The sites a moderator acts on (comma-separated slugs, or 'all'); their open sessions end."""
    def change(session: Session) -> None:
        set_scope(session, name, _site_ids(session, sites))

    _change(ctx, change, {"user": name, "sites": sites, "sessions": "ended"})


@users.command("lang")
@click.argument("name")
@click.argument("language", type=click.Choice([*LANGUAGES, "browser"]))
@click.pass_context
def users_lang(ctx: click.Context, name: str, language: str) -> None:
    """The account's console language ('browser': follow the browser's Accept-Language again)."""
    chosen = None if language == "browser" else language
    _change(ctx, lambda s: set_language_named(s, name, chosen), {"user": name, "lang": chosen})


@users.command("disable")
@click.argument("name")
@click.pass_context
def users_disable(ctx: click.Context, name: str) -> None:
    """Refuse the account's logins from now on and end its open sessions (its audit trail stays)."""
    _change(ctx, lambda s: disable_user(s, name), {"user": name, "disabled": True, "sessions": "ended"})


@users.command("remove")
@click.argument("name")
@click.pass_context
def users_remove(ctx: click.Context, name: str) -> None:
    """Delete the account; its sessions end with it (audit events keep the name they recorded)."""
    _change(ctx, lambda s: remove_user(s, name), {"user": name, "removed": True})
