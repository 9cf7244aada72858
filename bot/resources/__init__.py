"""The ECM shared resources (queries, runbooks, config, guardrails): ``files`` reads them (YAML
parsed once per change), ``loading`` gives a running skill guarded access, ``validation``
checks their consistency for ``ecm-bot skills validate``."""

from bot.resources.files import load_yaml, query_header
from bot.resources.loading import Resources
from bot.resources.validation import check_resources

__all__ = ["Resources", "check_resources", "load_yaml", "query_header"]
