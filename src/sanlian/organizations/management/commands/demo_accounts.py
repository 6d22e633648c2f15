"""Print the demo logins, one per role, as a table or as JSON."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sanlian.organizations.demo import demo_accounts


class Command(BaseCommand):
    help = "列出演示账号（每个角色一个）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = demo_accounts()
        if options["json"]:
            self.stdout.write(json.dumps(accounts, ensure_ascii=False, indent=2))
            return
        self.stdout.write("演示账号 / demo logins (password 密码: see column)")
        for a in accounts:
            extra = f"  TOTP: {a['totp_secret']}" if "totp_secret" in a else ""
            self.stdout.write(
                f"  {a['role_label']:<12} {a['username']:<11} {a['password']}  {a['organization']}{extra}"
            )
