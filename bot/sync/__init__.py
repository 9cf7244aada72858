"""Google Sheets as a two-way view of the system of record: ``sheets_sync.SheetSync`` pushes
the bot's changes and pulls people's edits at a fixed cadence, one sync at a time across
replicas; ``edits.py`` holds the rules a sheet edit must pass."""
