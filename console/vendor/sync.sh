#!/bin/sh
# Copies the GraphiQL, React and ReactDOM builds (the playground) and graphql-ws's browser build
# (the console's subscriptions) pinned in package-lock.json, with their licences, into
# ../static/vendor, which the binary embeds: nothing is then loaded from a CDN.
# With --check it changes nothing and fails when the embedded files differ from the pinned ones
# (CI runs it so). Needs npm and the registry; building Herald needs neither.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dest="$here/../static/vendor"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/package.json" "$here/package-lock.json" "$work/"
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
mods="$work/node_modules"
out="$work/vendor"
mkdir "$out"
cp "$mods/graphiql/graphiql.min.js" "$mods/graphiql/graphiql.min.css" "$out/"
cp "$mods/react/umd/react.production.min.js" "$mods/react-dom/umd/react-dom.production.min.js" "$out/"
cp "$mods/graphql-ws/umd/graphql-ws.min.js" "$out/"
cp "$mods/graphql-ws/LICENSE.md" "$out/graphql-ws.LICENSE.txt"
for pkg in graphiql react react-dom; do
	cp "$mods/$pkg/LICENSE" "$out/$pkg.LICENSE.txt"
done
if [ "${1:-}" = "--check" ]; then
	if ! diff -r "$out" "$dest" >/dev/null; then
		echo "console/static/vendor differs from console/vendor/package-lock.json: run console/vendor/sync.sh and commit" >&2
		exit 1
	fi
	exit 0
fi
rm -rf "$dest"
cp -r "$out" "$dest"
