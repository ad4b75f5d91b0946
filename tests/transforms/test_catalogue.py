"""The parity table is made from the code and measures exactness (a few cases here; the
docs/transforms.md table is made with 1,000)."""

from __future__ import annotations

from augkit.transforms.catalogue import CHECKERS, TORCHVISION_V2, main, measure, rows


def test_every_torchvision_transform_has_a_row_and_checked_ops_are_measured():
    table = {name: (ours, pillow, exact) for name, ours, pillow, exact in rows(cases=20)}
    assert set(table) == set(TORCHVISION_V2)
    for name in ("RandomInvert", "RandomEqualize", "Pad", "JPEG", "GaussianBlur"):
        assert table[name][0] == name and table[name][2].startswith("exact"), table[name]
    assert table["UniformTemporalSubsample"] == ("UniformTemporalSubsample", "none",
                                                 "no Pillow op")
    assert table["SetClampingMode"][0] == "-"
    assert table["SetClampingMode"][2].startswith("not needed: ")
    assert not [name for name, row in table.items() if row[2] == "missing"]
    assert table["AugMix"] == ("AugMix", "none", "no Pillow op")


def test_a_wrong_kernel_would_show(monkeypatch):
    import augkit.functional as F

    monkeypatch.setattr(F, "invert", lambda image: image)  # not Pillow's invert
    assert measure("RandomInvert", 10).startswith("not exact")
    assert set(CHECKERS) <= set(TORCHVISION_V2)


def test_the_command_writes_the_table(tmp_path):
    out = tmp_path / "transforms.md"
    assert main(["--cases", "3", "--out", str(out)]) == 0
    assert "| RandomSolarize | RandomSolarize | ImageOps.solarize | exact" in out.read_text()
