"""dbt's Jinja that sqlfluff's jinja templater lacks (.sqlfluff ``library_path``), so that every
model renders for the linter as dbt renders it while parsing (``execute`` is False):

- ``return(value)``: a macro's value, as in dbt: a macro that returns a list or a dict hands over
  the object, not its text (``return`` raises, and the macro call returns the value).
- macros that call macros of another file: sqlfluff compiles each file of dbt_project/macros on
  its own, before the others are known, so every project macro is first a stand-in that calls
  the real macro by name when it runs (dbt resolves macros at call time too).
- ``env_var(name, default)``: the default (the linter does not read the environment).
- ``adapter``: DuckDB's, the default target: ``dispatch`` finds ``duckdb__<name>``, else
  ``default__<name>`` (macros/engine.sql); ``quote`` double-quotes.

sqlfluff imports this package for every file it templates; Jinja's macro call is patched once
per process. dbt never reads this folder (it is not one of dbt_project.yml's paths).
"""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import jinja2.runtime

MACROS = Path(__file__).resolve().parent.parent / "macros"


class MacroReturn(Exception):  # noqa: N818 - dbt's name for it
    def __init__(self, value):
        super().__init__()
        self.value = value


# One exception class and one patch per process, however often sqlfluff imports this module.
MacroReturn = getattr(jinja2.runtime, "_sqlfluff_dbt_macro_return", MacroReturn)
if not hasattr(jinja2.runtime, "_sqlfluff_dbt_macro_return"):
    jinja2.runtime._sqlfluff_dbt_macro_return = MacroReturn
    _invoke = jinja2.runtime.Macro._invoke
    _from_string = jinja2.Environment.from_string

    def _invoke_returning(self, arguments, autoescape):
        try:
            return _invoke(self, arguments, autoescape)
        except MacroReturn as returned:
            return returned.value

    def _from_string_keeping_globals(self, source, globals=None, template_class=None):
        # sqlfluff compiles every macro file and then the model with the same context dict,
        # which it fills with the macros as it goes: the stand-ins look the macros up there.
        if globals is not None:
            self._sqlfluff_context = globals
        return _from_string(self, source, globals, template_class)

    jinja2.runtime.Macro._invoke = _invoke_returning
    jinja2.Environment.from_string = _from_string_keeping_globals


def _return(value):
    raise MacroReturn(value)


def env_var(name: str, default: str | None = None) -> str:
    return "" if default is None else default


def _stand_in(name: str):
    @jinja2.pass_context
    def call(context, *args, **kwargs):
        macro = getattr(context.environment, "_sqlfluff_context", {}).get(name)
        if macro is None or macro is call:
            raise jinja2.UndefinedError(f"macro {name!r} is not defined")
        return macro(*args, **kwargs)

    return call


class _DuckDBAdapter:
    @jinja2.pass_context
    def dispatch(self, context, name, macro_namespace=None):
        macros = getattr(context.environment, "_sqlfluff_context", {})
        for candidate in (f"duckdb__{name}", f"default__{name}"):
            if candidate in macros:
                return macros[candidate]
        raise jinja2.UndefinedError(f"no duckdb__ or default__ implementation of {name!r}")

    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'


adapter = _DuckDBAdapter()
globals()["return"] = _return
for _name in sorted({m for f in MACROS.glob("*.sql") for m in re.findall(r"{%-?\s*macro\s+(\w+)", f.read_text())}):
    globals()[_name] = _stand_in(_name)
