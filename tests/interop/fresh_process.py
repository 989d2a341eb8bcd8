"""Code run apart from the test's own imports: in a fresh interpreter, for what one process
may do only once (install a tracer provider) or must not have done (import an extra's
package); or an example script loaded as a module."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType


def python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a new interpreter and return what it printed."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def load_example(path: Path) -> ModuleType:
    """An example script, imported under its own name (``example_<stem>``)."""
    name = f"example_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
