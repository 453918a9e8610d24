# -*- coding: utf-8 -*-
"""objective5_in_place: which of objective 5's containers a re-run finds in place, from one engine listing."""

import pytest

from ansible_collections.virtlab.core.plugins.filter.objective5_in_place import FilterModule

IN_PLACE = FilterModule().filters()["objective5_in_place"]
PREFIX, BASE = "lab-objective5-", "virtlab/debian-systemd:bookworm"
NOTE = "changed by virtlab objective 5; committed as virtlab/objective5:version3"


def container(node, image, ident=None, state="running", image_id=None):
    """A container as docker_host_info lists it with verbose_output."""
    return {"Names": ["/" + PREFIX + node], "Id": ident or node + "-id", "Image": image,
            "ImageID": image_id or "sha256:" + image, "State": state}


def committed(source="container-id", revision=NOTE, ident="sha256:commit1"):
    return {"Id": ident, "RepoTags": ["virtlab/objective5:version3"],
            "Labels": {"virtlab.commit.source": source, "virtlab.commit.revision": revision}}


def engine(*containers, images=()):
    return {"containers": list(containers), "images": list(images)}


def whole_objective():
    return engine(container("container", BASE), container("peer", BASE),
                  container("from-image", "virtlab/objective5:version3", image_id="sha256:commit1"),
                  images=[committed()])


def test_a_re_run_finds_all_three_in_place():
    assert IN_PLACE(whole_objective(), PREFIX, BASE, NOTE) == ["container", "peer", "from-image"]


def test_a_first_run_finds_none_and_a_listing_without_images_or_containers_is_no_error():
    assert IN_PLACE(engine(), PREFIX, BASE, NOTE) == []
    assert IN_PLACE({"containers": None, "images": None}, PREFIX, BASE, NOTE) == []


def test_a_stopped_container_or_one_from_another_image_is_not_in_place():
    listing = whole_objective()
    listing["containers"][1]["State"] = "exited"
    assert IN_PLACE(listing, PREFIX, BASE, NOTE) == ["container", "from-image"]
    listing["containers"][0]["Image"] = listing["containers"][0]["ImageID"] = "sha256:other"
    assert IN_PLACE(listing, PREFIX, BASE, NOTE) == ["from-image"]


def test_the_base_image_matches_by_reference_or_by_id():
    listing = engine(container("container", "sha256:base", image_id="sha256:base"), container("peer", BASE))
    assert IN_PLACE(listing, PREFIX, "sha256:base", NOTE) == ["container"]


@pytest.mark.parametrize("image, why", [
    (committed(revision="an older change"), "a commit of another change"),
    (committed(source="a-container-removed-since"), "a commit of a container that was run again since"),
    ({"Id": "sha256:commit1", "Labels": None}, "an image that virtlab did not commit"),
])
def test_the_container_from_the_image_is_out_of_place_unless_the_image_is_this_containers_commit(image, why):
    listing = whole_objective()
    listing["images"] = [image]
    assert IN_PLACE(listing, PREFIX, BASE, NOTE) == ["container", "peer"], why


def test_the_container_from_the_image_is_out_of_place_when_it_runs_from_an_older_commit():
    listing = whole_objective()
    listing["images"] = [committed(ident="sha256:commit2")]
    assert IN_PLACE(listing, PREFIX, BASE, NOTE) == ["container", "peer"]
    listing["images"] = []
    assert IN_PLACE(listing, PREFIX, BASE, NOTE) == ["container", "peer"], "the committed image is gone"


def test_other_labs_containers_are_not_taken_for_this_labs():
    listing = whole_objective()
    assert IN_PLACE(listing, "student07-objective5-", BASE, NOTE) == []
