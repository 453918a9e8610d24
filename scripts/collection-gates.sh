#!/usr/bin/env bash
# Gates of a published collection, besides sanity and lint:
#  - ansible-doc renders every module, with EXAMPLES and RETURN;
#  - ansible-galaxy collection build gives a tarball that installs into a clean collections path,
#    and a playbook using the installed collection (not the clone) runs.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

status=0
modules=(plugins/modules/*.py)
for module in "${modules[@]}"; do
  name=$(basename "$module" .py)
  doc=$(ANSIBLE_NOCOLOR=1 ANSIBLE_COLLECTIONS_PATH="$top/collections" ansible-doc "virtlab.core.$name" 2>&1) || {
    echo "ansible-doc virtlab.core.$name failed:"; echo "$doc" | tail -5; status=1; continue; }
  for section in EXAMPLES: "RETURN VALUES:"; do
    grep -q "^$section" <<<"$doc" || { echo "ansible-doc virtlab.core.$name has no $section section"; status=1; }
  done
done
[ $status = 0 ] && echo "ansible-doc renders every module (${#modules[@]}) with EXAMPLES and RETURN"

# --- begin: filter documentation (issue 10, item 6) ------------------------------------------------------
# Every filter of the collection shows its own documentation: ansible-doc -t filter virtlab.core.<name> must
# render a DOCUMENTATION whose name is <name>, with version_added, EXAMPLES and RETURN. (A plugin file's
# DOCUMENTATION is shown for every filter the file provides: a file with several filters documents each one
# in a sidecar plugins/filter/<name>.yml and has no DOCUMENTATION of its own.)
filter_doc_check() {
  local listing names
  listing=$(ANSIBLE_COLLECTIONS_PATH="$top/collections" ansible-doc -t filter -l --json virtlab.core 2>/dev/null) \
    || { echo "ansible-doc -t filter -l virtlab.core failed"; return 1; }
  read -r -a names < <(python -c 'import json, sys; print(" ".join(sorted(json.load(sys.stdin))))' <<<"$listing")
  [ "${#names[@]}" -gt 0 ] || { echo "ansible-doc lists no filter of virtlab.core"; return 1; }
  ANSIBLE_COLLECTIONS_PATH="$top/collections" ansible-doc -t filter --json "${names[@]}" >"$work/filter-docs.json" 2>/dev/null \
    || echo '{}' >"$work/filter-docs.json"  # one filter without documentation fails the whole call
  ANSIBLE_COLLECTIONS_PATH="$top/collections" python - "$work/filter-docs.json" "${names[@]}" <<'PY'
import json, subprocess, sys

docs, names, problems = json.load(open(sys.argv[1])), sys.argv[2:], []
for full in names:
    entry = docs.get(full)
    if entry is None:  # not rendered in the batch: ask for it alone, to see why
        proc = subprocess.run(["ansible-doc", "-t", "filter", "--json", full], capture_output=True, text=True)
        try:
            entry = json.loads(proc.stdout)[full]
        except (ValueError, KeyError):
            problems.append("%s: no documentation (%s)" % (full, (proc.stderr.strip().splitlines() or ["?"])[-1][:160]))
            continue
    doc, short = entry.get("doc") or {}, full.rsplit(".", 1)[-1]
    if doc.get("name") != short:
        problems.append("%s shows the documentation of %s (%s)" % (full, doc.get("name"), doc.get("filename")))
    if not doc.get("version_added"):
        problems.append("%s: no version_added" % full)
    if not entry.get("examples"):
        problems.append("%s: no EXAMPLES" % full)
    if not entry.get("return"):
        problems.append("%s: no RETURN" % full)
for problem in problems:
    print(problem)
if problems:
    sys.exit(1)
print("ansible-doc shows every filter (%d) with its own documentation, version_added, EXAMPLES and RETURN" % len(names))
PY
}
filter_doc_check || status=1
# --- end: filter documentation ---------------------------------------------------------------------------

ansible-galaxy collection build --output-path "$work/dist" . >/dev/null
tarball=$(ls "$work"/dist/virtlab-core-*.tar.gz)
ANSIBLE_COLLECTIONS_PATH="$work/installed" ansible-galaxy collection install --offline --no-deps -p "$work/installed" "$tarball" >/dev/null 2>&1
installed="$work/installed/ansible_collections/virtlab/core"
[ -f "$installed/plugins/modules/docker_node.py" ] || { echo "the built collection lacks its modules"; exit 1; }
if tar -tzf "$tarball" | grep -qE "(^|/)(\.venv|\.ansible|collections|\.git)/"; then
  echo "the built collection contains the virtualenv, the collections link or .git"; exit 1
fi

# A playbook run from outside the clone, resolving virtlab.core from the installed tarball only.
mkdir -p "$work/play"
cat >"$work/play/play.yml" <<'PLAY'
- name: Use the installed collection
  hosts: localhost
  gather_facts: false
  vars:
    topology:
      networks: {a: {cidr: 10.0.1.0/24}, b: {cidr: 10.0.2.0/24}, c: {cidr: 10.0.3.0/24}}
      routers: {r1: {interfaces: {a: 10.0.1.1, b: 10.0.2.1}}, r2: {interfaces: {b: 10.0.2.2, c: 10.0.3.1}}}
      nodes: {h: {interfaces: {a: 10.0.1.10}}}
      services: {}
  tasks:
    - name: A filter of the collection computes routes
      ansible.builtin.assert:
        that: (topology | virtlab.core.topology_routes('h') | map(attribute='dest') | list) == ['10.0.2.0/24', '10.0.3.0/24']
    - name: A module of the collection runs (a probe list with nothing to probe)
      virtlab.core.lab_probe:
        probes: []
      register: probe
    - name: It answered
      ansible.builtin.assert:
        that: probe.results == []
PLAY
printf '[defaults]\n' >"$work/play/ansible.cfg"  # an empty configuration: nothing from the clone
(cd "$work/play" && ANSIBLE_COLLECTIONS_PATH="$work/installed" ANSIBLE_CONFIG="$work/play/ansible.cfg" \
   ansible-playbook -i localhost, -c local -e ansible_python_interpreter="$(command -v python)" play.yml >"$work/play.log" 2>&1) || { cat "$work/play.log"; exit 1; }
echo "built $(basename "$tarball"), installed it into a clean path, and a playbook used it"
exit $status
