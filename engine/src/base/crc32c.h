/* crc32c.h - CRC-32C (Castagnoli), the checksum of snapshots and journals:
 * in hardware where the CPU has it (SSE4.2), else from a table. */
#ifndef LORE_CRC32C_H
#define LORE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extends `crc` (0 to start) over n bytes: crc32c(crc32c(0, a), b) is the
 * checksum of a followed by b.  crc32c(0, "123456789", 9) == 0xe3069283. */
uint32_t crc32c(uint32_t crc, const void *p, size_t n);

#endif
