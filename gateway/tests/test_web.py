"""The home page, rendered by the real app: languages, the cookie toggle, agencies and a service that is down."""

from __future__ import annotations

from typing import Any

import httpx


async def test_home_in_indonesian_by_default(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="id">' in html
    assert "Ringkasan Pemerintah Daerah" in html
    assert "Provinsi Jawa Tengah" in html and "Kota Tegal" in html and "Kabupaten Cilacap" in html
    assert "Dinas Kesehatan" in html and "dr. Yunita Dyah Suminar" in html
    assert "dinkes@jatengprov.go.id" in html
    assert "+62248311111" not in html, "unverified contacts are not shown"
    assert html.count('data-service="') == 6
    assert "WIB" in html
    assert "http://" not in html and "https://" not in html, "nothing external"


async def test_lang_toggle_sets_a_cookie_and_english_sticks(client: httpx.AsyncClient) -> None:
    response = await client.get("/", params={"lang": "en"})
    assert '<html lang="en">' in response.text and "Regional Government Overview" in response.text
    assert "lang=en" in response.headers["set-cookie"]
    again = await client.get("/")
    assert "Regional Government Overview" in again.text


async def test_selected_government_without_agencies(client: httpx.AsyncClient) -> None:
    response = await client.get("/", params={"government": "33.74"})
    assert "Perangkat daerah Kota Semarang" in response.text
    assert "Belum ada perangkat daerah yang terdaftar." in response.text
    fallback = await client.get("/", params={"government": "<script>"})
    assert fallback.status_code == 200 and "<script>" not in fallback.text


async def test_page_renders_when_services_are_down(client: httpx.AsyncClient, suite: Any) -> None:
    await suite.stop("budgeting")
    await suite.stop("monev")
    response = await client.get("/")
    assert response.status_code == 200
    html = response.text
    assert "Layanan budgeting sedang tidak tersedia" in html
    assert "Layanan monev sedang tidak tersedia" in html
    assert "Tidak dapat dihubungi" in html


async def test_pages_ignore_the_browser_locale(client: httpx.AsyncClient) -> None:
    response = await client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="id">' in response.text
