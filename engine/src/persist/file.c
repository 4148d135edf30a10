/* file.c - reading whole files and replacing files atomically. */
#include "file.h"

#include "bytes.h"
#include "crc32c.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int io_fail(lore_kb *kb, const char *path, const char *what, int err)
{
    if (what)
        return ctx_fail(&kb->ctx, LORE_ERR_IO, "%s: %s: %s", path, what, strerror(err));
    return ctx_fail(&kb->ctx, LORE_ERR_IO, "%s: %s", path, strerror(err));
}

int file_read_fd(lore_kb *kb, int fd, const char *path, unsigned char **buf, size_t *len)
{
    *buf = NULL, *len = 0;
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return io_fail(kb, path, "cannot read", errno);
    if (!S_ISREG(sb.st_mode))
        return ctx_fail(&kb->ctx, LORE_ERR_IO, "%s: not a regular file", path);
    if ((uint64_t)sb.st_size > SIZE_MAX - 1)
        return ctx_fail(&kb->ctx, LORE_ERR_IO, "%s: too large", path);
    size_t size = (size_t)sb.st_size;
    unsigned char *p = mem_alloc(&kb->m, size + 1, 1);
    if (!p)
        return ctx_nomem(&kb->ctx);
    size_t n = 0;
    while (n < size) {
        ssize_t r = pread(fd, p + n, size - n, (off_t)n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int err = errno;
            mem_free(&kb->m, p, size + 1, 1);
            return io_fail(kb, path, "cannot read", err);
        }
        if (r == 0) { /* shrank meanwhile */
            mem_free(&kb->m, p, size + 1, 1);
            return ctx_fail(&kb->ctx, LORE_ERR_IO, "%s: changed while being read", path);
        }
        n += (size_t)r;
    }
    *buf = p, *len = n;
    return LORE_OK;
}

int file_read(lore_kb *kb, const char *path, unsigned char **buf, size_t *len, int *missing)
{
    *buf = NULL, *len = 0;
    if (missing)
        *missing = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (missing)
            *missing = errno == ENOENT;
        return io_fail(kb, path, NULL, errno);
    }
    int rc = file_read_fd(kb, fd, path, buf, len);
    close(fd);
    return rc;
}

void file_free(lore_kb *kb, unsigned char *buf, size_t len)
{
    mem_free(&kb->m, buf, len + 1, 1);
}

int file_write_all(int fd, const void *p, size_t n)
{
    const unsigned char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        c += w, n -= (size_t)w;
    }
    return 0;
}

int file_pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
    const unsigned char *c = p;
    while (n > 0) {
        ssize_t w = pwrite(fd, c, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        c += w, n -= (size_t)w, off += (uint64_t)w;
    }
    return 0;
}

int file_sync_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) {
        strcpy(dir, ".");
    } else {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        if (n >= sizeof dir) {
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int err = errno;
    close(fd);
    if (rc != 0 && err == EINVAL) /* a file system without directory sync */
        rc = 0;
    errno = err;
    return rc;
}

int file_tmp_open(lore_kb *kb, const char *path, file_tmp *t)
{
    t->fd = -1;
    t->path = path;
    t->tmpsize = strlen(path) + 48;
    t->tmp = mem_alloc(&kb->m, t->tmpsize, 1);
    if (!t->tmp)
        return ctx_nomem(&kb->ctx);
    struct stat sb;
    int have_mode = stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
    for (int attempt = 0; attempt < 100; attempt++) {
        snprintf(t->tmp, t->tmpsize, "%s.tmp.%ld.%d", path, (long)getpid(), attempt);
        t->fd = open(t->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (t->fd >= 0 || errno != EEXIST)
            break;
    }
    if (t->fd < 0) {
        int err = errno;
        mem_free(&kb->m, t->tmp, t->tmpsize, 1);
        t->tmp = NULL;
        return io_fail(kb, path, "cannot create a temporary file beside it", err);
    }
    if (have_mode)
        (void)fchmod(t->fd, sb.st_mode & 07777); /* best effort: keep the old file's mode */
    return LORE_OK;
}

void file_tmp_abort(lore_kb *kb, file_tmp *t)
{
    if (t->fd >= 0)
        close(t->fd);
    if (t->tmp) {
        unlink(t->tmp);
        mem_free(&kb->m, t->tmp, t->tmpsize, 1);
    }
    t->fd = -1;
    t->tmp = NULL;
}

int file_tmp_commit(lore_kb *kb, file_tmp *t)
{
    const char *what = NULL;
    if (fsync(t->fd) != 0)
        what = "cannot sync";
    else if (close(t->fd) != 0)
        what = "cannot close";
    if (!what)
        t->fd = -1;
    if (!what && rename(t->tmp, t->path) != 0)
        what = "cannot rename the temporary file over it";
    if (what) {
        int err = errno;
        file_tmp_abort(kb, t);
        return io_fail(kb, t->path, what, err);
    }
    mem_free(&kb->m, t->tmp, t->tmpsize, 1);
    t->tmp = NULL;
    /* the rename is done: the new file is in place even if this fails, but
     * it might not survive a crash, so say so */
    if (file_sync_dir(t->path) != 0)
        return io_fail(kb, t->path, "saved, but cannot sync its directory", errno);
    return LORE_OK;
}

uint64_t file_generation(const char *path, const char magic[8], size_t hsize)
{
    unsigned char h[256];
    if (hsize > sizeof h || hsize < 32)
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = pread(fd, h, hsize, 0);
    close(fd);
    if (n != (ssize_t)hsize || memcmp(h, magic, 8) != 0 || get_u32(h + 28) != crc32c(0, h, 28))
        return 0;
    return get_u64(h + 16);
}
