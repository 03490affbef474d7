"""The native SCAPI shim driver that Siebel's Communications Server loads.

The C sources (``src/``, ``include/scapi_compat.h``, the fake channel manager in
``fakecm/``) are package data; :mod:`siebel_gateway.shim.build` compiles them
(``siebel-gateway shim build``).  docs/shim.md is the administrator's guide.
"""

from __future__ import annotations

__all__: list[str] = []
