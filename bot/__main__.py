"""``python -m bot`` is the same as the ``ecm-bot`` command."""

from bot.cli import main

main()
