"""``kiosk staff add NAME | list | remove NAME | unlock NAME``: staff accounts on this kiosk.

``add`` asks for the PIN twice without echo (getpass), or reads it from the
first line of standard input with ``--pin-stdin`` (scripts, tests). The PIN is
never printed or logged; only its salted scrypt hash is stored.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Final

from kiosk.staff.accounts import StaffAccounts, StaffError, check_pin_format
from kiosk.store import Store, StoreError


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    staff = subparsers.add_parser("staff", help="staff accounts (PIN login to staff mode)")
    sub = staff.add_subparsers(dest="staff_command", required=True)
    add = sub.add_parser("add", help="add a staff member (asks for a 4-8 digit PIN twice)")
    add.add_argument("name")
    add.add_argument(
        "--pin-stdin", action="store_true", help="read the PIN from the first line of stdin"
    )
    sub.add_parser("list", help="list staff members and their lockout state")
    remove = sub.add_parser("remove", help="remove a staff member")
    remove.add_argument("name")
    unlock = sub.add_parser("unlock", help="lift a PIN lockout")
    unlock.add_argument("name")


def _read_pin(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().strip()
    first = getpass.getpass("PIN (4-8 digits): ")
    check_pin_format(first)
    second = getpass.getpass("PIN again: ")
    if first != second:
        raise StaffError("the two PINs differ")
    return first


def _add(accounts: StaffAccounts, args: argparse.Namespace) -> int:
    account = accounts.add(args.name, _read_pin(args.pin_stdin))
    print(f"added {account.name}")
    return 0


def _list(accounts: StaffAccounts, _args: argparse.Namespace) -> int:
    for a in accounts.all():
        locked = accounts.locked_for(a.name)
        state = f"locked {int(locked)} s" if locked else "active"
        print(f"{a.name}\tlast login {a.last_login_at or '-'}\t{state}")
    return 0


def _remove(accounts: StaffAccounts, args: argparse.Namespace) -> int:
    if not accounts.remove(args.name):
        print(f"no staff member {args.name!r}", file=sys.stderr)
        return 1
    print(f"removed {args.name}")
    return 0


def _unlock(accounts: StaffAccounts, args: argparse.Namespace) -> int:
    if not accounts.unlock(args.name):
        print(f"no staff member {args.name!r}", file=sys.stderr)
        return 1
    print(f"unlocked {args.name}")
    return 0


COMMANDS: Final[dict[str, Callable[[StaffAccounts, argparse.Namespace], int]]] = {
    "add": _add,
    "list": _list,
    "remove": _remove,
    "unlock": _unlock,
}


def run(args: argparse.Namespace, data_dir: Path) -> int:
    """0 done, 1 refused (the reason is printed), 2 bad usage."""
    command = COMMANDS.get(args.staff_command)
    if command is None:
        print(f"unknown staff command {args.staff_command!r}", file=sys.stderr)
        return 2
    try:
        store = Store(data_dir)
    except StoreError as exc:
        print(f"database problem: {exc}", file=sys.stderr)
        return 1
    try:
        return command(StaffAccounts(store), args)
    except (StaffError, StoreError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
