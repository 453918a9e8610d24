#!/usr/bin/env bash
# Run every Molecule scenario - one per role (roles/<role>/molecule/default) and the full lab
# (molecule/lab) - one after the other, print each one's duration and result at the end, and exit non-zero
# when any failed. Logs go to .cache/molecule-logs/<scenario>.log (printed in full for a failed scenario).
#
#   scripts/molecule.sh                  every scenario
#   scripts/molecule.sh calculator lab   only these (role names, or "lab")
#
# Sequential: the machine has 2 cores and the full lab alone runs 8 containers; running scenarios side by
# side has not been measured to be faster (see docs/testing.md).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)

# The virtualenv's tools when it exists (make test creates it), the PATH's otherwise.
[ -x "$ROOT/.venv/bin/molecule" ] && export PATH="$ROOT/.venv/bin:$PATH"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 NO_COLOR=1 PY_COLORS=0
# The shared config is named explicitly: molecule would otherwise look for it at the top of the VCS tree.
BASE_CONFIG="$ROOT/.config/molecule/config.yml"

# Role scenarios first (cheap, and they pin down a failing role), the full lab last.
ALL=(topology provision_docker nodejs calculator static_routes connectivity lab)
if [ $# -gt 0 ]; then SCENARIOS=("$@"); else SCENARIOS=("${ALL[@]}"); fi

LOGS="$ROOT/.cache/molecule-logs"
mkdir -p "$LOGS"
declare -a NAMES RESULTS TIMES
failed=0
total_start=$SECONDS

for scenario in "${SCENARIOS[@]}"; do
  if [ "$scenario" = lab ]; then
    dir="$ROOT"; args=(test -s lab)
  elif [ -f "$ROOT/roles/$scenario/molecule/default/molecule.yml" ]; then
    dir="$ROOT/roles/$scenario"; args=(test -s default)
  else
    echo "no such scenario: $scenario (a role with roles/<role>/molecule/default, or lab)" >&2
    NAMES+=("$scenario"); RESULTS+=("MISSING"); TIMES+=(0); failed=1
    continue
  fi
  log="$LOGS/$scenario.log"
  printf '=== molecule: %s (log: %s)\n' "$scenario" "${log#"$ROOT"/}"
  start=$SECONDS
  if (cd "$dir" && molecule --base-config "$BASE_CONFIG" "${args[@]}") >"$log" 2>&1; then
    RESULTS+=("passed")
  else
    RESULTS+=("FAILED"); failed=1
    printf '\n--- %s failed; its log:\n' "$scenario"
    cat "$log"
  fi
  NAMES+=("$scenario"); TIMES+=($((SECONDS - start)))
  printf '=== molecule: %s %s in %ss\n' "$scenario" "${RESULTS[-1]}" "${TIMES[-1]}"
done

printf '\n=== molecule summary\n'
for i in "${!NAMES[@]}"; do
  printf '%-20s %-7s %5ss\n' "${NAMES[$i]}" "${RESULTS[$i]}" "${TIMES[$i]}"
done
printf '%-20s %-7s %5ss\n' "total" "$([ $failed = 0 ] && echo passed || echo FAILED)" "$((SECONDS - total_start))"
exit $failed
