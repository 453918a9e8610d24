#!/usr/bin/env bash
# Every test and gate of the project, stage by stage. Runs all stages, prints each one's duration and
# result at the end, and exits non-zero when any stage failed. Called by `make test` (after setup).
#
#   scripts/test.sh                  every stage
#   scripts/test.sh openstack e2e    only the stages named (see `scripts/test.sh --list`)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

# name | what it checks | command
STAGES=(
  "unit|unit tests (modules and helpers)|python -m pytest -q tests/unit"
  "integration|integration: Docker modules on the engine, bad topology data, the strategy plugin|python -m pytest -q tests/integration --ignore=tests/integration/proxmox --ignore=tests/integration/vbox"
  "backends|Proxmox and VirtualBox modules on their doubles with real guests: objectives 4, 6-7 and the calculator lab 9-11|python -m pytest -q tests/integration/proxmox tests/integration/vbox"
  "calculator|calculator services (node --test)|node --test tests/calculator/"
  "e2e|end to end: lab, idempotence, route repair|python -m pytest -q -s tests/e2e"
  "molecule|Molecule: every role's scenario and the full lab with its breaks|bash scripts/molecule.sh"
  "openstack|OpenStack on a real control plane: every module on the fake compute host; on real guests the calculator lab from site.yml, objective 8, the data plane, teardown|python -m pytest -q tests/openstack"
  "sanity|ansible-test sanity|bash scripts/sanity.sh"
  "lint|ansible-lint (production profile)|ansible-lint"
  "gates|ansible-doc, collection build and install|bash scripts/collection-gates.sh"
)

# Stages that run only when named (none today; a stage listed here is printed as NOT RUN by a full run,
# never as passed): `scripts/test.sh <name>` runs it.
ON_REQUEST=" "

if [ "${1:-}" = "--list" ]; then
  for entry in "${STAGES[@]}"; do
    IFS='|' read -r name what _ <<<"$entry"
    printf '%-16s %s%s\n' "$name" "$what" "$([[ "$ON_REQUEST" == *" $name "* ]] && echo ' (on request)')"
  done
  exit 0
fi

wanted=("$@")
known=" $(for entry in "${STAGES[@]}"; do printf '%s ' "${entry%%|*}"; done)"
for name in "${wanted[@]}"; do
  case "$known" in
    *" $name "*) ;;
    *) echo "unknown stage '$name'; the stages are:$known" >&2; exit 2 ;;
  esac
done

declare -a NAMES RESULTS TIMES
failed=0

for entry in "${STAGES[@]}"; do
  IFS='|' read -r name what cmd <<<"$entry"
  if [ ${#wanted[@]} -gt 0 ] && [[ " ${wanted[*]} " != *" $name "* ]]; then continue; fi
  if [ ${#wanted[@]} -eq 0 ] && [[ "$ON_REQUEST" == *" $name "* ]]; then
    printf '\n=== stage: %s - on request only, not run (scripts/test.sh %s)\n' "$name" "$name"
    NAMES+=("$name: $what"); RESULTS+=("NOT RUN"); TIMES+=(0)
    continue
  fi
  printf '\n=== stage: %s (%s)\n' "$name" "$what"
  start=$SECONDS
  # shellcheck disable=SC2086  # the command is a word list by design
  if $cmd; then RESULTS+=("passed"); else RESULTS+=("FAILED"); failed=1; fi
  NAMES+=("$name: $what"); TIMES+=($((SECONDS - start)))
done

printf '\n=== summary\n'
for i in "${!NAMES[@]}"; do
  printf '%-70s %-7s %5ss\n' "${NAMES[$i]}" "${RESULTS[$i]}" "${TIMES[$i]}"
done
exit $failed
