#!/bin/sh
# cpu: the CPU2000 shape, CPU-bound work with few system calls.  One awk
# process runs three integer kernels (a sieve of Eratosthenes, a linear
# congruential generator folded into a checksum, a small matrix product)
# and md5sum hashes a stream of zero bytes from dd through a pipe.
#
#   n=N    size: the sieve's limit and the generator's steps (default 5000);
#          the matrix is 16x16, the hashed stream N/1000 x 64 KiB
set -eu
n=${n:-5000}
case $n in '' | *[!0-9]*) echo "result: FAIL cpu: n is a number"; exit 1 ;; esac

awk -v n="$n" '
# A 32-bit value as 8 hex digits (printf %x stops at 2^31 here).
function hex32(v) { return sprintf("%04x%04x", int(v / 65536), v % 65536) }
BEGIN {
	# sieve: how many primes up to n
	for (i = 2; i <= n; i++) c[i] = 1
	for (i = 2; i * i <= n; i++)
		if (c[i]) for (j = i * i; j <= n; j += i) c[j] = 0
	primes = 0
	for (i = 2; i <= n; i++) primes += c[i]

	# generator: n steps, folded
	x = 12345; h = 0
	for (i = 0; i < n; i++) {
		x = (x * 69069 + 1) % 4294967296
		h = (h * 33 + int(x / 65536)) % 4294967296
	}

	# matrix: A*A for a 16x16 A[i,j] = (i*16+j) % 7
	m = 16; t = 0
	for (i = 0; i < m; i++) for (j = 0; j < m; j++) a[i, j] = (i * m + j) % 7
	for (i = 0; i < m; i++) for (j = 0; j < m; j++) {
		s = 0
		for (k = 0; k < m; k++) s += a[i, k] * a[k, j]
		t = (t * 7 + s) % 4294967296
	}
	printf "result: cpu n=%d primes=%d lcg=%s matrix=%s\n", n, primes, hex32(h), hex32(t)
}'
blocks=$((n / 1000))
[ "$blocks" -gt 0 ] || blocks=1
sum=$(dd if=/dev/zero bs=65536 count="$blocks" 2>/dev/null | md5sum)
echo "result: cpu md5 blocks=$blocks ${sum%% *}"
