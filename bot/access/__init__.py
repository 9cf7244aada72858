"""Access control in one place: the resource/tool guard and the workbook row rules."""

from bot.access.guard import DenialSink, Guard
from bot.access.rows import RowPolicy, ScopedWorkbook

__all__ = ["DenialSink", "Guard", "RowPolicy", "ScopedWorkbook"]
