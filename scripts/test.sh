#!/usr/bin/env bash
# Every test and gate of the project, stage by stage. Runs all stages, prints each one's duration and
# result at the end, and exits non-zero when any stage failed. Called by `make test` (after setup).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

declare -a NAMES RESULTS TIMES
failed=0

stage() {
  local name=$1; shift
  printf '\n=== stage: %s\n' "$name"
  local start=$SECONDS
  if "$@"; then RESULTS+=("passed"); else RESULTS+=("FAILED"); failed=1; fi
  NAMES+=("$name"); TIMES+=($((SECONDS - start)))
}

stage "unit tests (modules and helpers)" python -m pytest -q tests/unit
stage "integration: Docker modules on the engine, Proxmox and VBoxManage doubles" python -m pytest -q tests/integration
stage "calculator services (node --test)" node --test tests/calculator/
stage "end to end: lab, idempotence, route repair" python -m pytest -q -s tests/e2e
stage "Molecule: every role's scenario and the full lab with its breaks" bash scripts/molecule.sh
stage "OpenStack: modules and playbooks on a real control plane" python -m pytest -q tests/openstack
stage "ansible-test sanity" bash scripts/sanity.sh
stage "ansible-lint (production profile)" ansible-lint
stage "ansible-doc, collection build and install" bash scripts/collection-gates.sh

printf '\n=== summary\n'
for i in "${!NAMES[@]}"; do
  printf '%-50s %-7s %5ss\n' "${NAMES[$i]}" "${RESULTS[$i]}" "${TIMES[$i]}"
done
exit $failed
