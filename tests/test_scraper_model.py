"""scraper.model: Listing/ImageRef as plain data, and the image collector's de-duplication."""

from __future__ import annotations

import dataclasses
import json

import pytest

from scraper import EmbeddedDataError, EmptyPageError, ImageRef, Listing, NotTextError, ParseError
from scraper.model import ImageCollector


def test_collector_keeps_one_entry_per_image_first_role_wins() -> None:
    images = ImageCollector()
    assert images.add("https://ae01.alicdn.com/kf/Sa1/slug.jpg_640x640.jpg", "gallery")
    assert not images.add("//ae04.alicdn.com/kf/Sa1.jpg_50x50.jpg", "variant")  # same photo
    assert not images.add("https://ae01.alicdn.com/kf/Sa2/48x48.png", "gallery")  # UI asset
    assert not images.add(None, "gallery")
    assert (
        images.add_all(
            ["img/b.jpg", "img/b.jpg?v=2", 7], "description", base="https://s.example/p/"
        )
        == 1
    )
    assert images.add_all("not a list", "og") == 0
    assert images.count() == 2 and images.count("gallery") == 1
    assert images.refs() == [
        ImageRef("https://ae01.alicdn.com/kf/Sa1/slug.jpg", "alicdn:kf/Sa1", "gallery"),
        ImageRef("https://s.example/p/img/b.jpg", "s.example/p/img/b.jpg", "description"),
    ]


def test_listing_to_dict_is_json_ready() -> None:
    listing = Listing(
        marketplace="aliexpress",
        kind="item",
        status="ok",
        url="https://de.aliexpress.com/item/1005008204179129.html",
        product_id="1005008204179129",
        images=[ImageRef("https://ae01.alicdn.com/kf/S1.jpg", "alicdn:kf/S1", "gallery")],
    )
    data = json.loads(json.dumps(listing.to_dict()))
    assert data["images"] == [
        {"url": "https://ae01.alicdn.com/kf/S1.jpg", "key": "alicdn:kf/S1", "role": "gallery"}
    ]
    assert data["product_links"] == [] and data["reason"] is None
    assert set(data) >= {
        "marketplace",
        "store_id",
        "store_name",
        "store_url",
        "product_id",
        "title",
        "canonical_url",
        "description_url",
        "status",
        "reason",
        "images",
        "product_links",
        "kind",
    }
    assert (
        listing.image_keys("gallery") == ["alicdn:kf/S1"] and listing.images_with_role("og") == []
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        listing.images[0].url = "x"  # type: ignore[misc]


def test_error_types() -> None:
    for cls in (NotTextError, EmptyPageError, EmbeddedDataError):
        err = cls("what was wrong and what to do")
        assert isinstance(err, ParseError) and isinstance(err, ValueError)
        assert err.reason == str(err) == "what was wrong and what to do"
