"""The commune list: the official list of the `vietnam-provinces` package loaded by
`flask communes import-official`, a package update applied by running it again without losing
the operator's corrections or breaking stored addresses, the operator's CSV and pages, and the
table of neighbouring provinces."""

from __future__ import annotations

import csv
import json
from collections import Counter

import pytest
from sqlalchemy import func, select
from vietnam_provinces import NESTED_DIVISIONS_JSON_PATH

from marketplace import addresses
from marketplace.communes import official_units
from marketplace.extensions import db
from marketplace.models import Commune
from sellers.models import Shop
from tests.support import sign_in


def _package() -> list[dict]:
    with open(NESTED_DIVISIONS_JSON_PATH, encoding="utf-8") as fh:
        return json.load(fh)


def _import(runner, *args: str) -> str:
    result = runner.invoke(args=["communes", "import-official", *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def _commune(name: str, province: str = "Hà Tĩnh") -> Commune:
    db.session.expire_all()
    return db.session.scalar(select(Commune).where(Commune.province == province, Commune.name == name))


def test_the_official_list_loads_every_province_and_ha_tinh_has_69_units(runner):
    output = _import(runner)
    assert "34 province(s): 3321 added, 0 updated, 0 unchanged, 0 deactivated" in output
    assert "vietnam-provinces 2025.10.1" in output

    per_province = dict(
        db.session.execute(select(Commune.province, func.count()).group_by(Commune.province)).all()
    )
    package = _package()
    assert set(per_province) == {p["name"] for p in package}
    assert len(per_province) == 34
    assert per_province == {p["name"]: len(p["wards"]) for p in package}
    assert per_province["Hà Tĩnh"] == 69
    # Stored as addresses print them, with the unit word; codes are the 5-digit official ones.
    ky_xuan = _commune("Xã Kỳ Xuân")
    assert (ky_xuan.kind, ky_xuan.code, ky_xuan.source, ky_xuan.active) == ("xa", "18766", "official", True)
    assert _commune("Phường Sông Trí").kind == "phuong"
    assert _commune("Phường Hoàn Kiếm", "Thành phố Hà Nội").code == "00070"
    kinds = Counter(db.session.scalars(select(Commune.kind)))
    assert set(kinds) == {"xa", "phuong", "dac_khu"} and kinds["dac_khu"] > 0

    again = _import(runner)
    assert "0 added, 0 updated, 3321 unchanged, 0 deactivated" in again
    one = _import(runner, "--province", "ha noi")  # any spelling of "Thành phố Hà Nội"
    assert "1 province(s): 0 added, 0 updated, 126 unchanged" in one
    result = runner.invoke(args=["communes", "import-official", "--province", "Atlantis"])
    assert result.exit_code != 0 and "Atlantis" in result.output


def _updated_package(tmp_path, changes) -> str:
    """A copy of the package's data with Hà Tĩnh changed by `changes(wards)`: a package update."""
    package = _package()
    ha_tinh = next(p for p in package if p["name"] == "Hà Tĩnh")
    changes(ha_tinh["wards"])
    path = tmp_path / "nested-divisions.json"
    path.write_text(json.dumps(package, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_a_reimport_keeps_the_operators_corrections_and_applies_the_update(
    app, runner, factory, tmp_path, csrf_off
):
    _import(runner, "--province", "Hà Tĩnh")
    operator = sign_in(app.test_client(), factory.operator())
    ky_xuan, song_tri, son_kim = _commune("Xã Kỳ Xuân"), _commune("Phường Sông Trí"), _commune("Xã Sơn Kim 1")
    # The operator corrects one unit on the commune page…
    response = operator.post(
        f"/quan-tri/xa-phuong/{ky_xuan.id}",
        data={"name": "Xã Kỳ Xuân (đã sửa)", "kind": "xa", "province": "Hà Tĩnh", "code": "18766"},
    )
    assert response.status_code == 302
    assert _commune("Xã Kỳ Xuân (đã sửa)").operator_fields == ["name"]
    # …and a shop is registered in a unit the next version of the list drops.
    shop = factory.shop(commune_id=son_kim.id)

    def update(wards):
        for ward in wards:
            if ward["name"] == "Xã Kỳ Xuân":
                ward["name"] = "Xã Kỳ Xuân Mới"  # the operator corrected this one: theirs stays
            if ward["name"] == "Phường Sông Trí":
                ward["name"] = "Phường Sông Trí Mới"  # untouched by the operator: follows the list
        wards[:] = [w for w in wards if w["name"] != "Xã Sơn Kim 1"]
        wards.append(
            {
                "name": "Xã Thử Nghiệm",
                "code": 99999,
                "division_type": "xã",
                "codename": "x",
                "short_codename": "x",
            }
        )

    output = _import(runner, "--province", "Hà Tĩnh", "--data", _updated_package(tmp_path, update))
    assert "1 province(s): 1 added, 1 updated, 67 unchanged, 1 deactivated" in output
    assert "kept as corrected ('Xã Kỳ Xuân (đã sửa)')" in output and "'Xã Kỳ Xuân Mới'" in output
    db.session.expire_all()
    assert db.session.get(Commune, ky_xuan.id).name == "Xã Kỳ Xuân (đã sửa)"
    assert db.session.get(Commune, song_tri.id).name == "Phường Sông Trí Mới"
    gone = db.session.get(Commune, son_kim.id)  # referenced by a shop: kept, no longer offered
    assert gone is not None and not gone.active
    assert db.session.get(Shop, shop.id).commune_id == son_kim.id
    assert _commune("Xã Thử Nghiệm").code == "99999"
    assert db.session.scalar(select(func.count()).select_from(Commune)) == 70

    # Back to the installed package: the unit returns, the test unit goes, the correction stays.
    output = _import(runner, "--province", "Hà Tĩnh")
    assert "0 added, 2 updated, 67 unchanged, 1 deactivated" in output
    db.session.expire_all()
    assert db.session.get(Commune, son_kim.id).active
    assert not _commune("Xã Thử Nghiệm").active
    assert db.session.get(Commune, song_tri.id).name == "Phường Sông Trí"
    assert db.session.get(Commune, ky_xuan.id).name == "Xã Kỳ Xuân (đã sửa)"

    # "Theo danh sách chính thức" forgets the correction; the next import applies the list.
    operator.post(f"/quan-tri/xa-phuong/{ky_xuan.id}/theo-danh-sach-chinh-thuc")
    _import(runner, "--province", "Hà Tĩnh")
    db.session.expire_all()
    assert db.session.get(Commune, ky_xuan.id).name == "Xã Kỳ Xuân"


def test_a_unit_the_operator_stopped_offering_stays_stopped(app, runner, factory, csrf_off):
    _import(runner, "--province", "Hà Tĩnh")
    operator = sign_in(app.test_client(), factory.operator())
    row = _commune("Xã Kỳ Lạc")
    assert operator.post(f"/quan-tri/xa-phuong/{row.id}/bat-tat").status_code == 302
    _import(runner, "--province", "Hà Tĩnh")
    row = _commune("Xã Kỳ Lạc")
    assert not row.active and row.operator_fields == ["active"]
    assert row.id not in {c.id for c in addresses.communes_of("Hà Tĩnh")}


def _correct(operator, row: Commune, **changes: str) -> None:
    data = {"name": row.name, "kind": row.kind, "province": row.province, "code": row.code or ""}
    response = operator.post(f"/quan-tri/xa-phuong/{row.id}", data={**data, **changes})
    assert response.status_code == 302, response.get_data(as_text=True)


def _count(**where: str) -> int:
    query = select(func.count()).select_from(Commune)
    for name, value in where.items():
        query = query.where(getattr(Commune, name) == value)
    return db.session.scalar(query)


def test_a_corrected_code_survives_a_reimport_without_deactivation_or_duplicate(
    app, runner, factory, csrf_off
):
    _import(runner, "--province", "Hà Tĩnh")
    operator = sign_in(app.test_client(), factory.operator())
    ky_xuan = _commune("Xã Kỳ Xuân")
    _correct(operator, ky_xuan, code="18766-A")
    ky_xuan = _commune("Xã Kỳ Xuân")
    assert (ky_xuan.code, ky_xuan.operator_fields) == ("18766-A", ["code"])

    output = _import(runner, "--province", "Hà Tĩnh")
    assert "0 added, 0 updated, 69 unchanged, 0 deactivated" in output
    assert "code kept as corrected ('18766-A'); the official list says '18766'" in output
    row = db.session.get(Commune, ky_xuan.id)
    assert (row.active, row.code, row.name) == (True, "18766-A", "Xã Kỳ Xuân")
    assert row.id in {c.id for c in addresses.communes_of("Hà Tĩnh")}  # still offered in forms
    assert _count(province="Hà Tĩnh") == 69

    # The name corrected as well: still the same unit of the list, still no second "Xã Kỳ Xuân".
    _correct(operator, row, name="Xã Kỳ Xuân (Kỳ Anh)")
    output = _import(runner)
    assert "3252 added, 0 updated, 69 unchanged, 0 deactivated" in output  # the other 33 provinces
    row = db.session.get(Commune, ky_xuan.id)
    assert (row.active, row.code, row.name) == (True, "18766-A", "Xã Kỳ Xuân (Kỳ Anh)")
    assert _commune("Xã Kỳ Xuân") is None and _count() == 3321

    # "Theo danh sách chính thức": the list's code and name come back on the same row.
    operator.post(f"/quan-tri/xa-phuong/{row.id}/theo-danh-sach-chinh-thuc")
    _import(runner, "--province", "Hà Tĩnh")
    row = db.session.get(Commune, ky_xuan.id)
    assert (row.code, row.name, row.active) == ("18766", "Xã Kỳ Xuân", True)


def test_a_corrected_province_survives_a_reimport_of_either_province(app, runner, factory, csrf_off):
    _import(runner, "--province", "Hà Tĩnh")
    _import(runner, "--province", "Nghệ An")
    operator = sign_in(app.test_client(), factory.operator())
    ky_xuan = _commune("Xã Kỳ Xuân")
    nghe_an = _count(province="Nghệ An")
    _correct(operator, ky_xuan, province="Nghệ An")
    assert _commune("Xã Kỳ Xuân", "Nghệ An").operator_fields == ["province"]

    for province in ("Nghệ An", "Hà Tĩnh"):  # Nghệ An's list lacks it; Hà Tĩnh's names it
        output = _import(runner, "--province", province)
        assert "0 added" in output and "0 deactivated" in output, output
        row = db.session.get(Commune, ky_xuan.id)
        assert (row.active, row.province, row.code) == (True, "Nghệ An", "18766")
    output = _import(runner)
    assert "3122 added, 0 updated, 199 unchanged, 0 deactivated" in output  # the other 32 provinces
    assert "province kept as corrected ('Nghệ An'); the official list says 'Hà Tĩnh'" in output
    assert _commune("Xã Kỳ Xuân") is None  # no new row in Hà Tĩnh
    assert (_count(province="Hà Tĩnh"), _count(province="Nghệ An")) == (68, nghe_an + 1)
    assert ky_xuan.id in {c.id for c in addresses.communes_of("Nghệ An")}


def test_a_reimport_still_deactivates_what_left_the_list_unless_corrected(
    app, runner, factory, tmp_path, csrf_off
):
    _import(runner, "--province", "Hà Tĩnh")
    operator = sign_in(app.test_client(), factory.operator())
    _correct(operator, _commune("Xã Kỳ Lạc"), name="Xã Kỳ Lạc (đã sửa)")
    gone = ("Xã Kỳ Lạc", "Xã Sơn Kim 1")
    data = _updated_package(
        tmp_path, lambda wards: wards.__setitem__(slice(None), [w for w in wards if w["name"] not in gone])
    )
    output = _import(runner, "--province", "Hà Tĩnh", "--data", data)
    assert "1 deactivated" in output
    assert not _commune("Xã Sơn Kim 1").active  # untouched by the operator: follows the list
    assert _commune("Xã Kỳ Lạc (đã sửa)").active  # corrected: the operator's to switch off


def test_rows_typed_in_by_hand_or_by_the_old_demo_are_adopted_not_duplicated(runner):
    old = Commune(name="Phường Thành Sen", kind="phuong", province="Hà Tĩnh", code="DEMO-HT-01")
    bare = Commune(name="Kỳ Xuân", kind="xa", province="Tỉnh Hà Tĩnh")  # no unit word, other spelling
    db.session.add_all([old, bare])
    db.session.commit()
    output = _import(runner, "--province", "Hà Tĩnh")
    assert "67 added, 2 updated" in output
    db.session.expire_all()
    assert (old.code, old.source) == ("18073", "official")
    assert (bare.name, bare.province, bare.code) == ("Xã Kỳ Xuân", "Hà Tĩnh", "18766")
    assert db.session.scalar(select(func.count()).select_from(Commune)) == 69


def test_the_operators_csv_adds_units_and_its_changes_are_corrections(runner, tmp_path):
    _import(runner, "--province", "Hà Tĩnh")
    path = tmp_path / "communes.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["name", "kind", "province", "code"])
        writer.writerow(["Phường Sông Trí (Kỳ Anh)", "phuong", "Hà Tĩnh", "18754"])  # renames by code
        writer.writerow(["Xã Hải Đảo", "dac_khu", "Hà Tĩnh", ""])  # a unit of the operator's own
    result = runner.invoke(args=["communes", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 added, 1 updated" in result.output
    corrected = db.session.scalar(select(Commune).where(Commune.code == "18754"))
    assert corrected.name == "Phường Sông Trí (Kỳ Anh)" and corrected.operator_fields == ["name"]
    own = _commune("Xã Hải Đảo")
    assert (own.source, own.kind) == ("operator", "dac_khu")
    _import(runner, "--province", "Hà Tĩnh")
    db.session.expire_all()
    assert corrected.name == "Phường Sông Trí (Kỳ Anh)"
    assert own.active  # the official list never deactivates the operator's own rows
    listed = runner.invoke(args=["communes", "list", "--province", "ha tinh"]).output
    assert "Phường Sông Trí (Kỳ Anh)" in listed and "corrected: name" in listed
    assert "Hà Nội" not in listed


def test_the_operators_commune_pages(app, runner, factory, csrf_off):
    _import(runner, "--province", "Hà Tĩnh")
    _import(runner, "--province", "Hà Nội")
    operator = sign_in(app.test_client(), factory.operator())
    page = operator.get("/quan-tri/xa-phuong").get_data(as_text=True)
    assert "Hà Tĩnh (69)" in page and "Thành phố Hà Nội (126)" in page
    assert "Xã Kỳ Xuân" in page and "Phường Hoàn Kiếm" not in page  # one province at a time
    page = operator.get("/quan-tri/xa-phuong?tinh=ha+noi&q=hoan+kiem").get_data(as_text=True)
    assert "Phường Hoàn Kiếm" in page and "Phường Ba Đình" not in page
    response = operator.post(
        "/quan-tri/xa-phuong",
        data={"name": "Phường Thử", "kind": "phuong", "province": "Thành phố Hà Nội", "code": ""},
    )
    assert response.status_code == 302
    row = _commune("Phường Thử", "Thành phố Hà Nội")
    assert (row.source, row.operator_fields) == ("operator", [])
    taken = operator.post(
        "/quan-tri/xa-phuong",
        data={"name": "Xã Kỳ Xuân", "kind": "xa", "province": "Hà Tĩnh", "code": ""},
    )
    assert "đã có trong danh sách" in taken.get_data(as_text=True)
    buyer = sign_in(app.test_client(), factory.user())
    assert buyer.get(f"/quan-tri/xa-phuong/{row.id}").status_code == 403
    assert buyer.post(f"/quan-tri/xa-phuong/{row.id}/bat-tat").status_code == 403


def test_the_package_units_are_read_as_stored():
    units = official_units("Hà Tĩnh")
    assert len(units) == 69 and len({u.code for u in units}) == 69
    assert {u.kind for u in units} == {"xa", "phuong"}
    assert all(u.name.startswith(("Xã ", "Phường ")) for u in units)
    assert len(official_units()) == 3321


@pytest.mark.parametrize(
    ("spelling", "key"),
    [
        ("Thành phố Hà Nội", "ha noi"),
        ("TP. Hà Nội", "ha noi"),
        ("ha  noi", "ha noi"),
        ("Tỉnh Hà Tĩnh", "ha tinh"),
        ("Thành phố Hồ Chí Minh", "ho chi minh"),
        ("Đắk Lắk", "dak lak"),
    ],
)
def test_province_spellings_fold_together(spelling, key):
    assert addresses.province_key(spelling) == key


def test_the_neighbour_table_covers_every_official_province_both_ways():
    names = {p["name"] for p in _package()}
    rows = addresses._neighbour_rows()
    assert {name for name, _n, _checked in rows} == names  # spelled as the package spells them
    assert all(set(neighbours) <= names and neighbours for _name, neighbours, _checked in rows)
    table = addresses.neighbour_table()
    for province, neighbours in table.items():
        for other in neighbours:
            assert province in table[other], (province, other)  # a border is shared
    assert set(addresses.neighbours_of("Hà Tĩnh")) == {"Nghệ An", "Quảng Trị"}
    assert set(addresses.neighbours_of("ha noi")) == {
        "Thái Nguyên",
        "Phú Thọ",
        "Bắc Ninh",
        "Hưng Yên",
        "Ninh Bình",
    }
    checked = {name for name, _n, ok in rows if ok}
    assert "Hà Tĩnh" in checked and "Thành phố Hà Nội" in checked
