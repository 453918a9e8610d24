"""Objectives 5 (Docker) and 8 (OpenStack) graded from read-only module results (module_utils/topology/grading.py),
and how they appear in the reports."""

from xml.etree import ElementTree

from ansible_collections.virtlab.core.plugins.filter.grading import lab_grade_objective5
from ansible_collections.virtlab.core.plugins.module_utils.topology import grading

NAMES5 = {"container": "virtlab-objective5-container", "from_image": "virtlab-objective5-from-image",
          "image": "virtlab/objective5:version3"}
IMAGE_ID = "sha256:0123456789abcdef0123456789abcdef"
IMAGE = {"images": [{"Id": IMAGE_ID, "RepoTags": ["virtlab/objective5:version3"]}]}


def container(status="running", image="virtlab/objective5:version3", image_id=IMAGE_ID):
    """docker_container_info's result (the parts the grader reads)."""
    return {"exists": True, "container": {"State": {"Status": status}, "Config": {"Image": image}, "Image": image_id}}


def containers(**changed):
    result = {NAMES5["container"]: container(image="virtlab/debian-systemd:bookworm", image_id="sha256:base"),
              NAMES5["from_image"]: container()}
    result.update(changed)
    return result


def failed(checks):
    return [(c["check"], c["actual"]) for c in checks if not c["ok"]]


def failed_names(checks):
    return [c["check"] for c in checks if not c["ok"]]


def test_objective5_done_passes_three_checks_on_the_engine():
    checks = grading.objective5_checks(NAMES5, IMAGE, containers())
    assert failed(checks) == [] and len(checks) == 3
    assert set((c["objective"], c["host"]) for c in checks) == {("5", "docker")}


def test_objective5_no_commit_no_container_from_it():
    checks = grading.objective5_checks(NAMES5, {"images": []}, containers(**{NAMES5["from_image"]: {"exists": False}}))
    assert failed(checks) == [
        ("image virtlab/objective5:version3 is committed", "absent"),
        ("container virtlab-objective5-from-image runs from virtlab/objective5:version3", "absent")]


def test_objective5_a_stopped_container_or_one_from_another_image_fails():
    stopped = grading.objective5_checks(NAMES5, IMAGE, containers(**{NAMES5["from_image"]: container("exited")}))
    assert failed(stopped) == [("container virtlab-objective5-from-image runs from virtlab/objective5:version3",
                                "exited, image virtlab/objective5:version3")]
    other = grading.objective5_checks(NAMES5, IMAGE, containers(**{
        NAMES5["from_image"]: container(image="debian:12", image_id="sha256:other")}))
    assert failed_names(other) == [
        "container virtlab-objective5-from-image runs from virtlab/objective5:version3"]
    # Started by the image's id rather than its name: still from it.
    by_id = grading.objective5_checks(NAMES5, IMAGE, containers(**{
        NAMES5["from_image"]: container(image=IMAGE_ID[7:19])}))
    assert failed(by_id) == []


def test_objective5_an_engine_that_does_not_answer_is_named():
    checks = grading.objective5_checks(NAMES5, {"failed": True, "msg": "Error connecting: no socket"}, containers())
    assert failed(checks) == [("image virtlab/objective5:version3 is committed", "absent (Error connecting: no socket)")]


def test_objective5_filter_takes_the_loop_results():
    results = [dict(container(), item=NAMES5["container"]), dict(container("created"), item=NAMES5["from_image"])]
    assert failed_names(lab_grade_objective5(results, NAMES5, IMAGE)) == [
        "container virtlab-objective5-from-image runs from virtlab/objective5:version3"]


NAMES8 = {"server": "objective8-vm", "snapshot": "objective8-vm-snapshot"}
SERVER = {"server": {"id": "s1", "name": "objective8-vm", "status": "ACTIVE", "flavor": "m1.medium"}, "actions": []}
SNAPSHOT = {"image": {"id": "i1", "name": "objective8-vm-snapshot", "status": "active", "server_id": "s1"},
            "actions": []}


def test_objective8_done_passes():
    checks = grading.objective8_checks(NAMES8, SERVER, SNAPSHOT, "m1.medium")
    assert failed(checks) == [] and set((c["objective"], c["host"]) for c in checks) == {("8", "openstack")}


def test_objective8_not_resized_and_no_snapshot_yet():
    small = {"server": dict(SERVER["server"], flavor="m1.small"), "actions": []}
    # Check mode's answer for a snapshot still to take: the image as it would be, without an id.
    to_take = {"image": {"name": "objective8-vm-snapshot", "status": "active", "server_id": "s1"},
               "actions": ["snapshot objective8-vm"]}
    assert failed(grading.objective8_checks(NAMES8, small, to_take, "m1.medium")) == [
        ("server objective8-vm is resized to m1.medium", "m1.small"),
        ("snapshot objective8-vm-snapshot of objective8-vm is active", "absent")]


def test_objective8_a_snapshot_still_saving_or_of_another_server_fails():
    saving = {"image": dict(SNAPSHOT["image"], status="saving")}
    assert failed(grading.objective8_checks(NAMES8, SERVER, saving, "m1.medium")) == [
        ("snapshot objective8-vm-snapshot of objective8-vm is active", "saving")]
    other = {"image": dict(SNAPSHOT["image"], server_id="s2")}
    assert failed(grading.objective8_checks(NAMES8, SERVER, other, "m1.medium")) == [
        ("snapshot objective8-vm-snapshot of objective8-vm is active", "active, of another server (s2)")]


def test_objective8_no_vm_fails_every_check_with_the_reason():
    missing = {"failed": True, "msg": "Server objective8-vm does not exist: image, flavor and networks are required"}
    snapshot = {"failed": True, "msg": "No server named objective8-vm"}
    assert failed(grading.objective8_checks(NAMES8, missing, snapshot, "m1.medium")) == [
        ("server objective8-vm is active", "absent (%s)" % missing["msg"]),
        ("server objective8-vm is resized to m1.medium", "absent (%s)" % missing["msg"]),
        ("snapshot objective8-vm-snapshot of objective8-vm is active", "absent (No server named objective8-vm)")]


def test_objectives_are_reported_in_order_5_8_9_10_11():
    checks = (grading.objective8_checks(NAMES8, SERVER, SNAPSHOT, "m1.small")
              + grading.unreachable_checks({}, "cs", "down")
              + grading.objective5_checks(NAMES5, IMAGE, containers()))
    table = grading.report_table(checks)
    assert table[-1] == "objective 5: 3/3; objective 8: 2/3; objective 9: 0/1"
    suites = [s.get("name") for s in ElementTree.fromstring(grading.report_junit(checks, "lab7")).iter("testsuite")]
    assert suites == ["lab7 objective 5", "lab7 objective 8", "lab7 objective 9"]
    markdown = grading.report_markdown(checks, "lab7")
    assert "| 5 | 3/3 |" in markdown and "| 8 | 2/3 |" in markdown
    assert "- objective 8, openstack: server objective8-vm is resized to m1.small" in markdown
