"""The precomputed table: current, equal to the validated TOML, and never stale (issue #9 §7)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from llmcheck.catalog import Catalog, CatalogError, load_catalog, load_catalog_from, precomputed
from llmcheck.catalog.schema import build, parse_sources, read_sources
from llmcheck.resources import resource_path

SHIPPED = Path(str(resource_path("catalog")))


def _validated_toml(folder: Path) -> Catalog:
    """The catalog the slow path builds: every file parsed by tomllib, then validated."""
    return build(parse_sources(read_sources(folder)))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the shipped catalog, its precomputed table included."""
    for entry in SHIPPED.iterdir():
        if entry.name.endswith((".toml", ".json")):
            (tmp_path / entry.name).write_bytes(entry.read_bytes())
    assert (tmp_path / precomputed.TABLE_NAME).is_file()
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _uses_table(folder: Path) -> bool:
    return precomputed.stored_documents(folder, read_sources(folder)) is not None


def test_shipped_table_is_current() -> None:
    """Fails after a catalog edit until `python -m llmcheck.catalog` regenerates the table."""
    stored = (SHIPPED / precomputed.TABLE_NAME).read_text(encoding="utf-8")
    assert stored == precomputed.render(SHIPPED), "run: python -m llmcheck.catalog"


def test_shipped_catalog_is_read_from_the_table() -> None:
    assert _uses_table(SHIPPED)


def test_table_and_toml_give_identical_catalogs() -> None:
    fast = load_catalog_from(SHIPPED)
    slow = _validated_toml(SHIPPED)
    assert fast == slow
    # repr shows every field with its type's own form (a list where a tuple belongs would show).
    assert repr(fast) == repr(slow)
    for f, s in zip(fast.variants, slow.variants, strict=True):
        # quant_table is left out of ModelVariant's == and repr.
        assert f.quant_table == s.quant_table
        assert f.quant_table is fast.quant_table
        assert f.architecture is next(a for a in fast.architectures if a.id == f.backbone)


def test_load_catalog_does_not_parse_toml_at_start_up() -> None:
    """In a fresh interpreter the shipped catalog loads without importing tomllib."""
    code = (
        "import sys, llmcheck.catalog as c; n = len(c.load_catalog().variants); "
        "print(n, 'tomllib' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == [str(len(load_catalog().variants)), "False"]


def test_an_edited_file_is_read_not_the_stale_table(folder: Path) -> None:
    _edit(folder / "models-1-lfm2.toml", 'task = "chat"', 'task = "chat, edited"')
    assert not _uses_table(folder)
    assert load_catalog_from(folder).variants[0].task == "chat, edited"


def test_an_edit_of_the_same_length_is_caught(folder: Path) -> None:
    """The CRC-32, not only the length, ties the table to the text: 1024 -> 1025 is caught."""
    _edit(folder / "architectures.toml", "hidden_size = 1024", "hidden_size = 1025")
    assert not _uses_table(folder)
    with pytest.raises(
        CatalogError, match=r"architectures\.toml: architectures\.lfm2-350m\.hidden_size: 1025"
    ):
        load_catalog_from(folder)


def test_a_broken_edit_names_file_and_key_with_the_table_present(folder: Path) -> None:
    _edit(folder / "models-1-lfm2.toml", 'task = "chat"\n', "")
    with pytest.raises(CatalogError, match=r"models-1-lfm2\.toml: variants\[0\]\.task: missing"):
        load_catalog_from(folder)


def test_an_added_file_is_read(folder: Path) -> None:
    (folder / "zz-extra.toml").write_text("[modles]\nx = 1\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"zz-extra\.toml: modles: unknown top-level key"):
        load_catalog_from(folder)


def test_a_removed_file_is_missed(folder: Path) -> None:
    (folder / "models-3-vision.toml").unlink()
    assert not _uses_table(folder)
    assert all(v.kind == "text" for v in load_catalog_from(folder).variants)


@pytest.mark.parametrize(
    "damage",
    [
        "",
        "{not json",
        "[]",
        '{"format": 999, "files": []}',
        '{"format": 1, "files": "x"}',
        '{"format": 1, "files": [1, 2, 3, 4, 5]}',
        "[" * 100_000,
    ],
    ids=["empty", "not-json", "a-list", "other-format", "files-not-a-list", "bad-entries", "deep"],
)
def test_a_damaged_table_is_ignored(folder: Path, damage: str) -> None:
    (folder / precomputed.TABLE_NAME).write_text(damage, encoding="utf-8")
    assert not _uses_table(folder)
    assert load_catalog_from(folder) == load_catalog()


def test_a_document_swapped_in_the_table_is_not_trusted_blindly(folder: Path) -> None:
    """The table's own fingerprint must match the files: copying another folder's is refused."""
    table = folder / precomputed.TABLE_NAME
    text = table.read_text(encoding="utf-8")
    table.write_text(text.replace('"architectures.toml"', '"architectures2.toml"', 1), "utf-8")
    assert not _uses_table(folder)


@pytest.mark.parametrize(
    ("released", "expected"),
    [
        ("2025-07-10", "2025-07-10"),
        ("2025-07-10T07:32:00", "2025-07-10T07:32:00"),
        ("2025-07-10T07:32:00+02:00", "2025-07-10T07:32:00+02:00"),
    ],
)
def test_toml_dates_survive_the_table(folder: Path, released: str, expected: str) -> None:
    """A TOML date (not a string) in `released` is stored tagged and read back as a date."""
    _edit(folder / "models-1-lfm2.toml", 'released = "2025-07-10"', f"released = {released}")
    (folder / precomputed.TABLE_NAME).write_text(precomputed.render(folder), encoding="utf-8")
    assert _uses_table(folder)
    fast = load_catalog_from(folder)
    assert fast.variants[0].released == expected
    assert fast == _validated_toml(folder)


def test_render_refuses_an_invalid_catalog(folder: Path) -> None:
    _edit(folder / "architectures.toml", "hidden_size = 1024", 'hidden_size = "1024"')
    with pytest.raises(CatalogError, match=r"architectures\.lfm2-350m\.hidden_size: expected"):
        precomputed.render(folder)


def test_render_refuses_a_value_json_cannot_hold(folder: Path) -> None:
    """An ignored key holding a time of day: valid catalog, but no exact JSON form."""
    _edit(folder / "models-1-lfm2.toml", 'task = "chat"', 'task = "chat"\nwhen = 07:32:00')
    with pytest.raises(CatalogError, match="cannot precompute"):
        precomputed.render(folder)


def test_main_checks_and_regenerates(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert precomputed.main(["--check", str(folder)]) == 0
    _edit(folder / "models-1-lfm2.toml", 'task = "chat"', 'task = "chat, edited"')
    assert precomputed.main(["--check", str(folder)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert precomputed.main([str(folder)]) == 0
    assert "written" in capsys.readouterr().out
    assert _uses_table(folder)
    assert precomputed.main(["--check", str(folder)]) == 0
    _edit(folder / "models-1-lfm2.toml", 'task = "chat, edited"', "task = 1")
    assert precomputed.main([str(folder)]) == 2
    assert "variants[0].task: expected a string" in capsys.readouterr().err
