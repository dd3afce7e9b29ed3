#!/usr/bin/env bash
# bench/build_parse_commit.sh - build bench/parse_commit.c against the
# library of the current build ($BUILD/libtrueup.a, made by `make all`) with
# the project's warning flags, into $BUILD/bench/parse_commit.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/default}
PKGS="sqlite3 libcurl jansson libuv"
mkdir -p "$BUILD/bench"
${CC:-cc} -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral -Wvla -Wpointer-arith \
	-O2 -g $(pkg-config --cflags $PKGS) -Isrc -I"$BUILD" \
	-o "$BUILD/bench/parse_commit" bench/parse_commit.c "$BUILD/libtrueup.a" \
	$(pkg-config --libs $PKGS) -lcsv -lm
