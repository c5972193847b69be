#!/bin/bash
# offrx-view builds from a copy of the source tree that has no exporters/ directory: the viewer
# includes nothing from exporters/ and links nothing defined there (issue 14). The what-if it
# shows replays through whatif/ over the engine's offrx_core.
#
# In the copy every tests/ CMakeLists.txt is empty (the suites test the exporters too, and the
# fuzz and name tests compile exporters/ sources on purpose); the build directories are left
# out. Exit 77: skipped.
set -euo pipefail
SRC=${OFFRX_SRC:?OFFRX_SRC: the source tree}
for tool in cmake tar; do
	command -v $tool >/dev/null || { echo "SKIP: no $tool"; exit 77; }
done
work=$(mktemp -d /tmp/offrx-noexp.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/src"
tar -C "$SRC" --exclude=./exporters --exclude='./build*' --exclude=./.git -cf - . |
	tar -C "$work/src" -xf -
find "$work/src/tests" -name CMakeLists.txt -exec truncate -s 0 {} +
test ! -e "$work/src/exporters" || { echo "FAIL: the copy has exporters/"; exit 1; }

. "$SRC/tests/support/checks.sh"
if cmake -S "$work/src" -B "$work/b" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOFFRX_EXPORTERS=OFF -Wno-dev \
	>"$work/cfg.log" 2>&1; then
	echo "ok   configure without exporters/"
else
	echo "FAIL configure without exporters/:"; tail -20 "$work/cfg.log"; exit 1
fi
if cmake --build "$work/b" --target offrx-view -j2 >"$work/build.log" 2>&1; then
	echo "ok   offrx-view builds"
else
	echo "FAIL offrx-view builds:"; grep -E -A3 'error|Error' "$work/build.log" | head -30; exit 1
fi
check "it runs (--version)" "$work/b/viewer/offrx-view" --version
# Nothing of exporters/ on any compile or link line of the viewer and what it links.
check "no exporters/ path in the viewer's build" \
	bash -c "! grep -rl 'exporters' '$work/b/viewer' '$work/b/whatif' '$work/b/util' --include=flags.make --include=link.txt --include='*.d'"
finish
