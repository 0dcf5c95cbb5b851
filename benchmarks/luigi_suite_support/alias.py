"""``import luigi`` resolves to nbflow: ``luigi`` is ``nbflow``, ``luigi.X`` is ``nbflow.X``.

``python -m luigi ARGS`` runs ``nbflow.cmdline.luigi_run`` (Luigi's command line; nbflow's
own is ``nbflow run ARGS``).

Installed by the suite as ``luigi/__init__.py`` on the nbflow run's path. A meta-path
finder hands out nbflow's own module objects under Luigi's names, so classes keep one
identity (``luigi.task.Task is nbflow.Task``) and no nbflow module runs twice.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys


class _Command(importlib.abc.InspectLoader):
    """``python -m luigi``: Luigi's command line, which nbflow has as ``luigi_run``."""

    def get_source(self, fullname):
        return "from nbflow.cmdline import luigi_run\n\nluigi_run()\n"

    def is_package(self, fullname):
        return False


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``luigi.<name>`` as ``nbflow.<name>``."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == "luigi.__main__":
            return importlib.util.spec_from_loader(fullname, _Command())
        if not fullname.startswith("luigi."):
            return None
        target_name = "nbflow." + fullname[len("luigi.") :]
        if importlib.util.find_spec(target_name) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        return importlib.import_module("nbflow." + spec.name[len("luigi.") :])

    def exec_module(self, module):
        """The nbflow module is already executed."""


sys.meta_path.insert(0, _Alias())
sys.modules["luigi"] = importlib.import_module("nbflow")
