"""The pairwise rule and catalog retrieval on real photos and edited copies of them."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest
from PIL import Image

from daemon.matching.compare import PRODUCT_MIN_SPREAD, Analysis, analyse, compare
from daemon.matching.imageio import make_thumbnail
from daemon.matching.retrieval import CatalogMatcher, match_against
from tests.edits import apply, by_name

APPLIANCE_VARIANTS = [
    ("2-slice-toaster-black", "2-slice-toaster-white"),
    ("2-slice-toaster-black", "2-slice-toaster-stainless-steel"),
    ("air-purifier-tower-black", "air-purifier-tower-white"),
    ("automatic-espresso-machine-matte-black", "automatic-espresso-machine-white"),
    ("beard-trimmer-3000-black", "beard-trimmer-3000-dark-grey"),
]


def _jpeg(im: Image.Image, q: int = 90) -> bytes:
    out = io.BytesIO()
    im.save(out, "JPEG", quality=q)
    return out.getvalue()


@pytest.fixture(scope="module")
def clothing(photos_dir: Path) -> list[Path]:
    files = sorted((photos_dir / "clothing").rglob("*.jpg"))
    return random.Random(11).sample(files, 12)


@pytest.fixture(scope="module")
def analyses(clothing: list[Path]) -> list[Analysis]:
    return [analyse(p) for p in clothing]


def test_same_bytes_is_a_copy(clothing: list[Path], analyses: list[Analysis]) -> None:
    r = compare(analyses[0], analyse(clothing[0].read_bytes()))
    assert (r.match, r.kind, r.score, r.details["layer"]) == (True, "copy", 1.0, "sha256")


def test_reencoded_and_half_size_copies_are_copies(clothing: list[Path],
                                                   analyses: list[Analysis]) -> None:
    for p, a in zip(clothing, analyses, strict=True):
        im = Image.open(p).convert("RGB")
        for copy in (_jpeg(im, 50), _jpeg(im.resize((im.width // 2, im.height // 2)))):
            r = compare(a, analyse(copy))
            assert r.match and r.kind == "copy", (p, r.details)
            assert r.details["layer"] == "hash"


@pytest.mark.parametrize("edit", ["crop_15_20_offcentre", "flip_jpeg50", "banner_quarter",
                                  "listing_screenshot", "perspective_tilt", "watermark"])
def test_edited_copies_are_found_by_features(clothing: list[Path], analyses: list[Analysis],
                                             edit: str) -> None:
    ims = [Image.open(p).convert("RGB") for p in clothing[:4]]
    for i in range(4):
        copy = apply(by_name(edit), ims[i], seed=i, others=ims[i + 1:] + ims[:i])
        r = compare(analyses[i], analyse(copy))
        assert r.match and r.kind == "copy", (edit, clothing[i], r.details)


def test_different_clothing_photos_do_not_match(analyses: list[Analysis]) -> None:
    for i, a in enumerate(analyses):
        for b in analyses[i + 1:]:
            r = compare(a, b)
            assert not r.match and r.kind is None and r.score == 0.0, r.details


def test_known_hard_negative_with_close_phash_is_not_a_copy(photos_dir: Path) -> None:
    pants = photos_dir / "clothing-train" / "pants"
    a = analyse(pants / "ee1376ab-f0e2-488e-ae2a-1154b070a500.jpg")
    b = analyse(pants / "c4f11a12-2fcd-4268-8045-5a00aec7e656.jpg")
    assert compare(a, b).kind != "copy"


@pytest.mark.parametrize("pair", APPLIANCE_VARIANTS)
def test_colour_variants_are_never_copies(photos_dir: Path, pair: tuple[str, str]) -> None:
    a, b = (analyse(photos_dir / "appliances" / f"{n}.webp") for n in pair)
    assert compare(a, b).kind != "copy"
    assert compare(b, a).kind != "copy"


def test_result_is_json_ready(analyses: list[Analysis]) -> None:
    d = compare(analyses[0], analyses[1]).to_dict()
    assert set(d) == {"match", "kind", "score", "details"}
    json.dumps(d)


def test_stored_blobs_round_trip(clothing: list[Path], analyses: list[Analysis]) -> None:
    a = analyses[2]
    back = Analysis.from_stored(a.fingerprint.to_bytes(), a.features_bytes(), a.sha256)
    assert back.fingerprint == a.fingerprint and back.features_mirror is not None
    assert compare(back, analyse(_jpeg(Image.open(clothing[2]).convert("RGB"), 40))).kind == "copy"
    # A blob from another features version is refused (the daemon then recomputes it), not
    # misread: its first header byte (after the 4-byte length) is the version.
    stale = bytearray(a.features_bytes())
    stale[4] = (stale[4] + 1) % 256
    with pytest.raises(ValueError, match="recompute"):
        Analysis.from_stored(a.fingerprint.to_bytes(), bytes(stale), a.sha256)


def test_catalog_finds_crops_and_collages_and_nothing_else(
        clothing: list[Path], analyses: list[Analysis], photos_dir: Path) -> None:
    cat = CatalogMatcher()
    for pid, a in enumerate(analyses[:10], start=100):
        cat.add_stored(pid, a.fingerprint.to_bytes(), a.features_bytes())
    assert len(cat) == 10
    ims = [Image.open(p).convert("RGB") for p in clothing]
    outsiders = ims[10:]  # collage tiles and page thumbnails that are not in the catalog
    for i, edit in enumerate(["crop_15_20_centred", "collage_2x2", "flip_crop_watermark_jpeg40",
                              "jpeg_q30", "half_area_crop"]):
        copy = analyse(apply(by_name(edit), ims[i], seed=1, others=outsiders))
        hits = cat.query(copy)
        assert hits and hits[0][0] == 100 + i and hits[0][1].kind == "copy", (edit, hits)
    for p in analyses[10:]:
        assert cat.query(p) == []
    cat.remove(100)
    assert 100 not in cat and cat.query(analyse(_jpeg(ims[0], 50))) == []


def test_match_against_thumbnails(clothing: list[Path], analyses: list[Analysis]) -> None:
    ims = [Image.open(p).convert("RGB") for p in clothing[:6]]
    crop = apply(by_name("crop_10_offcentre"), ims[0], seed=3)
    cands = [(k, make_thumbnail(_jpeg(im))) for k, im in enumerate(ims[1:], start=1)]
    cands.append((0, {"thumb": make_thumbnail(crop), "data": None, "sha256": "x"}))
    # A competitor image stored by an older version: its fingerprint blob is stale.
    stale = bytes([0]) + analyse(_jpeg(ims[0], 60)).fingerprint.to_bytes()[1:]
    cands.append((9, {"thumb": make_thumbnail(_jpeg(ims[0], 60)), "data": stale, "sha256": "y"}))
    hits = list(match_against(analyses[0], cands))
    assert [h[0] for h in hits] == [0, 9] and {h[1].kind for h in hits} == {"copy"}


def test_catalog_tolerates_adds_during_queries(clothing: list[Path],
                                               analyses: list[Analysis]) -> None:
    import threading

    cat = CatalogMatcher()
    cat.add(0, analyses[0])
    query = analyse(_jpeg(Image.open(clothing[0]).convert("RGB"), 60))
    errors: list[BaseException] = []
    found: list[bool] = []

    def adder() -> None:
        try:
            for k in range(3):
                for pid, a in enumerate(analyses[1:], start=1):
                    cat.add(pid, a)
                    if k == 1:
                        cat.remove(pid)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assert below
            errors.append(exc)

    def querier() -> None:
        try:
            for _ in range(15):
                found.append(any(pid == 0 for pid, _ in cat.query(query)))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=adder), threading.Thread(target=querier)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and all(found) and len(cat) == len(analyses)


# -- a copy claim rests on the product (issues 12 and 17) -------------------------------

SHAVER = ("rotary-shaver-5000", "rotary-shaver-5000-black")
# Mined from clothing-train/ by bench.robustness.backdrop_pairs (borders alike): two shirts
# laid on the same wooden floor; 106 RANSAC inliers, all but one on the floor.
SAME_BACKDROP = ("shirt/54f0bc77-e51b-48a8-872b-b552b89c5d73.jpg",
                 "shirt/6050dd9d-c65c-4c57-9b07-00328b8aace3.jpg")


def test_shaver_colour_variants_are_not_copies(photos_dir: Path) -> None:
    a, b = (analyse(photos_dir / "appliances" / f"{n}.webp") for n in SHAVER)
    for x, y in ((a, b), (b, a)):
        r = compare(x, y)
        assert r.kind != "copy", r.details
    # The product itself disagrees under the backdrop's colour model.
    d = compare(a, b).details
    assert d["backdrop_kept"] and d["product_median"] > 15, d


def test_same_backdrop_pair_is_not_a_copy(photos_dir: Path) -> None:
    a, b = (analyse(photos_dir / "clothing-train" / n) for n in SAME_BACKDROP)
    for x, y in ((a, b), (b, a)):
        r = compare(x, y)
        assert r.kind != "copy", r.details
    d = compare(a, b).details
    assert d["inliers"] >= 40 and d["inliers_on_product"] < 0.2, d


@pytest.mark.parametrize("edit", ["cutout_white", "cutout_white_mirrored",
                                  "cutout_70_scene_shadow", "infographic_callouts",
                                  "upscale2x_sharpen_saturate", "pad_bars_badge_price"])
def test_marketplace_makeovers_are_copies(clothing: list[Path], analyses: list[Analysis],
                                          edit: str) -> None:
    ims = [Image.open(p).convert("RGB") for p in clothing[:6]]
    hits = 0
    for i in range(4):
        copy = apply(by_name(edit), ims[i], seed=i, others=ims[4:])
        r = compare(analyses[i], analyse(copy, product=False))
        assert r.match, (edit, clothing[i], r.details)
        hits += r.kind == "copy"
    assert hits >= 3, edit


@pytest.mark.parametrize(("name", "seed"), [
    ("clothing/pants/8e6e5d4e-308c-4c92-9c35-cb87618ec370.jpg", 25),
    ("clothing/dress/cbf45350-1a65-4cec-abad-0f64a4a459eb.jpg", 27),
    ("clothing/outwear/5641733d-73ff-4ba6-9cfe-5212b1f190be.jpg", 34),
])
def test_infographic_copies_of_real_photos_are_copies(photos_dir: Path, name: str,
                                                      seed: int) -> None:
    """Three callout copies the bench missed before candidates detected from a wider
    pool (11-33 inliers, under the product check's limits); now copies with 40+."""
    im = Image.open(photos_dir / name).convert("RGB")
    copy = apply(by_name("infographic_callouts"), im, seed=seed)
    r = compare(analyse(photos_dir / name), analyse(copy, product=False))
    assert r.kind == "copy" and r.details["inliers"] >= 40, r.details


def test_cutout_on_white_of_a_real_photo_is_a_copy(photos_dir: Path) -> None:
    p = photos_dir / "clothing/pants/8e6e5d4e-308c-4c92-9c35-cb87618ec370.jpg"
    im = Image.open(p).convert("RGB")
    for edit in ("cutout_white", "cutout_white_mirrored"):
        r = compare(analyse(p), analyse(apply(by_name(edit), im, seed=25), product=False))
        assert r.kind == "copy", (edit, r.details)
        assert r.details["features_mirrored"] == (edit == "cutout_white_mirrored")


def test_shaver_colour_variant_as_a_candidate_is_never_a_copy(photos_dir: Path) -> None:
    """The wider candidate pool finds more of a variant's outline; still not a copy."""
    paths = [photos_dir / "appliances" / f"{n}.webp" for n in SHAVER]
    for x, y in (paths, paths[::-1]):
        r = compare(analyse(x), analyse(y, product=False))
        assert r.kind != "copy", r.details


def _as_stored_thumbnail(data: bytes) -> Analysis:
    """A competitor image as the daemon verifies it: from its stored thumbnail."""
    from daemon.matching.competitor_verify import thumbnail_analysis
    from daemon.matching.features import FEATURE_SIDE
    from daemon.matching.imageio import decode

    return thumbnail_analysis({"thumb": make_thumbnail(decode(data, max_side=FEATURE_SIDE).image)})


def test_another_garment_on_the_same_floor_is_not_a_copy(photos_dir: Path) -> None:
    """Blue-grey chinos vs dark-grey joggers on one wooden floor (issue 12/17: `copy` with
    34 inliers): the floor survives, so the product must follow the floor's colour model."""
    a = analyse(photos_dir / "clothing-train/pants/4feeec9c-a8ae-4f00-a37c-217cb8e8d5ef.jpg")
    other = (photos_dir / "clothing-train/pants/78043895-d366-406a-a5a2-18d865e87ada.jpg"
             ).read_bytes()
    for b in (analyse(other, product=False), _as_stored_thumbnail(other)):
        r = compare(a, b)
        assert r.kind != "copy", r.details
        assert r.details["inliers"] >= 15 and r.details["backdrop_kept"], r.details


@pytest.mark.parametrize(("edit", "seed"), [("flip", 2987), ("border_5", 864),
                                           ("contrast-25", 3937)])
def test_another_garment_on_the_same_hanger_is_not_a_copy(photos_dir: Path, edit: str,
                                                          seed: int) -> None:
    """Navy shorts vs copies of navy trousers on the same hanger and wall (the competitor
    index's candidates 2988, 865 and 3938: `copy` from the thumbnail with 16-25 inliers, on
    the hanger and the waistband); the trousers' own original still finds them as copies."""
    shorts = analyse(photos_dir / "clothing/shorts/b21eba8d-0bde-44c5-b689-01fbc1ffc4be.jpg")
    trousers = photos_dir / "clothing/pants/25e7d73a-cd9a-4c2b-ab36-594ee2827745.jpg"
    data = apply(by_name(edit), Image.open(trousers).convert("RGB"), seed=seed)
    for b in (analyse(data, product=False), _as_stored_thumbnail(data)):
        r = compare(shorts, b)
        assert r.kind != "copy", r.details
        assert r.details["inliers"] >= 15, r.details
        assert r.details["inlier_spread"] < PRODUCT_MIN_SPREAD, r.details  # hanger + waist
        assert compare(analyse(trousers), b).kind == "copy"


# Pairs the competitor index at 10^4 images sent to verification and compare() called
# `copy` (rule revision 3): (original, other photo, the fewest inliers it still finds).
#  - burgundy shorts vs black trousers on one hanger and wall: 18 inliers, 8 of them on the
#    product's core, 12% of it unexplained;
#  - a denim blouse vs jeans on one sheet and sofa: 41-49 inliers, a quarter of the
#    blouse's region hidden in the jeans photo.
#  - navy shorts vs other navy shorts on the same hanger and wall: 33-43 inliers, all on
#    the hanger and the waistband, spanning 5% of the product (8,192-list index, 10^4).
SAME_BACKDROP_PAIRS = [
    ("clothing/shorts/b21eba8d-0bde-44c5-b689-01fbc1ffc4be.jpg",
     "clothing/shorts/42862c34-640f-40e1-9187-f2f7749523cd.jpg", 30),
    ("clothing-train/shorts/1b9a7610-e6d9-4bb8-ace9-ed4870ae0d5b.jpg",
     "clothing-train/pants/6d4f66c9-6739-4f2b-abe8-20f32fcff587.jpg", 0),
    ("clothing-train/longsleeve/b64300ea-6c71-4a6b-90b7-b6a92aa68742.jpg",
     "clothing-train/pants/a91c9a10-7d56-4689-9911-a2905d759ec4.jpg", 40),
]


@pytest.mark.parametrize(("original", "other", "min_inliers"), SAME_BACKDROP_PAIRS)
def test_another_garment_on_the_same_backdrop_is_not_a_copy(
        photos_dir: Path, original: str, other: str, min_inliers: int) -> None:
    """Both as analysed at full size and from the stored thumbnail."""
    a = analyse(photos_dir / original)
    data = (photos_dir / other).read_bytes()
    for b in (analyse(data, product=False), _as_stored_thumbnail(data)):
        r = compare(a, b)
        assert r.kind != "copy", r.details
        assert r.details["inliers"] >= min_inliers, r.details


# The same sandals laid down again on the same carpet, in one shoot (clothing-train/shoes):
# a flat scene re-shot fits one similarity to 2-3 px with 41-48 inliers, the product's
# colours agree, and compare() called it `copy` (pairwise, and at 7x10^4 competitor images
# for a crop of the second photo). One picture moves as one; here the halves did not.
SANDALS = ("clothing-train/shoes/51e600b8-da42-434b-8953-c6fb890121a0.jpg",
           "clothing-train/shoes/c8582c70-17af-4f48-a866-eac7e0572560.jpg")


def test_the_same_product_re_shot_on_the_same_backdrop_is_similar_not_a_copy(
        photos_dir: Path) -> None:
    a = analyse(photos_dir / SANDALS[0])
    other = Image.open(photos_dir / SANDALS[1]).convert("RGB")
    w, h = other.size
    crop = other.crop((w // 6, 0, w, h * 7 // 10))  # as the competitor set cut it
    for data in (_jpeg(other), _jpeg(crop)):
        for b in (analyse(data, product=False), _as_stored_thumbnail(data)):
            r = compare(a, b)
            assert r.kind == "similar", r.details
            assert r.details["inliers"] >= 30, r.details
