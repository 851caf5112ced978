#!/bin/sh
# Fetch Debian 12's kernel and static busybox into a cache directory.
# Usage: guests/linux/fetch-linux.sh CACHE_DIR
#
# The kernel is whatever `linux-image-amd64` depends on in this machine's
# apt lists when this runs (linux-image-6.1.0-NN-amd64; it moves with point
# releases), at exactly the metapackage's version.  Both packages come with
# `apt-get download`, which checks them against the signed Release files;
# a cached .deb is used again only while its sha256 is the one apt's lists
# give for that version.  No host name is written here: apt knows them.
#
# Prints two lines, "kernel PATH" and "busybox PATH", the cached .debs.
set -eu

cache=${1:?usage: fetch-linux.sh CACHE_DIR}
dir=$cache/linux

die() { echo "vmxlab: $*" >&2; exit 1; }

# Field $2 of package $1's record in the apt lists (first stanza: the
# candidate version with --no-all-versions, else the version named in $1).
field() {
	apt-cache show --no-all-versions "$1" 2>/dev/null |
		awk -v f="$2:" '$1 == f { sub(/^[^:]*:[ \t]*/, ""); print; exit }'
}

# "linux-image-6.1.0-57-amd64 (= 6.1.192-3)" -> name and version.
dep=$(field linux-image-amd64 Depends)
[ -n "$dep" ] || die "apt knows no package linux-image-amd64; run apt-get update (as root), then make again"
kname=$(echo "$dep" | sed -n 's/^\(linux-image-[^ ,|]*\).*/\1/p')
kver=$(echo "$dep" | sed -n 's/^[^(]*(= \([^)]*\)).*/\1/p')
[ -n "$kname" ] || die "linux-image-amd64 depends on '$dep', not on one linux-image package; update guests/linux/fetch-linux.sh"
[ -n "$kver" ] || kver=$(field "$kname" Version)
bver=$(field busybox-static Version)
[ -n "$bver" ] || die "apt knows no package busybox-static; run apt-get update (as root), then make again"

mkdir -p "$dir" || die "cannot create the download cache $dir"

# fetch NAME VERSION: the cached .deb's path on stdout, downloaded first
# unless a file with the lists' sha256 is there.
fetch() {
	name=$1 ver=$2
	sha=$(field "$name=$ver" SHA256)
	[ -n "$sha" ] || die "apt's lists have no sha256 for $name $ver; run apt-get update (as root), then make again"
	# apt-get download's own file name: the epoch's colon is written %3a.
	deb=$dir/${name}_$(echo "$ver" | sed 's/:/%3a/')_$(field "$name=$ver" Architecture).deb
	if [ -f "$deb" ] && echo "$sha  $deb" | sha256sum -c --status 2>/dev/null; then
		echo "$deb"
		return
	fi
	rm -f "$deb"
	tmp=$(mktemp -d "$dir/.download-XXXXXX")
	# apt drops root for the download to the _apt user when that user can
	# write here; otherwise it downloads as root and warns (not shown).
	[ "$(id -u)" != 0 ] || chown _apt "$tmp" 2>/dev/null || true
	if ! (cd "$tmp" && apt-get download -qq "$name=$ver") >"$tmp/.log" 2>&1; then
		grep -v 'unsandboxed' "$tmp/.log" | sed 's/^/  apt: /' >&2
		rm -rf "$tmp"
		die "apt-get download $name=$ver failed; run apt-get update (as root) and check the network and /etc/apt, or put ${deb##*/} in $dir by hand"
	fi
	got=$(find "$tmp" -maxdepth 1 -name '*.deb' | head -n 1)
	if [ -z "$got" ] || ! echo "$sha  $got" | sha256sum -c --status 2>/dev/null; then
		rm -rf "$tmp"
		die "apt-get download $name=$ver gave no .deb with the sha256 of apt's lists ($sha)"
	fi
	mv "$got" "$deb"
	rm -rf "$tmp"
	echo "vmxlab: fetched $name $ver ($(wc -c <"$deb") bytes)" >&2
	echo "$deb"
}

k=$(fetch "$kname" "$kver")
b=$(fetch busybox-static "$bver")
echo "vmxlab: the Linux guest is $kname $kver with busybox-static $bver" >&2
echo "kernel $k"
echo "busybox $b"
