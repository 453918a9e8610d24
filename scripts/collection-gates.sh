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
