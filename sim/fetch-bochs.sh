#!/bin/sh
# Fetch Bochs 3.0 from Debian's source package into a cache directory and
# verify it.  Usage: sim/fetch-bochs.sh CACHE_DIR
#
# `apt-get source` is tried first; the package mirror seen here serves the
# 3.0 orig tarball but not its .dsc, so the fallback downloads the tarball
# from the pool of the main archive named in this machine's own apt
# configuration.  No host name is written here: it comes from apt.
set -eu

FILE=bochs_3.0+dfsg.orig.tar.xz
SHA256=78f6c73d4a6472d5130a87ab9dc306d02c7c71ed8e25b3a8ef642e2a7acd282b
cache=${1:?usage: fetch-bochs.sh CACHE_DIR}
dest=$cache/$FILE

die() { echo "vmxlab: $*" >&2; exit 1; }
verified() { echo "$SHA256  $1" | sha256sum -c --status 2>/dev/null; }

[ -f "$dest" ] && verified "$dest" && exit 0
mkdir -p "$cache" || die "cannot create the download cache $cache"

# The first main-archive URI of the apt configuration: deb822 `URIs:` of a
# stanza whose suites are not -security, else a one-line `deb URI suite`.
mirror_uri() {
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk '
			/^[ \t]*$/ { if (uri != "" && suites !~ /-security/) { print uri; exit } uri = ""; suites = "" }
			/^URIs:/   { uri = $2 }
			/^Suites:/ { suites = $0 }
			END        { if (uri != "" && suites !~ /-security/) print uri }
		' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '$1 == "deb" && $3 !~ /-security/ { u = $2; if (u ~ /^\[/) u = $3; print u }' "$f"
	done
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if (cd "$tmp" && apt-get source --download-only -qq bochs=3.0+dfsg-1) >/dev/null 2>&1 &&
	[ -f "$tmp/$FILE" ]; then
	cp "$tmp/$FILE" "$dest.part"
else
	uri=$(mirror_uri | head -n 1)
	[ -n "$uri" ] || die "no Debian mirror found in /etc/apt (sources.list or sources.list.d/*.sources); put $FILE in $cache by hand"
	uri=${uri%/}
	curl -fsSL --retry 3 --connect-timeout 20 -o "$dest.part" "$uri/pool/main/b/bochs/$FILE" ||
		die "download of $FILE from the apt mirror $uri failed; check the network, or put the file in $cache by hand"
fi
if ! verified "$dest.part"; then
	rm -f "$dest.part"
	die "sha256 of $FILE does not match $SHA256; the mirror served another file. Remove nothing else; report it"
fi
mv "$dest.part" "$dest"
echo "vmxlab: fetched and verified $FILE"
