"""A separate process for the crash tests: open the system of record (first start), run a
triage, resolve tickets one after another, or run sheet sync cycles, until it is killed."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bot.runtime.executor import execute
from bot.runtime.roster import Roster
from bot.skills.registry import Registry
from bot.stores.factory import open_stores


def main(job: str, data: str, *args: str) -> None:
    if job == "open":  # wait for the barrier, then open (and migrate) at once
        print("waiting", flush=True)
        while not Path(args[0]).exists():
            time.sleep(0.002)
        open_stores(Path(data))
        print("opened", flush=True)
        return
    registry, stores = Registry.load(), open_stores(Path(data))
    roster = Roster.load(stores.workbook)
    print("ready", flush=True)
    if job == "triage":
        execute(registry, stores, "triage-and-assign", roster.resolve(args[0]), {})
    elif job == "resolve":
        caller = roster.resolve(args[0])
        for oid in args[1:]:
            execute(registry, stores, "resolve-ticket", caller, {"order_id": oid, "notes": "ok"})
            print(f"resolved {oid}", flush=True)
    elif job == "sync":
        from bot.stores.sheets_grid import SheetsGrid
        from bot.sync.sheets_sync import SheetSync

        sync = SheetSync(stores, SheetsGrid.from_env())
        while True:
            sync.run_once()
    print("done", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
