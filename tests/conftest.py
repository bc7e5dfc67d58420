"""Fixtures shared by the tests that start the LUMI test node (the snippets' container)."""

import pytest

import lumi_node


@pytest.fixture(scope="session")
def image():
    """The node's image, built once per run if the cache misses (minutes when it is cold)."""
    try:
        lumi_node.check_can_start()
        return lumi_node.ensure_image()
    except lumi_node.LumiNodeError as err:
        pytest.fail(f"test container unavailable: {err}")


@pytest.fixture
def node_dirs(image, tmp_path):
    """(home, work): fresh host directories for one node shell's $HOME and working directory."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    return home, work
