#!/usr/bin/env bash
# The changelog gate (antsibull-changelog; how to write a fragment and release: docs/releasing.md):
#  - every fragment in changelogs/fragments and changelogs/changelog.yaml are valid;
#  - CHANGELOG.md is exactly what antsibull-changelog generates from changelogs/changelog.yaml;
#  - galaxy.yml's version is the latest release or the next one; while it is the next one, its release
#    entry renders from the fragments (printed);
#  - a change to what the collection ships comes with a fragment: when files that go into the tarball
#    changed since the base (CHANGELOG_BASE, e.g. the target branch of a merge request; by default the commit
#    that added the latest release to changelogs/changelog.yaml), a fragment was added or changed since then.
# Usage: changelog-gate.sh [file listing the tarball's paths, one a line]  (without it, files are judged by
# `git ls-files` alone, so ignored build paths count as shipped).
set -euo pipefail
cd "$(dirname "$0")/.."
shipped_list=${1:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

antsibull-changelog lint
antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
fragments=()
while IFS= read -r -d '' fragment; do fragments+=("$fragment"); done \
  < <(find changelogs/fragments -maxdepth 1 -type f \( -name '*.yml' -o -name '*.yaml' \) -print0 | sort -z)
echo "antsibull-changelog lint: ${#fragments[@]} fragment(s) and changelogs/changelog.yaml are valid"

# A copy of the collection's files (tracked and new ones), where antsibull-changelog may write.
copy="$work/copy"
mkdir -p "$copy"
git ls-files -z --cached --others --exclude-standard | grep -zv '^collections/' | while IFS= read -r -d '' path; do
  [ -e "$path" ] || [ -L "$path" ] || continue   # deleted in the work tree, not yet in the index
  mkdir -p "$copy/$(dirname "$path")"; cp -P "$path" "$copy/$path"
done
rm -f "$copy/changelogs/.plugin-cache.yaml"

(cd "$copy" && antsibull-changelog generate)
if ! cmp -s "$copy/CHANGELOG.md" CHANGELOG.md; then
  echo "CHANGELOG.md is not what antsibull-changelog generate makes from changelogs/changelog.yaml:"
  diff -u CHANGELOG.md "$copy/CHANGELOG.md" | head -40
  exit 1
fi
echo "CHANGELOG.md is generated from changelogs/changelog.yaml"

# The version being developed: the latest release (just released) or a later one (fragments pending).
read -r version latest < <(python - <<'PY'
import yaml
from packaging.version import Version
version = yaml.safe_load(open("galaxy.yml"))["version"]
releases = sorted((yaml.safe_load(open("changelogs/changelog.yaml")).get("releases") or {}), key=Version)
print(version, releases[-1] if releases else "none")
PY
)
if [ "$version" = "$latest" ]; then
  echo "galaxy.yml's version $version is the latest release"
elif python -c "import sys; from packaging.version import Version as V; sys.exit(not ('$latest' == 'none' or V('$version') > V('$latest')))"; then
  [ ${#fragments[@]} -gt 0 ] || { echo "galaxy.yml's version $version is not released, and there is no fragment for it"; exit 1; }
  (cd "$copy" && antsibull-changelog release --version "$version" >/dev/null 2>&1 \
     && antsibull-changelog generate --only-latest --output "$work/next.md" --output-format md) \
    || { echo "the fragments do not make a release entry for $version"; exit 1; }
  grep -q '^## ' "$work/next.md" || { echo "the release entry for $version is empty"; exit 1; }
  echo "release entry for $version (unreleased, from ${#fragments[@]} fragment(s)):"
  sed -e '/^<a id=/d' -e '/^$/d' -e 's/\\\(.\)/\1/g' -e 's:</*code>:`:g' -e 's/^/  | /' "$work/next.md"
else
  echo "galaxy.yml's version $version is older than the latest release in changelogs/changelog.yaml, $latest"; exit 1
fi

# A fragment for every change to what the collection ships.
base=${CHANGELOG_BASE:-$(git log -1 --format=%H -G'^  [0-9]+\.[0-9]+\.[0-9]+[^ ]*:$' -- changelogs/changelog.yaml || true)}
if [ -z "$base" ]; then
  echo "no release committed yet: nothing to compare with"
  exit 0
fi
{ git diff --name-only --no-renames "$base" --; git ls-files --others --exclude-standard; } | sort -u >"$work/changed"
if [ -n "$shipped_list" ]; then
  { sed 's:/$::' "$shipped_list"; echo galaxy.yml; } | sort -u >"$work/shipped"  # galaxy.yml ships as MANIFEST.json
else
  git ls-files --cached --others --exclude-standard | sort -u >"$work/shipped"
fi
comm -12 "$work/changed" "$work/shipped" | grep -vE '^(changelogs/|CHANGELOG\.md$)' >"$work/needs" || true
grep -E '^changelogs/fragments/[^/.][^/]*\.ya?ml$' "$work/changed" >"$work/new_fragments" || true
short=$(git rev-parse --short "$base")
if [ -s "$work/needs" ] && [ ! -s "$work/new_fragments" ]; then
  echo "$(wc -l <"$work/needs") shipped file(s) changed since $short without a changelog fragment" \
       "(add one to changelogs/fragments, see docs/releasing.md):"
  head -10 "$work/needs" | sed 's/^/  /'
  exit 1
fi
echo "since $short: $(wc -l <"$work/needs") shipped file(s) changed, $(wc -l <"$work/new_fragments") fragment(s) added or changed"
