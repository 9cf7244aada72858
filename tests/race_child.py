"""A separate process that acts on tickets as one person, starting when a barrier file
appears, and prints one JSON line per action (ok or the refusal's text). Used by the race
tests: run two of these at once against the same system of record."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bot.errors import EcmError
from bot.runtime.executor import execute
from bot.runtime.roster import Roster
from bot.skills.registry import Registry
from bot.stores.factory import open_stores


def main(data: str, who: str, skill: str, barrier: str, *order_ids: str) -> None:
    registry, stores = Registry.load(), open_stores(Path(data))
    caller = Roster.load(stores.workbook).resolve(who)
    extra = {
        "resolve-ticket": {"notes": "partner confirmed"},
        "escalate-ticket": {"reason": "partner says bank down"},
        "assign-tickets": {"agent": "james.ops@example.com", "reason": "rebalancing"},
        "take-ticket": {},
        "set-away": {"until": "tomorrow"},  # its "order ids" are only labels
    }[skill]
    print("ready", flush=True)
    while not Path(barrier).exists():
        time.sleep(0.005)
    for oid in order_ids:
        try:
            args = extra if skill == "set-away" else {"order_id": oid, **extra}
            data = execute(registry, stores, skill, caller, args).data
            line = {"order_id": oid, "ok": True, "refused": bool(data.get("refused"))}
            print(json.dumps(line), flush=True)
        except EcmError as exc:
            print(json.dumps({"order_id": oid, "ok": False, "error": str(exc)}), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
