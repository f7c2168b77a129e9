"""The ``mstad`` command line (typer): one module per group of commands, each registering its
commands on the one ``app`` of :mod:`mstad.cli.app` when imported — in :data:`GROUPS` order,
which is the order ``mstad --help`` lists them."""

import importlib

from mstad.cli.app import app, main

#: the command modules: runs and reports, plant data, deployment, the detector list
GROUPS = ("runs", "plant", "deploy", "detectors")
for _group in GROUPS:
    importlib.import_module(f"mstad.cli.{_group}")

__all__ = ["GROUPS", "app", "main"]
