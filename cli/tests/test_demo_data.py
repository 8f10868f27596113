"""Unit tests of the Central Java demo data: counts, code shapes, uniqueness, determinism."""

from __future__ import annotations

import re

from grms_cli import demo_data


def test_exactly_36_governments_province_first() -> None:
    govs = demo_data.governments()
    assert len(govs) == 36
    assert (govs[0].code, govs[0].name, govs[0].level) == ("33", "Provinsi Jawa Tengah", "province")
    assert sum(g.level == "regency" for g in govs) == 29
    assert sum(g.level == "city" for g in govs) == 6


def test_government_codes_unique_and_official() -> None:
    govs = demo_data.governments()
    codes = [g.code for g in govs]
    assert len(set(codes)) == 36
    assert all(re.fullmatch(r"33(\.\d{2})?", c) for c in codes)
    by_code = {g.code: g for g in govs}
    assert by_code["33.01"].name == "Kabupaten Cilacap"
    assert by_code["33.29"].name == "Kabupaten Brebes"
    assert by_code["33.71"].name == "Kota Magelang"
    assert by_code["33.74"].name == "Kota Semarang"
    assert by_code["33.76"].name == "Kota Tegal"
    assert all(g.parent_code == "33" for g in govs[1:])
    regency_numbers = sorted(int(c[3:]) for c in codes[1:] if by_code[c].level == "regency")
    assert regency_numbers == list(range(1, 30))
    assert sorted(int(c[3:]) for c in codes[1:] if by_code[c].level == "city") == list(range(71, 77))


def test_48_provincial_agencies_with_unique_sipd_codes() -> None:
    agencies = demo_data.provincial_agencies()
    assert len(agencies) == 48
    assert len({a.code for a in agencies}) == 48
    assert len({a.short_name for a in agencies}) == 48
    assert all(re.fullmatch(r"\d\.\d{2}\.\d\.\d{2}\.\d\.\d{2}\.\d{2}\.\d{4}", a.code) for a in agencies)
    assert all(a.government_code == "33" for a in agencies)
    bappeda = next(a for a in agencies if a.short_name == "Bappeda")
    assert any(c.kind == "email" and c.value == "bappeda@jatengprov.go.id" for c in bappeda.contacts)


def test_six_core_agencies_for_each_regency_and_city() -> None:
    agencies = demo_data.regional_agencies()
    assert len(agencies) == 35 * 6
    keys = {(a.government_code, a.code) for a in agencies}
    assert len(keys) == len(agencies)
    shorts = {a.short_name for a in agencies if a.government_code == "33.74"}
    assert shorts == {"Bappeda", "BPKAD", "Disdik", "Dinkes", "DPU", "Dinsos"}


def test_heads_and_contacts_are_plausible() -> None:
    for agency in demo_data.all_agencies():
        assert re.fullmatch(r"\d{18}", agency.head_nip)
        assert agency.head_name and agency.head_title.startswith(("Kepala", "Sekretaris", "Inspektur", "Direktur"))
        assert agency.contacts and all(c.verified for c in agency.contacts)
        for contact in agency.contacts:
            if contact.kind == "email":
                assert re.fullmatch(r"[a-z0-9]+@[a-z]+(\.[a-z]+)*\.go\.id", contact.value)
            else:
                assert re.fullmatch(r"\+62\d{9,11}", contact.value), contact.value
    semarang_phone = next(c.value for c in demo_data.provincial_agencies()[0].contacts if c.kind == "phone")
    assert semarang_phone.startswith("+6224")


def test_data_is_deterministic() -> None:
    assert demo_data.governments() == demo_data.governments()
    assert demo_data.all_agencies() == demo_data.all_agencies()
    first = demo_data.provincial_agencies()[0]
    assert first.head_nip == demo_data.provincial_agencies()[0].head_nip
