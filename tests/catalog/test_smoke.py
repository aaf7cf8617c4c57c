def test_pages_render(client, factory):
    listing = factory.listing()
    assert client.get("/").status_code == 200
    r = client.get(f"/san-pham/{listing.slug}")
    assert r.status_code == 200
    assert "45.000" in r.get_data(as_text=True)
    assert client.get(f"/danh-muc/{listing.category.slug}").status_code == 200
    assert client.get(f"/cua-hang/{listing.shop.slug}").status_code == 200
    assert client.get(f"/truy-xuat/{listing.slug}").status_code == 200
    assert client.get("/api/v1/listings").json["total"] == 1
