#!/usr/bin/env bash
# Gates of a published collection, besides sanity and lint:
#  - ansible-doc renders every module, with EXAMPLES and RETURN;
#  - ansible-galaxy collection build gives a tarball without the development files (make targets, scripts,
#    the clone's ansible.cfg, development requirements, test suites, CI and Molecule configuration) nor anything
#    git ignores (caches), that installs into a clean collections path, and a playbook using the installed
#    collection (not the clone) runs;
#  - ansible-builder: an execution environment made from the tarball gets exactly the collection's Python
#    requirements (meta/ee-requirements.txt) and system requirements (bindep.txt), nothing of development;
#  - every ansible-core minor version that meta/runtime.yml's requires_ansible admits renders the modules'
#    documentation and runs the playbook with the installed collection, without a version warning (the
#    versions other than the virtualenv's own are installed once, under .cache/ansible-core);
#  - the changelog gate (scripts/changelog-gate.sh): fragments valid, CHANGELOG.md generated, a fragment
#    for the changes to what the tarball ships.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

status=0
modules=(plugins/modules/*.py)
# doc_check BINDIR: ansible-doc of BINDIR renders every module with EXAMPLES and RETURN.
doc_check() {
  local bindir=$1 module name doc section ok=0
  for module in "${modules[@]}"; do
    name=$(basename "$module" .py)
    doc=$(ANSIBLE_NOCOLOR=1 ANSIBLE_COLLECTIONS_PATH="$top/collections" "$bindir/ansible-doc" "virtlab.core.$name" 2>&1) || {
      echo "ansible-doc virtlab.core.$name failed ($("$bindir/python" -c 'from ansible.release import __version__ as v; print("ansible-core " + v)')):"; echo "$doc" | tail -5; ok=1; continue; }
    for section in EXAMPLES: "RETURN VALUES:"; do
      grep -q "^$section" <<<"$doc" || { echo "ansible-doc virtlab.core.$name has no $section section"; ok=1; }
    done
  done
  return $ok
}
# doc_json_check BINDIR: the same with another ansible-core, in one ansible-doc call (its JSON output).
doc_json_check() {
  local bindir=$1 names=() module
  for module in "${modules[@]}"; do names+=("virtlab.core.$(basename "$module" .py)"); done
  ANSIBLE_COLLECTIONS_PATH="$top/collections" "$bindir/ansible-doc" --json "${names[@]}" >"$work/docs.json" 2>"$work/docs.err" || true
  "$bindir/python" - "$work/docs.json" "$("$bindir/python" -c 'from ansible.release import __version__ as v; print("ansible-core " + v)')" "${names[@]}" <<'PY'
import json, sys

try:
    docs = json.load(open(sys.argv[1]))
except ValueError:
    docs = {}
problems = ["%s: %s" % (name, what) for name in sys.argv[3:] for what, key in
            (("no documentation", "doc"), ("no EXAMPLES", "examples"), ("no RETURN", "return"))
            if not (docs.get(name) or {}).get(key)]
for problem in problems:
    print("ansible-doc (%s) %s" % (sys.argv[2], problem))
sys.exit(1 if problems else 0)
PY
  local rc=$?
  [ $rc = 0 ] || head -5 "$work/docs.err"
  return $rc
}
venv_bin=$(dirname "$(command -v ansible-doc)")
if doc_check "$venv_bin"; then
  echo "ansible-doc renders every module (${#modules[@]}) with EXAMPLES and RETURN"
else
  status=1
fi

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
[ -f "$installed/plugins/modules/lab_probe.py" ] || { echo "the built collection lacks its modules"; exit 1; }

# What the tarball holds: what users need, none of the development files.
tar -tzf "$tarball" >"$work/contents"
development='^(\.venv|\.ansible|\.git|\.ci|\.config|\.cache|collections|scripts|molecule|roles/[^/]+/molecule|tests/(unit|integration|e2e|openstack|calculator|output))/'
development+='|^(Makefile|ansible\.cfg|requirements\.(in|txt)|\.gitignore|\.ansible-lint|tests/conftest\.py|tests/sanity/pip_bootstrap\.py)$'
development+='|^docs/(testing|CONVENTIONS|releasing)\.md$|^changelogs/\.plugin-cache\.yaml$|(^|/)__pycache__/'
if grep -E "$development" "$work/contents" >"$work/leaked"; then
  echo "the built collection contains development files:"; head -20 "$work/leaked" | sed 's/^/  /'; exit 1
fi
# Nor anything git ignores (caches and output of tools and tests, in the work tree but never committed).
grep -v '/$' "$work/contents" | grep -vxE 'MANIFEST\.json|FILES\.json' | git check-ignore --stdin >"$work/ignored" || true
if [ -s "$work/ignored" ]; then
  echo "the built collection contains files git ignores (add them to build_ignore in galaxy.yml):"
  head -10 "$work/ignored" | sed 's/^/  /'; exit 1
fi
for needed in meta/runtime.yml meta/execution-environment.yml meta/ee-requirements.txt bindep.txt \
              changelogs/changelog.yaml CHANGELOG.md README.md; do
  grep -qx "$needed" "$work/contents" || { echo "the built collection lacks $needed"; exit 1; }
done
echo "the tarball holds $(grep -vc '/$' "$work/contents") files and none of the development files"

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
# play_check BINDIR: BINDIR's ansible-playbook runs the playbook with the installed collection, and does not
# warn that the collection does not support its version.
play_check() {
  local bindir=$1
  (cd "$work/play" && ANSIBLE_COLLECTIONS_PATH="$work/installed" ANSIBLE_CONFIG="$work/play/ansible.cfg" \
     "$bindir/ansible-playbook" -i localhost, -c local -e ansible_python_interpreter="$bindir/python" play.yml \
     >"$work/play.log" 2>&1) || { cat "$work/play.log"; return 1; }
  if grep -i "does not support Ansible version" "$work/play.log"; then return 1; fi
}
play_check "$venv_bin"
echo "built $(basename "$tarball"), installed it into a clean path, and a playbook used it"

# Execution environment: ansible-builder makes a build context from the tarball; its stages are then run
# here as the image build would run them (no container engine involved): the galaxy stage installs the
# collection from the context, the builder stage's introspection collects the collections' requirements.
ee="$work/ee"
mkdir -p "$ee"
cp "$tarball" "$ee/"
cat >"$ee/execution-environment.yml" <<EE
---
version: 3
images:
  base_image:
    name: base-image.invalid/ee-minimal:latest
dependencies:
  ansible_core:
    package_pip: ansible-core
  ansible_runner:
    package_pip: ansible-runner
  galaxy:
    collections:
      - name: collections/$(basename "$tarball")
        type: file
additional_build_files:
  - src: $(basename "$tarball")
    dest: collections
EE
(cd "$ee" && ansible-builder create --file execution-environment.yml --context context \
   --output-filename Containerfile >"$ee/create.log" 2>&1) || { cat "$ee/create.log"; exit 1; }
build="$ee/context/_build"
[ -f "$build/collections/$(basename "$tarball")" ] || { echo "ansible-builder's context lacks the collection"; exit 1; }
for file in requirements.txt bindep.txt; do
  [ ! -e "$build/$file" ] || { echo "ansible-builder's context has requirements of its own ($file)"; exit 1; }
done
(cd "$build" && ANSIBLE_COLLECTIONS_PATH="$ee/share/collections" ansible-galaxy collection install --offline \
   --no-deps -r requirements.yml --collections-path "$ee/share/collections" >"$ee/galaxy.log" 2>&1) \
  || { cat "$ee/galaxy.log"; exit 1; }
introspect=$(grep -E '^RUN .*/output/scripts/introspect\.py introspect' "$ee/context/Containerfile") \
  || { echo "the Containerfile has no introspection step"; exit 1; }
# The step's own command line, with the image's paths mapped to this build's.
read -r -a step <<<"${introspect#RUN }"
args=()
for arg in "${step[@]:2}"; do args+=("${arg//\/tmp\/src/$ee/src}"); done
python "$build/scripts/introspect.py" "${args[@]}" "$ee/share/collections" >"$ee/introspect.log" 2>&1 \
  || { cat "$ee/introspect.log"; exit 1; }
python - "$ee/src" <<'PY' || exit 1
import os, re, sys
from packaging.requirements import Requirement

src = sys.argv[1]


def declared(path):
    """Requirement lines of a file of the collection, without comments."""
    lines = (re.sub(r"(^|\s)#.*$", "", line).strip() for line in open(path))
    return [line for line in lines if line]


def built(name):
    """The EE's requirement lines, each from the collection virtlab.core."""
    path = os.path.join(src, name)
    lines = [line.strip() for line in open(path) if line.strip()] if os.path.exists(path) else []
    origin = "  # from collection virtlab.core"
    strangers = [line for line in lines if not line.endswith(origin)]
    if strangers:
        sys.exit("the EE's %s has requirements of others: %s" % (name, strangers))
    return [line[: -len(origin)] for line in lines]


python_reqs, system_reqs = built("requirements.txt"), built("bindep.txt")
if python_reqs != declared("meta/ee-requirements.txt"):
    sys.exit("the EE's Python requirements %s are not the collection's %s" % (python_reqs, declared("meta/ee-requirements.txt")))
if system_reqs != declared("bindep.txt"):
    sys.exit("the EE's system requirements %s are not the collection's %s" % (system_reqs, declared("bindep.txt")))
development = {"ansible", "ansible-core", "ansible-lint", "molecule", "molecule-plugins", "pytest",
               "pytest-testinfra", "black", "ansible-builder", "antsibull-changelog"}
names = sorted(Requirement(line).name.lower() for line in python_reqs)
if development & set(names):
    sys.exit("the EE would install development packages: %s" % sorted(development & set(names)))
print("ansible-builder: the execution environment gets exactly the collection's requirements: Python %s; system %s"
      % (", ".join(names), ", ".join(line.split()[0] for line in system_reqs)))
PY

# Every ansible-core minor version requires_ansible admits; the virtualenv's own must be one of them.
read -r -a cores < <(python - <<'PY'
import sys, yaml
from packaging.specifiers import SpecifierSet
spec = SpecifierSet(yaml.safe_load(open("meta/runtime.yml"))["requires_ansible"])
upper = [s.version for s in spec if s.operator == "<"]
if not upper:
    sys.exit("requires_ansible has no upper bound: bound it to the tested ansible-core versions")
lower = [s.version for s in spec if s.operator == ">="][0]
major, first = (int(part) for part in lower.split(".")[:2])
last = int(upper[0].split(".")[1])
candidates = [lower] + ["%d.%d.0" % (major, minor) for minor in range(first + 1, last + 1)]
print(" ".join(".".join(v.split(".")[:2]) for v in candidates if spec.contains(v)))
PY
)
own=$(python -c 'from ansible.release import __version__ as v; print(".".join(v.split(".")[:2]))')
[[ " ${cores[*]} " == *" $own "* ]] || { echo "requires_ansible ($(grep requires_ansible meta/runtime.yml)) excludes ansible-core $own, the one the project develops with"; exit 1; }
cores_failed=()
for core in "${cores[@]}"; do
  [ "$core" = "$own" ] && continue
  bindir="$top/.cache/ansible-core/$core/bin"
  if [ ! -x "$bindir/ansible-doc" ]; then
    rm -rf "$top/.cache/ansible-core/$core"
    python -m venv "$top/.cache/ansible-core/$core"
    "$bindir/python" -m pip install --quiet "ansible-core==$core.*" >"$work/pip-$core.log" 2>&1 \
      || { tail -5 "$work/pip-$core.log"; rm -rf "$top/.cache/ansible-core/$core"; echo "could not install ansible-core $core"; exit 1; }
  fi
  doc_json_check "$bindir" || { cores_failed+=("$core"); continue; }
  play_check "$bindir" || { echo "the playbook failed with ansible-core $core"; cores_failed+=("$core"); continue; }
done
if [ ${#cores_failed[@]} -gt 0 ]; then
  echo "ansible-core ${cores_failed[*]}, admitted by requires_ansible, fails with the collection"; status=1
else
  echo "ansible-core ${cores[*]} ($(grep '^requires_ansible' meta/runtime.yml)): every module's documentation renders and the installed collection runs"
fi

# The changelog, judged against what the tarball ships.
grep -v '/$' "$work/contents" | grep -vxE 'MANIFEST\.json|FILES\.json' >"$work/shipped"
bash scripts/changelog-gate.sh "$work/shipped"
exit $status
