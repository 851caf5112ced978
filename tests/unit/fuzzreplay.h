/*
 * fuzzreplay.h - the kept inputs of a libFuzzer target, replayed in
 * `make test` through the target's own LLVMFuzzerTestOneInput.
 */
#ifndef FUZZREPLAY_H
#define FUZZREPLAY_H

#include <stddef.h>
#include <stdint.h>

/* Every file of dir (dot files aside), whole, through one(); a cmocka
 * failure when one returns non-zero or a file cannot be read.  The number
 * of inputs replayed. */
unsigned fuzz_replay_dir(const char *dir, int (*one)(const uint8_t *data, size_t size));

#endif
