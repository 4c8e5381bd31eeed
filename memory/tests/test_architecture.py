"""memory's modules import each other one way: tasks use services, never the reverse."""

import grimp
import pytest


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("memory", "chat", "personas", "mybella")


def test_services_never_import_tasks(graph):
    """Services ask for background work with a signal (`memory.signals`), not by import."""
    assert graph.find_shortest_chain(importer="memory.services", imported="memory.tasks") is None


def test_read_modules_do_not_write_or_queue(graph):
    """Selectors and recall read; they reach neither the services nor the tasks."""
    for reader in ["memory.selectors", "memory.recall"]:
        for writer in ["memory.services", "memory.tasks"]:
            assert graph.find_shortest_chain(importer=reader, imported=writer) is None, (
                reader,
                writer,
            )


def test_no_import_cycle_between_memorys_modules(graph):
    """No two of memory's top-level modules (or packages) import each other, even indirectly."""
    modules = sorted(
        module
        for module in graph.find_children("memory")
        if module.rsplit(".", 1)[-1] not in {"tests", "migrations"}
    )
    for importer in modules:
        for imported in modules:
            if importer < imported:
                there = graph.chain_exists(importer, imported, as_packages=True)
                back = graph.chain_exists(imported, importer, as_packages=True)
                assert not (there and back), (importer, imported)
