/* file.h - the operating-system side of persistence: reading a whole file,
 * writing through short writes, and replacing a file atomically (a
 * temporary file beside it, fsync, rename, fsync of the directory), with
 * failures reported on the kb handle as "path: what failed: why". */
#ifndef LORE_FILE_H
#define LORE_FILE_H

#include "kb.h"

/* Reads the file at `path` into a buffer from kb's allocator (*buf, *len
 * bytes; free it with file_free).  LORE_OK, LORE_ERR_IO (*missing, if not
 * NULL, tells a file that does not exist apart), LORE_ERR_NOMEM. */
int file_read(lore_kb *kb, const char *path, unsigned char **buf, size_t *len, int *missing);
/* Reads all of open file `fd` the same way (messages name `path`). */
int file_read_fd(lore_kb *kb, int fd, const char *path, unsigned char **buf, size_t *len);
void file_free(lore_kb *kb, unsigned char *buf, size_t len);

/* write(2) and pwrite(2) until every byte is written: 0, or -1 with errno. */
int file_write_all(int fd, const void *p, size_t n);
int file_pwrite_all(int fd, const void *p, size_t n, uint64_t off);

/* A temporary file that replaces `path` when committed. */
typedef struct file_tmp {
    int fd;
    const char *path;
    char *tmp; /* its name, from kb's allocator */
    size_t tmpsize;
} file_tmp;

/* Creates `path`.tmp.PID.N exclusively, in the same directory (so the
 * rename is atomic), with the mode of the file it replaces if any.
 * LORE_OK, LORE_ERR_IO, LORE_ERR_NOMEM. */
int file_tmp_open(lore_kb *kb, const char *path, file_tmp *t);
/* fsyncs and closes the temporary file, renames it over `path` and fsyncs
 * the directory: after LORE_OK the new file survives a crash.  On failure
 * (LORE_ERR_IO) the temporary file is removed and `path` is untouched. */
int file_tmp_commit(lore_kb *kb, file_tmp *t);
/* Closes and removes the temporary file (after a failure). */
void file_tmp_abort(lore_kb *kb, file_tmp *t);

/* fsyncs the directory that holds `path` (so that a new or renamed entry
 * survives a crash).  0, or -1 with errno. */
int file_sync_dir(const char *path);

/* The generation in the header of the file at path, as snapshots and
 * journals lay it out (an 8-byte magic, the generation at byte 16, a
 * CRC-32C of bytes 0-27 at byte 28, `hsize` bytes in all); 0 when the
 * file is absent, short, of another kind or damaged. */
uint64_t file_generation(const char *path, const char magic[8], size_t hsize);

#endif
