"""Interop: seamline's contracts on top of the protocols and frameworks agents already use.

Each integration is a module of its own behind an extra, imported lazily, so the core
install imports none of them.
"""
