#!/usr/bin/env bash
# The command line's errors, as a user meets them: run from a folder outside any project, every
# study command prints one line naming what it looked for and exits non-zero; given broken paths
# (the bad-input corpus's study folders and workspaces), no command prints Foundation's error text.
# Usage: errors-a-user-can-act-on.sh PATH/TO/repro
set -euo pipefail
repro="$(realpath "$1")"
corpus="$(realpath "$(dirname "$0")/../BadInput")"
# Not in $TMPDIR: make test points it into the project's .build/, which is inside the project.
outside="$(mktemp -d /tmp/repro-outside.XXXXXX)"
trap 'rm -rf "$outside"' EXIT
failures=0 checked=0

# expect NAME EXPECTED-SUBSTRING COMMAND...: the command fails, prints one line, containing EXPECTED.
expect() {
  local name="$1" expected="$2"; shift 2
  local output status=0
  output="$(cd "$outside" && "$@" 2>&1)" || status=$?
  checked=$((checked + 1))
  if [[ $status -eq 0 ]]; then echo "FAIL $name: exited 0"; failures=$((failures + 1)); return; fi
  if [[ "$output" == *NSCocoaErrorDomain* || "$output" == *"Error Domain="* ]]; then
    echo "FAIL $name: Foundation's error text reached the user: $output"; failures=$((failures + 1)); return
  fi
  if [[ $(printf '%s\n' "$output" | wc -l) -ne 1 ]]; then echo "FAIL $name: not one line: $output"; failures=$((failures + 1)); return; fi
  if [[ "$output" != *"$expected"* ]]; then echo "FAIL $name: '$output' lacks '$expected'"; failures=$((failures + 1)); return; fi
}

looked="looked for a folder holding studies/ and Package.swift in $outside"
for command in "status" "show exp03" "list" "keys" "run --dry-run" "probe instruct" "figures" "tables" "check" "report" \
               "data stats" "data preview" "bench train --seconds 0.1"; do
  # shellcheck disable=SC2086
  expect "outside: repro $command" "$looked" "$repro" $command
done

for folder in "$corpus"/studies/no-study-files "$corpus"/studies/not-a-folder "$outside/no-such-folder"; do
  expect "studies $(basename "$folder")" "$folder" "$repro" status --studies "$folder" --workspace "$outside/workspace"
done
studies="$(realpath "$(dirname "$0")/../../studies")"
for workspace in "$corpus"/workspace/*; do
  [[ "$workspace" == *.expected ]] && continue
  expect "workspace $(basename "$workspace")" "$workspace" "$repro" run --dry-run --studies "$studies" --workspace "$workspace"
done

echo "$checked command-line errors checked, $failures wrong"
[[ $failures -eq 0 && $checked -ge 19 ]]
