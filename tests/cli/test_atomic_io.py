"""The shared atomic writers (``carbon_cpn.atomic_io``): all or nothing, suffix kept, errors named."""

from __future__ import annotations

from pathlib import Path

import pytest

from carbon_cpn.atomic_io import atomic_path, atomic_save_figure, atomic_write_bytes, atomic_write_text


def test_text_and_bytes_replace_the_file_and_leave_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "table.csv"
    atomic_write_text(path, "a,b\n1,2\n")
    assert path.read_text() == "a,b\n1,2\n"
    atomic_write_bytes(path, b"\x00\x01")
    assert path.read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in path.parent.iterdir()) == ["table.csv"]


def test_an_error_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text("old")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_path(path) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_the_temporary_keeps_the_suffix_and_must_be_written(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nothing was written"):
        with atomic_path(tmp_path / "model.zip") as tmp:
            assert tmp.suffix == ".zip" and tmp.parent == tmp_path
    assert not any(tmp_path.iterdir())


def test_wrong_types_are_named() -> None:
    with pytest.raises(TypeError, match="text: got bytes; expected str"):
        atomic_write_text("x.txt", b"abc")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="data: got str; expected bytes"):
        atomic_write_bytes("x.bin", "abc")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="fig: got int"):
        atomic_save_figure(3, "x.png")


def test_figure_is_saved_in_the_format_of_its_suffix(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    atomic_save_figure(fig, tmp_path / "fig.png", dpi=50)
    atomic_save_figure(fig, tmp_path / "fig.svg")
    plt.close(fig)
    assert (tmp_path / "fig.png").read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in (tmp_path / "fig.svg").read_bytes()[:400]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.png", "fig.svg"]
