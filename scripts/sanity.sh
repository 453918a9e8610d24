#!/usr/bin/env bash
# ansible-test sanity on the collection, in a copy laid out as ansible_collections/virtlab/core
# (ansible-test requires that path; the clone itself may live anywhere).
set -euo pipefail
cd "$(dirname "$0")/.."

# ansible-test bootstraps pip in its own virtualenvs with a script it downloads from a host that is not
# reachable here; give it the stand-in once, under the name it looks for.
pip_version=$(python -c 'import ansible_test._internal.python_requirements as r, inspect, re; print(re.search(r"pip=.(\d+\.\d+(\.\d+)?)", inspect.getsource(r)).group(1))')
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
[ -f "$cache" ] || { mkdir -p "$(dirname "$cache")"; cp tests/sanity/pip_bootstrap.py "$cache"; }

# Without shellcheck ansible-test skips its shell check with a mere warning: install it instead.
if ! command -v shellcheck >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shellcheck >/dev/null 2>&1 \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shellcheck >/dev/null; }
  else
    echo "shellcheck is missing: install it (Debian package shellcheck)" >&2; exit 1
  fi
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/virtlab/core"
mkdir -p "$dest"
git ls-files -z --cached | grep -zv '^collections/' | xargs -0 cp --parents -P -t "$dest"
cd "$dest"
ansible-test sanity --python "$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" --requirements --color no "$@"
