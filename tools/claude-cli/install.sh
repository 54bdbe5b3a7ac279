#!/usr/bin/env bash
# Install the pinned Claude Code CLI into tools/claude-cli/node_modules from package-lock.json.
# Idempotent: when the installed CLI already reports the locked version and the lockfile has
# not changed since, it only checks that and exits (about 0.1 s). Needs Node >= 20 and npm.
set -euo pipefail
cd "$(dirname "$0")"

for tool in node npm; do
    command -v "$tool" >/dev/null 2>&1 || { echo "install.sh: $tool is not on PATH (need Node >= 20 with npm)" >&2; exit 1; }
done

want=$(node -p 'require("./package-lock.json").packages["node_modules/@anthropic-ai/claude-code"].version')
bin=node_modules/.bin/claude
stamp=node_modules/.paperclip-install-stamp
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)

installed_version() {
    # Run offline in a throwaway HOME so the check never phones home or writes ~/.claude.
    local home rc=0
    home=$(mktemp -d)
    env HOME="$home" CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_AUTOUPDATER=1 \
        DISABLE_TELEMETRY=1 DISABLE_ERROR_REPORTING=1 "$bin" --version 2>/dev/null | cut -d' ' -f1 || rc=$?
    rm -rf "$home"
    return $rc
}

if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$lock_sum" ] && [ "$(installed_version)" = "$want" ]; then
    exit 0
fi

echo "install.sh: installing @anthropic-ai/claude-code@$want into $(pwd)/node_modules" >&2
npm ci --no-audit --no-fund
got=$(installed_version || true)
if [ "$got" != "$want" ]; then
    # The package's postinstall puts the native binary in place; without it only a stub is left.
    echo "install.sh: expected claude $want after npm ci, got '${got:-nothing}'" >&2
    exit 1
fi
echo "$lock_sum" > "$stamp"
echo "install.sh: claude $got ready at $(pwd)/$bin" >&2
