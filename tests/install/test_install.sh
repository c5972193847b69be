#!/usr/bin/env bash
# cmake --install into a temporary prefix; then, as an application outside the tree would:
# build samples/minimal/minimal.c with `pkg-config --cflags --libs offrx` against the shared
# library and with `pkg-config --static` against the static one, run both (--mem: no root, no
# network) and check what they print. Also: the soname, the export list against the public
# headers, the tools and the man pages.
set -u
: "${OFFRX_BIN:?set OFFRX_BIN to the build directory}" "${OFFRX_SRC:?set OFFRX_SRC}"
LIBDIR=${OFFRX_LIBDIR:-lib}
CC=${CC:-cc}
APP_CFLAGS=${OFFRX_APP_CFLAGS:-} # -fsanitize=... when liboffrx is built with the sanitizers
command -v pkg-config >/dev/null || { echo "SKIP: pkg-config missing (scripts/install-deps installs it)"; exit 77; }
WORK=$(mktemp -d /tmp/offrx-install.XXXXXX)
[[ -n "${OFFRX_KEEP:-}" ]] || trap 'rm -rf "$WORK"' EXIT
. "$OFFRX_SRC/tests/support/checks.sh"
CHECK_OUT=$WORK/log
# install PREFIX: the whole build, as `make install PREFIX=...` does
install_to() { cmake --install "$OFFRX_BIN" --prefix "$1" >"$WORK/install-$(basename "$1").log" 2>&1; }

P=$WORK/prefix
check "cmake --install --prefix $P" install_to "$P"
L=$P/$LIBDIR
check "liboffrx.so has soname liboffrx.so.0" \
	bash -c "readelf -d '$L/liboffrx.so' | grep -q 'SONAME.*\[liboffrx.so.0\]'"
check "liboffrx.a, offrx.pc, offrx/offrx.h and offrx/offrx_mem.h installed" \
	test -f "$L/liboffrx.a" -a -f "$L/pkgconfig/offrx.pc" -a -f "$P/include/offrx/offrx.h" \
	-a -f "$P/include/offrx/offrx_mem.h"
for page in "$OFFRX_SRC"/docs/*.1; do
	prog=$(basename "$page" .1)
	check "$prog and its man page installed" \
		test -x "$P/bin/$prog" -a -f "$P/share/man/man1/$prog.1"
done

# The shared library exports the functions the public headers declare, and nothing else.
python3 - "$OFFRX_SRC"/engine/include/offrx/*.h >"$WORK/declared" <<'PY'
import re, sys
names = set()
for path in sys.argv[1:]:
    src = re.sub(r'/\*.*?\*/', '', open(path).read(), flags=re.S)
    for m in re.finditer(r'^(?!static|typedef|#)[A-Za-z_][\w \t\*]*?\b(offrx_\w+)\s*\(', src, re.M):
        names.add(m.group(1))
print('\n'.join(sorted(names)))
PY
nm -D --defined-only "$L/liboffrx.so" | awk '$2 ~ /^[TDRBVW]$/ {sub(/@.*/, "", $3); print $3}' |
	grep -v '^OFFRX_' | sort -u >"$WORK/exported"
check "liboffrx.so exports exactly the public functions ($(wc -l <"$WORK/declared") declared, $(wc -l <"$WORK/exported") exported; diff in $WORK/log)" \
	diff "$WORK/declared" "$WORK/exported"

# An application outside the tree, against the shared library.
mkdir -p "$WORK/app"
cp "$OFFRX_SRC/samples/minimal/minimal.c" "$WORK/app/"
export PKG_CONFIG_PATH=$L/pkgconfig
cd "$WORK/app" || exit 1
expect_output() { # expect_output OUTFILE: what minimal --mem prints
	[[ $(grep -c 'SUCCESS, 700 bytes' "$1") == 3 ]] && grep -q 'peer closed after 2100 bytes' "$1"
}
check "shared: cc minimal.c \$(pkg-config --cflags --libs offrx)" \
	bash -c "$CC $APP_CFLAGS -o minimal minimal.c \$(pkg-config --cflags --libs offrx)"
check "shared: the program needs liboffrx.so.0" \
	bash -c "readelf -d minimal | grep -q 'NEEDED.*\[liboffrx.so.0\]'"
LD_LIBRARY_PATH=$L ./minimal --mem >shared.out 2>&1
check "shared: minimal --mem exits 0, three 700-byte completions, the close ($(tr '\n' '|' <shared.out | head -c 300))" \
	expect_output shared.out
check "shared: it ran on the installed liboffrx.so.0" \
	bash -c "LD_LIBRARY_PATH='$L' ldd ./minimal | grep -q '$L/liboffrx.so.0'"
if [[ "${OFFRX_TRACING:-LTTNG}" == LTTNG ]]; then
	# lttng-ust registers the offrx probes when the application starts (LTTNG_UST_DEBUG
	# prints it): the application gets the tracepoints by linking liboffrx, nothing else.
	LTTNG_UST_DEBUG=1 LD_LIBRARY_PATH=$L ./minimal --mem >ust.out 2>&1
	check "shared: lttng-ust registers the offrx probe provider from liboffrx.so" \
		grep -q 'registered tracepoint: "offrx:post"' ust.out
fi

# The same against the static library: a prefix without the shared one, so -loffrx is
# liboffrx.a and pkg-config --static must name everything it needs.
PS=$WORK/static
check "cmake --install --prefix $PS" install_to "$PS"
rm -f "$PS/$LIBDIR"/liboffrx.so*
export PKG_CONFIG_PATH=$PS/$LIBDIR/pkgconfig
check "static: cc minimal.c \$(pkg-config --static --cflags --libs offrx)" \
	bash -c "$CC $APP_CFLAGS -o minimal-static minimal.c \$(pkg-config --static --cflags --libs offrx)"
check "static: the program needs no liboffrx.so" \
	bash -c "! readelf -d minimal-static | grep -q 'NEEDED.*liboffrx'"
./minimal-static --mem >static.out 2>&1
check "static: minimal --mem, three 700-byte completions, the close ($(tr '\n' '|' <static.out | head -c 300))" \
	expect_output static.out

((FAILED == 0)) || { echo "log:"; tail -n 40 "$WORK/log"; }
finish
