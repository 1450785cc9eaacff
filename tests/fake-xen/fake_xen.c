/*
 * fake_xen.c - a fake Xen hypervisor (and Linux privcmd driver) for tests,
 * loaded into a client process with LD_PRELOAD.
 *
 * Build:
 *     cc -shared -fPIC -O2 -Wall -Wextra -o libfakexen.so fake_xen.c -ldl
 * (or tests/fake-xen/build.sh OUTDIR, which runs exactly that).
 *
 * Use:
 *     LD_PRELOAD=/path/libfakexen.so FAKE_XEN_DUMP=some.dump \
 *         xencov-rs read out.bin
 *     LD_PRELOAD=/path/libfakexen.so FAKE_XEN_DUMP=some.dump \
 *         /usr/lib/xen-4.17/bin/xencov read out.bin
 *
 * The library interposes the libc entry points a Xen toolstack uses to reach
 * the hypervisor (open/openat and their 64-bit and fortified variants, close,
 * dup/dup2/dup3/fcntl, ioctl, mmap/mmap64/munmap, mlock/mlock2/munlock/
 * mlockall/munlockall, and the stat/access family) for the paths
 * /dev/xen/privcmd and /dev/xen/hypercall (and /proc/xen/privcmd, see
 * FAKE_XEN_PRIVCMD).  Everything else is passed to the
 * next definition (dlsym(RTLD_NEXT)), i.e. to the real libc.
 *
 * The fake devices are real file descriptors (opened on /dev/null), so close,
 * dup, fcntl and exec behave normally.  mmap of the /dev/xen/hypercall fd is
 * served with zeroed anonymous shared memory, as the kernel driver does.
 * The privcmd hypercall ioctl (IOCTL_PRIVCMD_HYPERCALL, 0x305000) is
 * emulated: __HYPERVISOR_sysctl (35) with XEN_SYSCTL_coverage_op (20) serves
 * a coverage dump; __HYPERVISOR_xen_version (17) answers XENVER_version and
 * XENVER_extraversion; every other hypercall fails with ENOSYS.
 *
 * Checks made on each sysctl, in Xen's order (xen/common/sysctl.c):
 *   1. the 136-byte struct xen_sysctl must be readable and, like every
 *      hypercall buffer, lie in hypercall-safe memory (see FAKE_XEN_MEMCHECK),
 *      else EFAULT;
 *   2. interface_version must equal FAKE_XEN_INTERFACE, else EACCES;
 *   3. the caller must be privileged (FAKE_XEN_PRIVILEGED), else EPERM, or
 *      EACCES under FAKE_XEN_FLASK=1;
 *   4. cmd must be 20 (the only sysctl this fake implements), else ENOSYS;
 *   5. coverage must be built in (FAKE_XEN_COVERAGE), else EOPNOTSUPP/ENOSYS;
 *   6. the coverage op itself (layout per FAKE_XEN_LAYOUT).
 * ioctl() returns what the hypercall returns; a negative Xen error becomes
 * -1 with errno set (Xen's and Linux's errno numbers agree on x86).
 *
 * Environment (read at each call unless noted):
 *   FAKE_XEN_DUMP=path        bytes served as the coverage dump; read afresh
 *                             at every coverage op.  Unset: an empty gcov
 *                             container (just the magic "XCOV").  Unreadable:
 *                             the op fails with EIO and a message on stderr.
 *   FAKE_XEN_DUMP_AFTER_RESET=path
 *                             served instead of FAKE_XEN_DUMP once a reset has
 *                             happened (in this process, or logged as a
 *                             "reset" line in FAKE_XEN_STATE by any process).
 *   FAKE_XEN_INTERFACE=0x15   the hypervisor's XEN_SYSCTL_INTERFACE_VERSION
 *                             (default 0x15 = Xen 4.17-4.20).
 *   FAKE_XEN_LAYOUT=new|legacy
 *                             coverage op layout: new = Xen 4.9+ (cmd u32 @+8,
 *                             size u32 @+12, buffer handle u64 @+16; cmds 0
 *                             get_size, 1 read, 2 reset); legacy = Xen 4.3-4.8
 *                             (cmd u32 @+8, pad, union @+16 of u32 total_size
 *                             / u64 raw_info handle; cmds 0 get_total_size,
 *                             1 read, 2 reset, 3 read_and_reset).
 *                             Default: legacy if FAKE_XEN_INTERFACE < 0x0f,
 *                             else new.
 *   FAKE_XEN_PRIVILEGED=0     not the control domain: every sysctl -> EPERM.
 *   FAKE_XEN_FLASK=1          with PRIVILEGED=0: the denial is a FLASK (XSM)
 *                             one -> EACCES instead of EPERM.
 *   FAKE_XEN_COVERAGE=0       coverage not compiled in: the coverage op fails
 *                             with FAKE_XEN_COVERAGE_ERRNO (EOPNOTSUPP or
 *                             ENOSYS; default EOPNOTSUPP when the interface is
 *                             >= 0x11 (Xen 4.11+), else ENOSYS).
 *   FAKE_XEN_CLANG=1          behave like a clang (LLVM profile) build: a read
 *                             into a too small buffer fails with ENOMEM (not
 *                             ENOBUFS); a successful read zero-fills the rest
 *                             of the buffer and leaves size unchanged.
 *   FAKE_XEN_GROW=N|record    after each get-size call (either layout) the
 *                             served dump grows: by N bytes (a copy of its
 *                             last N bytes), or with "record" by a copy of
 *                             its last gcov record (so it stays a valid
 *                             container; for a legacy dump, a copy of its
 *                             last unit before the END tag).  Growth is
 *                             per process.
 *   FAKE_XEN_GROW_TIMES=K     only the first K get-size calls grow it.
 *   FAKE_XEN_EINTR=K, FAKE_XEN_EAGAIN=K
 *                             the first K IOCTL_PRIVCMD_HYPERCALL ioctls of the
 *                             process fail with EINTR (then K more with
 *                             EAGAIN) before doing anything (read once).
 *   FAKE_XEN_ABSENT=1         not running on Xen: nothing under /dev/xen or
 *                             /proc/xen exists (ENOENT).
 *   FAKE_XEN_PRIVCMD=xenfs    dom0 with xenfs mounted on /proc/xen but no
 *                             device nodes: /dev/xen does not exist
 *                             (ENOENT), /proc/xen/privcmd is the privcmd
 *                             device, and hypercall buffers must be locked
 *                             memory.  Default: the /dev/xen nodes.
 *   FAKE_XEN_NO_HYPERCALL_DEV=1
 *                             /dev/xen/hypercall does not exist (ENOENT);
 *                             clients must use locked anonymous memory.
 *   FAKE_XEN_OPEN_ERRNO=EACCES
 *                             opening /dev/xen/privcmd fails with this errno
 *                             (e.g. EACCES: not root).
 *   FAKE_XEN_MEMCHECK=strict|any|off
 *                             where hypercall buffers (the sysctl struct, the
 *                             data buffer) must lie.  strict (default): in
 *                             memory mmap'ed from /dev/xen/hypercall when that
 *                             device exists, else in locked memory (mlock,
 *                             mlock2, mlockall or mmap MAP_LOCKED).  any:
 *                             either kind.  off: anywhere readable/writable.
 *                             A violation fails with EFAULT.
 *   FAKE_XEN_HYPERCALL_PAGE_LIMIT=P
 *                             like older kernels' privcmd-buf "limit" module
 *                             parameter (64 there): at most P pages mapped
 *                             per open /dev/xen/hypercall file, else mmap
 *                             fails with ENOMEM.  Default 0 = no limit.
 *   FAKE_XEN_VERSION=4.17     what XENVER_version answers (default: derived
 *                             from FAKE_XEN_INTERFACE).
 *   FAKE_XEN_STATE=path       append one line per hypercall, e.g.
 *                               sysctl cmd=20 iv=0x15 op=get_size size=0 -> 0 size=1234
 *                               sysctl cmd=20 iv=0x15 op=read size=1234 -> 0 size=1234 wrote=1234
 *                               sysctl cmd=20 iv=0x15 op=reset size=0 -> 0 size=0
 *                               reset
 *                               sysctl cmd=20 iv=0x14 op=get_size size=0 -> -EACCES
 *                               ioctl hypercall -> EINTR (injected)
 *                             and a line "reset" after each successful reset.
 *   FAKE_XEN_LAST_READ=path   each successful read also writes the bytes it
 *                             delivered to this file (for comparisons).
 *   FAKE_XEN_TRACE=1          trace every intercepted call on stderr.
 *
 * Not emulated: privcmd foreign mappings (mmap of the privcmd fd fails as on
 * /dev/null; MMAP/MMAPBATCH ioctls fail with EINVAL), dm_op with buffers
 * (ENOSYS), mremap of tracked regions, /sys/hypervisor (xencov-rs reads it
 * from $XENCOV_RS_TEST_SYSROOT in tests).
 *
 * Everything here is written from the documented ABI (see
 * formats/xen-sysctl.md); no Xen code is used.
 */

#undef _FORTIFY_SOURCE
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

/* ------------------------------------------------------------------ */
/* ABI constants                                                        */

/* _IOC(_IOC_NONE, 'P', nr, size) */
#define PRIVCMD_IOC(nr, size) ((unsigned)(((size) << 16) | ('P' << 8) | (nr)))
#define IOCTL_PRIVCMD_HYPERCALL     PRIVCMD_IOC(0, 48)
#define IOCTL_PRIVCMD_MMAP          PRIVCMD_IOC(2, 16)
#define IOCTL_PRIVCMD_MMAPBATCH     PRIVCMD_IOC(3, 24)
#define IOCTL_PRIVCMD_MMAPBATCH_V2  PRIVCMD_IOC(4, 32)
#define IOCTL_PRIVCMD_DM_OP         PRIVCMD_IOC(5, 16)
#define IOCTL_PRIVCMD_RESTRICT      PRIVCMD_IOC(6, 2)
#define IOCTL_PRIVCMD_MMAP_RESOURCE PRIVCMD_IOC(7, 32)

#define HYPERVISOR_xen_version 17
#define HYPERVISOR_sysctl      35

#define SYSCTL_SIZE            136
#define SYSCTL_coverage_op     20
#define DOMID_INVALID          0x7ff4

#define XCOV_MAGIC             0x58434f56u

#define PATH_PRIVCMD   "/dev/xen/privcmd"
#define PATH_HYPERCALL "/dev/xen/hypercall"
#define PATH_PRIVCMD_XENFS "/proc/xen/privcmd"

/* ------------------------------------------------------------------ */
/* real functions                                                       */

static void *next_sym(const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);
    if (!p)
        p = dlvsym(RTLD_NEXT, name, "GLIBC_2.2.5");
    return p;
}

#define REAL(ret, name, args)                                   \
    static ret (*real_##name) args;                             \
    static ret (*get_##name(void)) args                         \
    {                                                           \
        if (!real_##name)                                       \
            real_##name = (ret (*) args)next_sym(#name);        \
        return real_##name;                                     \
    }

REAL(int, open, (const char *, int, ...))
REAL(int, open64, (const char *, int, ...))
REAL(int, openat, (int, const char *, int, ...))
REAL(int, openat64, (int, const char *, int, ...))
REAL(int, __open_2, (const char *, int))
REAL(int, __open64_2, (const char *, int))
REAL(int, __openat_2, (int, const char *, int))
REAL(int, __openat64_2, (int, const char *, int))
REAL(int, close, (int))
REAL(int, dup, (int))
REAL(int, dup2, (int, int))
REAL(int, dup3, (int, int, int))
REAL(int, fcntl, (int, int, ...))
REAL(int, fcntl64, (int, int, ...))
REAL(int, ioctl, (int, unsigned long, ...))
REAL(void *, mmap, (void *, size_t, int, int, int, off_t))
REAL(void *, mmap64, (void *, size_t, int, int, int, off64_t))
REAL(int, munmap, (void *, size_t))
REAL(int, mlock, (const void *, size_t))
REAL(int, mlock2, (const void *, size_t, unsigned int))
REAL(int, munlock, (const void *, size_t))
REAL(int, mlockall, (int))
REAL(int, munlockall, (void))
REAL(int, stat, (const char *, struct stat *))
REAL(int, stat64, (const char *, struct stat64 *))
REAL(int, lstat, (const char *, struct stat *))
REAL(int, lstat64, (const char *, struct stat64 *))
REAL(int, fstatat, (int, const char *, struct stat *, int))
REAL(int, fstatat64, (int, const char *, struct stat64 *, int))
REAL(int, statx, (int, const char *, int, unsigned int, struct statx *))
REAL(int, __xstat, (int, const char *, struct stat *))
REAL(int, __xstat64, (int, const char *, struct stat64 *))
REAL(int, __lxstat, (int, const char *, struct stat *))
REAL(int, __lxstat64, (int, const char *, struct stat64 *))
REAL(int, __fxstatat, (int, int, const char *, struct stat *, int))
REAL(int, __fxstatat64, (int, int, const char *, struct stat64 *, int))
REAL(int, access, (const char *, int))
REAL(int, faccessat, (int, const char *, int, int))
REAL(int, euidaccess, (const char *, int))
REAL(int, eaccess, (const char *, int))

/* A raw fallback for the few calls the library itself needs. */
static int sys_open(const char *path, int flags, mode_t mode)
{
    if (get_open())
        return real_open(path, flags, mode);
    return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

static int sys_close(int fd)
{
    if (get_close())
        return real_close(fd);
    return (int)syscall(SYS_close, fd);
}

static void *sys_mmap(void *a, size_t l, int p, int f, int fd, off_t o)
{
    if (get_mmap())
        return real_mmap(a, l, p, f, fd, o);
    return (void *)syscall(SYS_mmap, a, l, p, f, fd, o);
}

/* ------------------------------------------------------------------ */
/* environment helpers                                                  */

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return (v && *v) ? v : NULL;
}

static long env_long(const char *name, long dflt)
{
    const char *v = env(name);
    char *end;
    long r;

    if (!v)
        return dflt;
    errno = 0;
    r = strtol(v, &end, 0);
    if (errno || *end)
        return dflt;
    return r;
}

static int env_flag(const char *name, int dflt)
{
    const char *v = env(name);

    if (!v)
        return dflt;
    if (!strcmp(v, "0") || !strcasecmp(v, "no") || !strcasecmp(v, "false")
        || !strcasecmp(v, "off"))
        return 0;
    return 1;
}

static const struct {
    const char *name;
    int value;
} errno_names[] = {
    { "EPERM", EPERM },         { "ENOENT", ENOENT },
    { "EINTR", EINTR },         { "EIO", EIO },
    { "ENXIO", ENXIO },         { "EAGAIN", EAGAIN },
    { "ENOMEM", ENOMEM },       { "EACCES", EACCES },
    { "EFAULT", EFAULT },       { "EBUSY", EBUSY },
    { "ENODEV", ENODEV },       { "EINVAL", EINVAL },
    { "ENOTTY", ENOTTY },       { "ENOSPC", ENOSPC },
    { "ENOSYS", ENOSYS },       { "EOPNOTSUPP", EOPNOTSUPP },
    { "ENOBUFS", ENOBUFS },     { "E2BIG", E2BIG },
    { "ESRCH", ESRCH },         { "EEXIST", EEXIST },
};

static const char *errno_name(int e)
{
    static __thread char buf[24];
    size_t i;

    for (i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
        if (errno_names[i].value == e)
            return errno_names[i].name;
    snprintf(buf, sizeof(buf), "E%d", e);
    return buf;
}

static int parse_errno(const char *s, int dflt)
{
    size_t i;
    char *end;
    long v;

    if (!s)
        return dflt;
    for (i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
        if (!strcasecmp(errno_names[i].name, s))
            return errno_names[i].value;
    v = strtol(s, &end, 0);
    if (!*end && v > 0 && v < 4096)
        return (int)v;
    return dflt;
}

/* ------------------------------------------------------------------ */
/* logging                                                              */

static void write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

static void trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void trace(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    int n, saved = errno;

    if (!env_flag("FAKE_XEN_TRACE", 0)) {
        errno = saved;
        return;
    }
    memcpy(buf, "fake-xen: ", 10);
    va_start(ap, fmt);
    n = vsnprintf(buf + 10, sizeof(buf) - 11, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n > sizeof(buf) - 12)
        n = (int)(sizeof(buf) - 12);
    buf[10 + n] = '\n';
    write_all(2, buf, (size_t)(11 + n));
    errno = saved;
}

static void state_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void state_log(const char *fmt, ...)
{
    const char *path = env("FAKE_XEN_STATE");
    char buf[512];
    va_list ap;
    int n, fd, saved = errno;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n > sizeof(buf) - 2)
        n = (int)(sizeof(buf) - 2);
    buf[n++] = '\n';
    trace("state: %.*s", n - 1, buf);
    if (path) {
        fd = sys_open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) {
            write_all(fd, buf, (size_t)n);
            sys_close(fd);
        }
    }
    errno = saved;
}

/* ------------------------------------------------------------------ */
/* fake device file table                                               */

enum dev_kind { DEV_NONE = 0, DEV_PRIVCMD, DEV_HYPERCALL };

struct ofile {                  /* one open file description */
    enum dev_kind kind;
    int refs;                   /* fds pointing here */
    unsigned restrict_domid;    /* privcmd: IOCTL_PRIVCMD_RESTRICT */
    unsigned long pages;        /* hypercall: pages currently mapped */
    int accmode;                /* O_RDONLY / O_WRONLY / O_RDWR */
    unsigned long id;
};

#define MAX_FD 16384
static struct ofile *fd_table[MAX_FD];
static pthread_mutex_t lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static unsigned long next_ofile_id = 1;

static void lk(void) { pthread_mutex_lock(&lock); }
static void ulk(void) { pthread_mutex_unlock(&lock); }

static struct ofile *fd_get(int fd)
{
    struct ofile *o;

    if (fd < 0 || fd >= MAX_FD)
        return NULL;
    lk();
    o = fd_table[fd];
    ulk();
    return o;
}

static void ofile_put(struct ofile *o)
{
    /* called with lock held; the description may still own mappings */
    if (o && --o->refs == 0 && o->pages == 0)
        free(o);
}

static void fd_clear(int fd)
{
    if (fd < 0 || fd >= MAX_FD)
        return;
    lk();
    if (fd_table[fd]) {
        ofile_put(fd_table[fd]);
        fd_table[fd] = NULL;
    }
    ulk();
}

static void fd_share(int oldfd, int newfd)
{
    if (newfd < 0 || newfd >= MAX_FD)
        return;
    lk();
    if (fd_table[newfd]) {
        ofile_put(fd_table[newfd]);
        fd_table[newfd] = NULL;
    }
    if (oldfd >= 0 && oldfd < MAX_FD && fd_table[oldfd]) {
        fd_table[newfd] = fd_table[oldfd];
        fd_table[newfd]->refs++;
    }
    ulk();
}

/* ------------------------------------------------------------------ */
/* memory regions: hypercall-device mappings and locked memory          */

enum region_kind { REG_DEV = 1, REG_LOCKED = 2 };

struct region {
    uintptr_t start, end;
    int kind;
    struct ofile *owner;        /* REG_DEV: the /dev/xen/hypercall file */
};

static struct region *regions;
static size_t n_regions, cap_regions;
static int lockall_active;

static size_t page_size(void)
{
    static size_t ps;
    if (!ps) {
        long v = sysconf(_SC_PAGESIZE);
        ps = v > 0 ? (size_t)v : 4096;
    }
    return ps;
}

static void region_append(uintptr_t s, uintptr_t e, int kind, struct ofile *o)
{
    if (s >= e)
        return;
    if (n_regions == cap_regions) {
        size_t ncap = cap_regions ? cap_regions * 2 : 64;
        struct region *n = realloc(regions, ncap * sizeof(*n));
        if (!n)
            return;
        regions = n;
        cap_regions = ncap;
    }
    regions[n_regions].start = s;
    regions[n_regions].end = e;
    regions[n_regions].kind = kind;
    regions[n_regions].owner = o;
    n_regions++;
}

/* Remove [s, e) from every region whose kind is in mask.  Lock held. */
static void region_remove(uintptr_t s, uintptr_t e, int mask)
{
    size_t i = 0, ps = page_size();

    while (i < n_regions) {
        struct region *r = &regions[i];
        uintptr_t rs = r->start, re = r->end;
        int kind = r->kind;
        struct ofile *o = r->owner;

        if (!(kind & mask) || re <= s || rs >= e) {
            i++;
            continue;
        }
        /* drop r, re-add the parts outside [s, e) */
        if (kind == REG_DEV && o) {
            uintptr_t cs = rs > s ? rs : s, ce = re < e ? re : e;
            unsigned long np = (unsigned long)((ce - cs) / ps);
            o->pages = o->pages > np ? o->pages - np : 0;
        }
        regions[i] = regions[--n_regions];
        if (rs < s)
            region_append(rs, s, kind, o);
        if (re > e)
            region_append(e, re, kind, o);
        if (kind == REG_DEV && o && o->pages == 0 && o->refs == 0) {
            size_t j;
            int still = 0;
            for (j = 0; j < n_regions; j++)
                if (regions[j].owner == o)
                    still = 1;
            if (!still)
                free(o);
        }
        /* do not advance: slot i now holds another region */
    }
}

static uintptr_t page_down(uintptr_t a) { return a & ~(uintptr_t)(page_size() - 1); }
static uintptr_t page_up(uintptr_t a)
{
    return (a + page_size() - 1) & ~(uintptr_t)(page_size() - 1);
}

/* Is [s, s+len) entirely covered by regions of a kind in mask? */
static int region_covered(uintptr_t s, size_t len, int mask)
{
    uintptr_t pos = s, end = s + len;
    int ok = 1;

    if (len == 0)
        return 1;
    if (end < s)
        return 0;
    lk();
    if ((mask & REG_LOCKED) && lockall_active) {
        ulk();
        return 1;
    }
    while (pos < end) {
        size_t i;
        int found = 0;
        for (i = 0; i < n_regions; i++) {
            if ((regions[i].kind & mask) && regions[i].start <= pos
                && pos < regions[i].end) {
                pos = regions[i].end;
                found = 1;
                break;
            }
        }
        if (!found) {
            ok = 0;
            break;
        }
    }
    ulk();
    return ok;
}

/* ------------------------------------------------------------------ */
/* paths                                                                */

enum path_class { P_OTHER, P_PRIVCMD, P_HYPERCALL, P_XENDIR, P_FAIL };

/*
 * Classify a path; for P_FAIL, *err is the errno to fail with.  Relative
 * paths are never ours (clients use the absolute device paths).
 */
/* FAKE_XEN_PRIVCMD=xenfs: no /dev/xen nodes, only /proc/xen/privcmd */
static int xenfs_only(void)
{
    const char *w = env("FAKE_XEN_PRIVCMD");
    return w && !strcmp(w, "xenfs");
}

static enum path_class classify(const char *path, int *err)
{
    int absent;

    if (!path || path[0] != '/')
        return P_OTHER;
    if (strncmp(path, "/dev/xen", 8) && strncmp(path, "/proc/xen", 9))
        return P_OTHER;
    absent = env_flag("FAKE_XEN_ABSENT", 0) || xenfs_only();
    *err = ENOENT;
    if (!strcmp(path, "/dev/xen") || !strcmp(path, "/dev/xen/"))
        return absent ? P_FAIL : P_XENDIR;
    if (!strncmp(path, "/proc/xen", 9)
        && (path[9] == 0 || path[9] == '/')) {
        /* the xenfs interface: only its privcmd file, and only on request */
        if (xenfs_only() && !env_flag("FAKE_XEN_ABSENT", 0)
            && !strcmp(path, PATH_PRIVCMD_XENFS)) {
            return P_PRIVCMD;
        }
        return P_FAIL;
    }
    if (strncmp(path, "/dev/xen/", 9))
        return P_OTHER;         /* e.g. /dev/xenfoo */
    if (absent)
        return P_FAIL;
    if (!strcmp(path, PATH_PRIVCMD))
        return P_PRIVCMD;
    if (!strcmp(path, PATH_HYPERCALL))
        return env_flag("FAKE_XEN_NO_HYPERCALL_DEV", 0) ? P_FAIL : P_HYPERCALL;
    return P_FAIL;              /* evtchn, gntdev, xenbus, ...: not emulated */
}

/* Path to hand the real stat/access functions instead. */
static const char *substitute(const char *path, int *err)
{
    switch (classify(path, err)) {
    case P_PRIVCMD:
    case P_HYPERCALL:
        return "/dev/null";
    case P_XENDIR:
        return "/dev";
    case P_FAIL:
        return NULL;
    default:
        return path;
    }
}

static int hypercall_dev_present(void)
{
    return !env_flag("FAKE_XEN_ABSENT", 0) && !xenfs_only()
        && !env_flag("FAKE_XEN_NO_HYPERCALL_DEV", 0);
}

/* ------------------------------------------------------------------ */
/* open                                                                 */

static int fake_open(const char *path, int flags, int *handled)
{
    enum path_class c;
    int err = ENOENT, fd, oerr;
    struct ofile *o;

    c = classify(path, &err);
    *handled = 1;
    switch (c) {
    case P_FAIL:
        trace("open(%s) -> %s", path, errno_name(err));
        errno = err;
        return -1;
    case P_PRIVCMD:
        oerr = parse_errno(env("FAKE_XEN_OPEN_ERRNO"), 0);
        if (oerr) {
            trace("open(%s) -> %s (FAKE_XEN_OPEN_ERRNO)", path, errno_name(oerr));
            errno = oerr;
            return -1;
        }
        /* fall through */
    case P_HYPERCALL:
        if (flags & (O_CREAT | O_DIRECTORY)) {
            if (flags & O_DIRECTORY) {
                errno = ENOTDIR;
                return -1;
            }
            if (flags & O_EXCL) {
                errno = EEXIST;
                return -1;
            }
        }
        fd = sys_open("/dev/null",
                      flags & (O_ACCMODE | O_CLOEXEC | O_NONBLOCK | O_NOCTTY), 0);
        if (fd < 0)
            return -1;
        if (fd >= MAX_FD) {
            sys_close(fd);
            errno = EMFILE;
            return -1;
        }
        o = calloc(1, sizeof(*o));
        if (!o) {
            sys_close(fd);
            errno = ENOMEM;
            return -1;
        }
        o->kind = c == P_PRIVCMD ? DEV_PRIVCMD : DEV_HYPERCALL;
        o->refs = 1;
        o->restrict_domid = DOMID_INVALID;
        o->accmode = flags & O_ACCMODE;
        lk();
        o->id = next_ofile_id++;
        if (fd_table[fd])
            ofile_put(fd_table[fd]);
        fd_table[fd] = o;
        ulk();
        trace("open(%s, 0x%x) -> fd %d", path, flags, fd);
        return fd;
    case P_XENDIR:
    case P_OTHER:
    default:
        *handled = 0;
        return -1;
    }
}

static mode_t open_mode(int flags, va_list ap)
{
    if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
        return (mode_t)va_arg(ap, int);
    return 0;
}

static int is_xendir(const char *path)
{
    return path && (!strcmp(path, "/dev/xen") || !strcmp(path, "/dev/xen/"));
}

static int xendir_open(int flags, mode_t mode)
{
    return get_open() ? real_open("/dev", flags, mode) : -1;
}

EXPORT int open(const char *path, int flags, ...)
{
    va_list ap;
    mode_t mode;
    int handled, r;

    va_start(ap, flags);
    mode = open_mode(flags, ap);
    va_end(ap);
    r = fake_open(path, flags, &handled);
    if (handled)
        return r;
    if (is_xendir(path))
        return xendir_open(flags, mode);
    if (!get_open()) {
        errno = ENOSYS;
        return -1;
    }
    return real_open(path, flags, mode);
}

EXPORT int open64(const char *path, int flags, ...)
{
    va_list ap;
    mode_t mode;
    int handled, r;

    va_start(ap, flags);
    mode = open_mode(flags, ap);
    va_end(ap);
    r = fake_open(path, flags, &handled);
    if (handled)
        return r;
    if (is_xendir(path))
        return xendir_open(flags, mode);
    if (get_open64())
        return real_open64(path, flags, mode);
    return open(path, flags, mode);
}

EXPORT int __open_2(const char *path, int flags)
{
    int handled, r = fake_open(path, flags, &handled);
    if (handled)
        return r;
    if (get___open_2())
        return real___open_2(path, flags);
    return open(path, flags);
}

EXPORT int __open64_2(const char *path, int flags)
{
    int handled, r = fake_open(path, flags, &handled);
    if (handled)
        return r;
    if (get___open64_2())
        return real___open64_2(path, flags);
    return open(path, flags);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    mode_t mode;
    int handled, r;

    va_start(ap, flags);
    mode = open_mode(flags, ap);
    va_end(ap);
    r = fake_open(path, flags, &handled);
    if (handled)
        return r;
    if (is_xendir(path))
        return xendir_open(flags, mode);
    if (!get_openat()) {
        errno = ENOSYS;
        return -1;
    }
    return real_openat(dirfd, path, flags, mode);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    mode_t mode;
    int handled, r;

    va_start(ap, flags);
    mode = open_mode(flags, ap);
    va_end(ap);
    r = fake_open(path, flags, &handled);
    if (handled)
        return r;
    if (is_xendir(path))
        return xendir_open(flags, mode);
    if (get_openat64())
        return real_openat64(dirfd, path, flags, mode);
    return openat(dirfd, path, flags, mode);
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
    int handled, r = fake_open(path, flags, &handled);
    if (handled)
        return r;
    if (get___openat_2())
        return real___openat_2(dirfd, path, flags);
    return openat(dirfd, path, flags);
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
    int handled, r = fake_open(path, flags, &handled);
    if (handled)
        return r;
    if (get___openat64_2())
        return real___openat64_2(dirfd, path, flags);
    return openat(dirfd, path, flags);
}

/* ------------------------------------------------------------------ */
/* close / dup / fcntl                                                  */

EXPORT int close(int fd)
{
    struct ofile *o = fd_get(fd);
    int r, saved;

    if (!o)
        return sys_close(fd);
    /* forget the fd first: once closed, its number may be reused at once */
    fd_clear(fd);
    r = sys_close(fd);
    saved = errno;
    trace("close(fd %d) -> %d", fd, r);
    errno = saved;
    return r;
}

EXPORT int dup(int fd)
{
    int r;

    if (!get_dup())
        return (int)syscall(SYS_dup, fd);
    r = real_dup(fd);
    if (r >= 0 && fd_get(fd)) {
        fd_share(fd, r);
        trace("dup(fd %d) -> %d", fd, r);
    }
    return r;
}

EXPORT int dup2(int oldfd, int newfd)
{
    int r = get_dup2() ? real_dup2(oldfd, newfd)
                       : (int)syscall(SYS_dup2, oldfd, newfd);
    if (r >= 0 && oldfd != newfd && (fd_get(oldfd) || fd_get(newfd)))
        fd_share(oldfd, newfd);
    return r;
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
    int r = get_dup3() ? real_dup3(oldfd, newfd, flags)
                       : (int)syscall(SYS_dup3, oldfd, newfd, flags);
    if (r >= 0 && (fd_get(oldfd) || fd_get(newfd)))
        fd_share(oldfd, newfd);
    return r;
}

static int fcntl_common(int (*fn)(int, int, ...), int fd, int cmd, void *arg)
{
    int r;

    if (!fn)
        r = (int)syscall(SYS_fcntl, fd, cmd, arg);
    else
        r = fn(fd, cmd, arg);
    if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && fd_get(fd))
        fd_share(fd, r);
    return r;
}

EXPORT int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    void *arg;

    va_start(ap, cmd);
    arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_common(get_fcntl(), fd, cmd, arg);
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    void *arg;

    va_start(ap, cmd);
    arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_common(get_fcntl64() ? get_fcntl64() : get_fcntl(), fd, cmd, arg);
}

/* ------------------------------------------------------------------ */
/* stat / access family                                                 */

#define PATH_WRAP(call_real)                    \
    do {                                        \
        int err_ = ENOENT;                      \
        const char *p_ = substitute(path, &err_); \
        if (!p_) {                              \
            errno = err_;                       \
            return -1;                          \
        }                                       \
        path = p_;                              \
        return call_real;                       \
    } while (0)

#define NOSYS_IF_NULL(fn)                       \
    do {                                        \
        if (!get_##fn()) {                      \
            errno = ENOSYS;                     \
            return -1;                          \
        }                                       \
    } while (0)

EXPORT int stat(const char *path, struct stat *st)
{
    NOSYS_IF_NULL(stat);
    PATH_WRAP(real_stat(path, st));
}

EXPORT int stat64(const char *path, struct stat64 *st)
{
    NOSYS_IF_NULL(stat64);
    PATH_WRAP(real_stat64(path, st));
}

EXPORT int lstat(const char *path, struct stat *st)
{
    NOSYS_IF_NULL(lstat);
    PATH_WRAP(real_lstat(path, st));
}

EXPORT int lstat64(const char *path, struct stat64 *st)
{
    NOSYS_IF_NULL(lstat64);
    PATH_WRAP(real_lstat64(path, st));
}

EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    NOSYS_IF_NULL(fstatat);
    PATH_WRAP(real_fstatat(dirfd, path, st, flags));
}

EXPORT int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
    NOSYS_IF_NULL(fstatat64);
    PATH_WRAP(real_fstatat64(dirfd, path, st, flags));
}

EXPORT int statx(int dirfd, const char *path, int flags, unsigned int mask,
                 struct statx *stx)
{
    if (!get_statx()) {
        int err_ = ENOENT;
        const char *p_ = substitute(path, &err_);
        if (!p_) {
            errno = err_;
            return -1;
        }
        return (int)syscall(SYS_statx, dirfd, p_, flags, mask, stx);
    }
    PATH_WRAP(real_statx(dirfd, path, flags, mask, stx));
}

int __xstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags);

EXPORT int __xstat(int ver, const char *path, struct stat *st)
{
    NOSYS_IF_NULL(__xstat);
    PATH_WRAP(real___xstat(ver, path, st));
}

EXPORT int __xstat64(int ver, const char *path, struct stat64 *st)
{
    NOSYS_IF_NULL(__xstat64);
    PATH_WRAP(real___xstat64(ver, path, st));
}

EXPORT int __lxstat(int ver, const char *path, struct stat *st)
{
    NOSYS_IF_NULL(__lxstat);
    PATH_WRAP(real___lxstat(ver, path, st));
}

EXPORT int __lxstat64(int ver, const char *path, struct stat64 *st)
{
    NOSYS_IF_NULL(__lxstat64);
    PATH_WRAP(real___lxstat64(ver, path, st));
}

EXPORT int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
    NOSYS_IF_NULL(__fxstatat);
    PATH_WRAP(real___fxstatat(ver, dirfd, path, st, flags));
}

EXPORT int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st,
                        int flags)
{
    NOSYS_IF_NULL(__fxstatat64);
    PATH_WRAP(real___fxstatat64(ver, dirfd, path, st, flags));
}

EXPORT int access(const char *path, int mode)
{
    NOSYS_IF_NULL(access);
    PATH_WRAP(real_access(path, mode));
}

EXPORT int faccessat(int dirfd, const char *path, int mode, int flags)
{
    NOSYS_IF_NULL(faccessat);
    PATH_WRAP(real_faccessat(dirfd, path, mode, flags));
}

EXPORT int euidaccess(const char *path, int mode)
{
    NOSYS_IF_NULL(euidaccess);
    PATH_WRAP(real_euidaccess(path, mode));
}

EXPORT int eaccess(const char *path, int mode)
{
    NOSYS_IF_NULL(eaccess);
    PATH_WRAP(real_eaccess(path, mode));
}

/* ------------------------------------------------------------------ */
/* mmap / munmap / mlock                                                */

static void *do_mmap(void *addr, size_t len, int prot, int flags, int fd,
                     off_t off, int is64)
{
    struct ofile *o = fd_get(fd);
    void *p;

    if (o && !(flags & MAP_ANONYMOUS)) {
        if (o->kind == DEV_HYPERCALL) {
            long limit = env_long("FAKE_XEN_HYPERCALL_PAGE_LIMIT", 0);
            unsigned long np = (unsigned long)(page_up(len) / page_size());

            if ((flags & MAP_TYPE) != MAP_SHARED
                && (flags & MAP_TYPE) != MAP_SHARED_VALIDATE) {
                trace("mmap(hypercall fd %d, %zu) -> EINVAL (not MAP_SHARED)",
                      fd, len);
                errno = EINVAL;
                return MAP_FAILED;
            }
            if (len == 0) {
                errno = EINVAL;
                return MAP_FAILED;
            }
            if (((prot & PROT_WRITE) && o->accmode == O_RDONLY)
                || o->accmode == O_WRONLY) {
                errno = EACCES;         /* as for any shared file mapping */
                return MAP_FAILED;
            }
            lk();
            if (limit > 0 && o->pages + np > (unsigned long)limit) {
                ulk();
                trace("mmap(hypercall fd %d, %zu) -> ENOMEM (page limit %ld)",
                      fd, len, limit);
                errno = ENOMEM;
                return MAP_FAILED;
            }
            p = sys_mmap(addr, len, prot,
                         (flags & ~(MAP_TYPE | MAP_LOCKED | MAP_POPULATE))
                             | MAP_SHARED | MAP_ANONYMOUS,
                         -1, 0);
            if (p != MAP_FAILED) {
                region_remove((uintptr_t)p, (uintptr_t)p + page_up(len),
                              REG_DEV | REG_LOCKED);
                region_append((uintptr_t)p, (uintptr_t)p + page_up(len),
                              REG_DEV, o);
                o->pages += np;
            }
            ulk();
            trace("mmap(hypercall fd %d, %zu) -> %p", fd, len, p);
            return p;
        }
        /* privcmd: foreign mappings are not emulated; behave as /dev/null */
        trace("mmap(privcmd fd %d) passed to /dev/null", fd);
    }

    if (is64 && get_mmap64())
        p = real_mmap64(addr, len, prot, flags, fd, off);
    else
        p = sys_mmap(addr, len, prot, flags, fd, off);
    if (p != MAP_FAILED) {
        uintptr_t s = (uintptr_t)p, e = s + page_up(len);
        lk();
        if (n_regions)
            region_remove(s, e, REG_DEV | REG_LOCKED);
        if (flags & MAP_LOCKED)
            region_append(s, e, REG_LOCKED, NULL);
        ulk();
        if (flags & MAP_LOCKED)
            trace("mmap(MAP_LOCKED, %zu) -> %p", len, p);
    }
    return p;
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return do_mmap(addr, len, prot, flags, fd, off, 0);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
    return do_mmap(addr, len, prot, flags, fd, (off_t)off, 1);
}

EXPORT int munmap(void *addr, size_t len)
{
    int r = get_munmap() ? real_munmap(addr, len)
                         : (int)syscall(SYS_munmap, addr, len);
    if (r == 0) {
        lk();
        if (n_regions)
            region_remove(page_down((uintptr_t)addr),
                          page_up((uintptr_t)addr + len), REG_DEV | REG_LOCKED);
        ulk();
    }
    return r;
}

static void note_locked(const void *addr, size_t len)
{
    lk();
    region_remove(page_down((uintptr_t)addr), page_up((uintptr_t)addr + len),
                  REG_LOCKED);
    region_append(page_down((uintptr_t)addr), page_up((uintptr_t)addr + len),
                  REG_LOCKED, NULL);
    ulk();
    trace("mlock(%p, %zu)", addr, len);
}

EXPORT int mlock(const void *addr, size_t len)
{
    int r = get_mlock() ? real_mlock(addr, len)
                        : (int)syscall(SYS_mlock, addr, len);
    if (r == 0)
        note_locked(addr, len);
    return r;
}

EXPORT int mlock2(const void *addr, size_t len, unsigned int flags)
{
    int r = get_mlock2() ? real_mlock2(addr, len, flags)
                         : (int)syscall(SYS_mlock2, addr, len, flags);
    if (r == 0)
        note_locked(addr, len);
    return r;
}

EXPORT int munlock(const void *addr, size_t len)
{
    int r = get_munlock() ? real_munlock(addr, len)
                          : (int)syscall(SYS_munlock, addr, len);
    if (r == 0) {
        lk();
        region_remove(page_down((uintptr_t)addr),
                      page_up((uintptr_t)addr + len), REG_LOCKED);
        ulk();
    }
    return r;
}

EXPORT int mlockall(int flags)
{
    int r = get_mlockall() ? real_mlockall(flags)
                           : (int)syscall(SYS_mlockall, flags);
    if (r == 0) {
        lk();
        lockall_active = 1;
        ulk();
        trace("mlockall(0x%x)", flags);
    }
    return r;
}

EXPORT int munlockall(void)
{
    int r = get_munlockall() ? real_munlockall()
                             : (int)syscall(SYS_munlockall);
    if (r == 0) {
        lk();
        lockall_active = 0;
        region_remove(0, UINTPTR_MAX, REG_LOCKED);
        ulk();
    }
    return r;
}

/* ------------------------------------------------------------------ */
/* guest memory access (copy_from_guest / copy_to_guest)                */

static int safe_mask(void)
{
    const char *m = env("FAKE_XEN_MEMCHECK");

    if (m && !strcmp(m, "off"))
        return 0;
    if (m && !strcmp(m, "any"))
        return REG_DEV | REG_LOCKED;
    return hypercall_dev_present() ? REG_DEV : REG_LOCKED;
}

static int range_safe(uint64_t addr, size_t len)
{
    int mask = safe_mask();

    if (!mask || len == 0)
        return 1;
    if (!region_covered((uintptr_t)addr, len, mask)) {
        trace("guest access %#llx+%zu: not in %s memory -> EFAULT",
              (unsigned long long)addr, len,
              mask == REG_DEV ? "/dev/xen/hypercall"
              : mask == REG_LOCKED ? "locked" : "hypercall-safe");
        return 0;
    }
    return 1;
}

/* 0 or -EFAULT; never crashes on a bad pointer. */
static int copy_from_guest(void *dst, uint64_t src, size_t len)
{
    struct iovec local = { dst, len }, remote = { (void *)(uintptr_t)src, len };
    ssize_t n;

    if (len == 0)
        return 0;
    if (!src || !range_safe(src, len))
        return -EFAULT;
    n = syscall(SYS_process_vm_readv, getpid(), &local, 1UL, &remote, 1UL, 0UL);
    if (n == (ssize_t)len)
        return 0;
    if (n < 0 && (errno == ENOSYS || errno == EPERM) && safe_mask()) {
        memcpy(dst, (void *)(uintptr_t)src, len);  /* tracked => mapped */
        return 0;
    }
    return -EFAULT;
}

static int copy_to_guest(uint64_t dst, const void *src, size_t len)
{
    struct iovec local = { (void *)src, len }, remote = { (void *)(uintptr_t)dst, len };
    ssize_t n;

    if (len == 0)
        return 0;
    if (!dst || !range_safe(dst, len))
        return -EFAULT;
    n = syscall(SYS_process_vm_writev, getpid(), &local, 1UL, &remote, 1UL, 0UL);
    if (n == (ssize_t)len)
        return 0;
    if (n < 0 && (errno == ENOSYS || errno == EPERM) && safe_mask()) {
        memcpy((void *)(uintptr_t)dst, src, len);
        return 0;
    }
    return -EFAULT;
}

static int clear_guest(uint64_t dst, size_t len)
{
    char zero[4096];
    size_t off = 0;

    memset(zero, 0, sizeof(zero));
    while (off < len) {
        size_t n = len - off < sizeof(zero) ? len - off : sizeof(zero);
        int r = copy_to_guest(dst + off, zero, n);
        if (r)
            return r;
        off += n;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* the served dump                                                      */

struct buf {
    unsigned char *p;
    size_t len;
};

static unsigned long grow_count;        /* get-size calls that grew it */
static int reset_done;                  /* a reset happened in this process */

static int reset_logged(void)
{
    const char *path = env("FAKE_XEN_STATE");
    char chunk[4096];
    int fd, found = 0, at_line_start = 1, match = 0;
    ssize_t n;

    if (reset_done)
        return 1;
    if (!path)
        return 0;
    fd = sys_open(path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    /* look for a line that is exactly "reset" */
    while (!found && (n = read(fd, chunk, sizeof(chunk))) > 0) {
        ssize_t i;
        for (i = 0; i < n && !found; i++) {
            char c = chunk[i];
            if (c == '\n') {
                if (match == 5)
                    found = 1;
                at_line_start = 1;
                match = 0;
                continue;
            }
            if (at_line_start || match > 0) {
                if (match >= 0 && match < 5 && c == "reset"[match])
                    match++;
                else
                    match = -1;
            }
            at_line_start = 0;
        }
    }
    sys_close(fd);
    return found;
}

static int read_file(const char *path, struct buf *b)
{
    int fd = sys_open(path, O_RDONLY | O_CLOEXEC, 0);
    size_t cap = 65536;
    ssize_t n;

    b->p = NULL;
    b->len = 0;
    if (fd < 0)
        return -1;
    b->p = malloc(cap);
    if (!b->p) {
        sys_close(fd);
        return -1;
    }
    for (;;) {
        if (b->len == cap) {
            unsigned char *np = realloc(b->p, cap * 2);
            if (!np) {
                free(b->p);
                b->p = NULL;
                sys_close(fd);
                return -1;
            }
            b->p = np;
            cap *= 2;
        }
        n = read(fd, b->p + b->len, cap - b->len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            free(b->p);
            b->p = NULL;
            sys_close(fd);
            return -1;
        }
        if (n == 0)
            break;
        b->len += (size_t)n;
    }
    sys_close(fd);
    return 0;
}

/* Offset of the last record of a gcov container, or -1. */
static long last_record(const struct buf *b)
{
    size_t off = 4, last = (size_t)-1;

    if (b->len < 4)
        return -1;
    while (off < b->len) {
        const unsigned char *nul = memchr(b->p + off, 0, b->len - off);
        uint32_t sz;
        size_t rec = off;

        if (!nul)
            return -1;
        off = (size_t)(nul - b->p) + 1;
        if (b->len - off < 4)
            return -1;
        memcpy(&sz, b->p + off, 4);
        off += 4;
        if (b->len - off < sz)
            return -1;
        off += sz;
        last = rec;
    }
    return last == (size_t)-1 ? -1 : (long)last;
}

/* Append n bytes found at offset src_off of the buffer itself. */
static int append_self(struct buf *b, size_t src_off, size_t n)
{
    unsigned char *np = realloc(b->p, b->len + n + 1);

    if (!np)
        return -1;
    b->p = np;
    memmove(b->p + b->len, b->p + src_off, n);
    b->len += n;
    return 0;
}

/*
 * Xen 4.3-4.8 legacy dump: tagged records, each on an 8-byte boundary,
 * ending with the END tag.  Grow it by a copy of its last unit (from its
 * last FILE tag up to END), inserted before END, so it stays valid.
 */
#define LEGACY_FILE 0x58544346u
#define LEGACY_END  0x5854432Eu

static int legacy_grow(struct buf *b)
{
    uint32_t tag;
    size_t off, last = (size_t)-1, end;
    unsigned char end_bytes[4], *np;

    if (b->len < 8 || b->len % 8 != 4)
        return -1;
    memcpy(&tag, b->p, 4);
    if (tag != LEGACY_FILE)
        return -1;
    end = b->len - 4;
    memcpy(&tag, b->p + end, 4);
    if (tag != LEGACY_END)
        return -1;
    for (off = 0; off < end; off += 8) {
        memcpy(&tag, b->p + off, 4);
        if (tag == LEGACY_FILE)
            last = off;
    }
    memcpy(end_bytes, b->p + end, 4);
    b->len = end;
    if (append_self(b, last, end - last))
        return -1;
    np = realloc(b->p, b->len + 4 + 1);
    if (!np)
        return -1;
    b->p = np;
    memcpy(b->p + b->len, end_bytes, 4);
    b->len += 4;
    return 0;
}

static void apply_growth(struct buf *b)
{
    const char *g = env("FAKE_XEN_GROW");
    unsigned long i;

    if (!g || grow_count == 0)
        return;
    if (!strcmp(g, "record")) {
        for (i = 0; i < grow_count; i++) {
            long last = last_record(b);
            if (last < 0) {
                if (legacy_grow(b) == 0)
                    continue;
                trace("FAKE_XEN_GROW=record: dump is neither a gcov container nor a legacy dump");
                return;
            }
            if (append_self(b, (size_t)last, b->len - (size_t)last))
                return;
        }
    } else {
        long n = env_long("FAKE_XEN_GROW", 0);
        for (i = 0; n > 0 && i < grow_count; i++) {
            /* a copy of the trailing n bytes (repeated if the dump is shorter) */
            size_t want = (size_t)n, base = b->len, done = 0;
            if (base == 0)
                break;
            while (done < want) {
                size_t chunk = want - done < base ? want - done : base;
                size_t src = base >= want ? base - want : 0;
                if (append_self(b, src, chunk))
                    return;
                done += chunk;
            }
        }
    }
}

/* 0 or -errno */
static int load_dump(struct buf *b)
{
    const char *path = env("FAKE_XEN_DUMP");
    const char *after = env("FAKE_XEN_DUMP_AFTER_RESET");

    if (after && reset_logged())
        path = after;
    if (!path) {
        uint32_t magic = XCOV_MAGIC;
        b->p = malloc(4);
        if (!b->p)
            return -ENOMEM;
        memcpy(b->p, &magic, 4);
        b->len = 4;
    } else if (read_file(path, b)) {
        char msg[512];
        int n = snprintf(msg, sizeof(msg),
                         "fake-xen: cannot read dump %s: %s\n", path,
                         strerror(errno));
        if (n > 0)
            write_all(2, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
        return -EIO;
    }
    apply_growth(b);
    if (b->len > UINT32_MAX) {
        free(b->p);
        return -E2BIG;
    }
    return 0;
}

static void after_get_size(void)
{
    long times = env_long("FAKE_XEN_GROW_TIMES", -1);

    if (!env("FAKE_XEN_GROW"))
        return;
    if (times >= 0 && grow_count >= (unsigned long)times)
        return;
    grow_count++;
}

static void save_last_read(const struct buf *b)
{
    const char *path = env("FAKE_XEN_LAST_READ");
    int fd;

    if (!path)
        return;
    fd = sys_open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    write_all(fd, (const char *)b->p, b->len);
    sys_close(fd);
}

static void do_reset(void)
{
    reset_done = 1;
    grow_count = 0;
}

/* ------------------------------------------------------------------ */
/* hypercalls                                                           */

static unsigned long interface_version(void)
{
    return (unsigned long)env_long("FAKE_XEN_INTERFACE", 0x15);
}

static int legacy_layout(void)
{
    const char *l = env("FAKE_XEN_LAYOUT");

    if (l && !strcmp(l, "legacy"))
        return 1;
    if (l && !strcmp(l, "new"))
        return 0;
    return interface_version() < 0x0f;
}

static const char *errstr(long ret)
{
    static __thread char buf[32];

    if (ret >= 0) {
        snprintf(buf, sizeof(buf), "%ld", ret);
        return buf;
    }
    snprintf(buf, sizeof(buf), "-%s", errno_name((int)-ret));
    return buf;
}

static const char *new_op_name(uint32_t op)
{
    static __thread char buf[24];

    switch (op) {
    case 0: return "get_size";
    case 1: return "read";
    case 2: return "reset";
    }
    snprintf(buf, sizeof(buf), "%u", op);
    return buf;
}

static const char *legacy_op_name(uint32_t op)
{
    static __thread char buf[24];

    switch (op) {
    case 0: return "get_total_size";
    case 1: return "read";
    case 2: return "reset";
    case 3: return "read_and_reset";
    }
    snprintf(buf, sizeof(buf), "%u", op);
    return buf;
}

/* Xen 4.9+ coverage op.  Returns the hypercall result; *wrote = bytes. */
static long coverage_new(unsigned char *s, size_t *wrote)
{
    uint32_t cmd, size;
    uint64_t handle;
    struct buf d;
    long ret;
    int r;

    memcpy(&cmd, s + 8, 4);
    memcpy(&size, s + 12, 4);
    memcpy(&handle, s + 16, 8);

    switch (cmd) {
    case 0:
        r = load_dump(&d);
        if (r)
            return r;
        size = (uint32_t)d.len;
        free(d.p);
        after_get_size();
        ret = 0;
        break;
    case 1:
        r = load_dump(&d);
        if (r)
            return r;
        if (env_flag("FAKE_XEN_CLANG", 0)) {
            /* LLVM flavour: ENOMEM when it does not fit, size untouched */
            if (d.len > size)
                ret = -ENOMEM;
            else if ((ret = copy_to_guest(handle, d.p, d.len)) == 0
                     && (ret = clear_guest(handle + d.len, size - d.len)) == 0) {
                *wrote = d.len;
                save_last_read(&d);
            }
        } else if (size < d.len) {
            ret = -ENOBUFS;             /* size is left as the caller set it */
        } else if ((ret = copy_to_guest(handle, d.p, d.len)) == 0) {
            size = (uint32_t)d.len;
            *wrote = d.len;
            save_last_read(&d);
        }
        free(d.p);
        break;
    case 2:
        do_reset();
        ret = 0;
        break;
    default:
        ret = -EOPNOTSUPP;
        break;
    }
    memcpy(s + 12, &size, 4);
    return ret;
}

/* Xen 4.3-4.8 coverage op. */
static long coverage_legacy(unsigned char *s, size_t *wrote)
{
    uint32_t cmd, total;
    uint64_t handle;
    struct buf d;
    long ret;
    int r;

    memcpy(&cmd, s + 8, 4);
    memcpy(&handle, s + 16, 8);

    switch (cmd) {
    case 0:
        r = load_dump(&d);
        if (r)
            return r;
        total = (uint32_t)d.len;
        free(d.p);
        memcpy(s + 16, &total, 4);      /* only the u32 half of the union */
        after_get_size();
        return 0;
    case 1:
    case 3:
        r = load_dump(&d);
        if (r)
            return r;
        /* no size check at all: the whole dump goes to the handle */
        ret = copy_to_guest(handle, d.p, d.len);
        if (ret == 0) {
            *wrote = d.len;
            save_last_read(&d);
        }
        free(d.p);
        if (ret || cmd == 1)
            return ret;
        do_reset();
        return 0;
    case 2:
        do_reset();
        return 0;
    default:
        return -EINVAL;
    }
}

static long hc_sysctl(uint64_t uaddr)
{
    unsigned char s[SYSCTL_SIZE];
    uint32_t cmd, iv, opcmd, opsize;
    unsigned long want_iv = interface_version();
    int legacy = legacy_layout(), copyback = 0, is_reset;
    size_t wrote = (size_t)-1;
    char opdesc[96] = "", after[96] = "";
    long ret;

    ret = copy_from_guest(s, uaddr, sizeof(s));
    if (ret) {
        state_log("sysctl addr=%#llx -> %s", (unsigned long long)uaddr,
                  errstr(ret));
        return ret;
    }
    memcpy(&cmd, s, 4);
    memcpy(&iv, s + 4, 4);
    memcpy(&opcmd, s + 8, 4);
    memcpy(&opsize, s + 12, 4);
    if (cmd == SYSCTL_coverage_op) {
        if (legacy)
            snprintf(opdesc, sizeof(opdesc), " op=%s", legacy_op_name(opcmd));
        else
            snprintf(opdesc, sizeof(opdesc), " op=%s size=%u",
                     new_op_name(opcmd), opsize);
    }
    is_reset = cmd == SYSCTL_coverage_op
        && (opcmd == 2 || (legacy && opcmd == 3));

    if (iv != want_iv) {
        ret = -EACCES;
    } else if (!env_flag("FAKE_XEN_PRIVILEGED", 1)) {
        ret = env_flag("FAKE_XEN_FLASK", 0) ? -EACCES : -EPERM;
    } else if (cmd != SYSCTL_coverage_op) {
        ret = -ENOSYS;                  /* not implemented by this fake */
    } else if (!env_flag("FAKE_XEN_COVERAGE", 1)) {
        int e = parse_errno(env("FAKE_XEN_COVERAGE_ERRNO"),
                            want_iv >= 0x11 ? EOPNOTSUPP : ENOSYS);
        ret = -e;
        /* 4.11+: the op stub runs and the struct is copied back unchanged;
         * older: the sysctl switch has no case, nothing is copied back */
        copyback = e == EOPNOTSUPP;
    } else if (legacy) {
        ret = coverage_legacy(s, &wrote);
        copyback = ret == 0;            /* copied back on success only */
    } else {
        ret = coverage_new(s, &wrote);
        copyback = 1;                   /* copied back even on failure */
    }

    if (copyback) {
        long r = copy_to_guest(uaddr, s, sizeof(s));
        if (r)
            ret = r;
        else if (legacy && opcmd == 0) {
            uint32_t total;
            memcpy(&total, s + 16, 4);
            snprintf(after, sizeof(after), " total_size=%u", total);
        } else if (!legacy) {
            uint32_t size;
            memcpy(&size, s + 12, 4);
            snprintf(after, sizeof(after), " size=%u", size);
        }
    }
    if (wrote != (size_t)-1) {
        size_t l = strlen(after);
        snprintf(after + l, sizeof(after) - l, " wrote=%zu", wrote);
    }
    state_log("sysctl cmd=%u iv=0x%x%s -> %s%s", cmd, iv, opdesc, errstr(ret),
              after);
    if (ret == 0 && is_reset)
        state_log("reset");
    return ret;
}

static void xen_release(unsigned *maj, unsigned *min)
{
    const char *v = env("FAKE_XEN_VERSION");
    unsigned long iv = interface_version();
    static const struct { unsigned iv, maj, min; } table[] = {
        { 0x0a, 4, 4 }, { 0x0b, 4, 5 }, { 0x0c, 4, 6 }, { 0x0d, 4, 7 },
        { 0x0e, 4, 8 }, { 0x0f, 4, 9 }, { 0x10, 4, 10 }, { 0x11, 4, 11 },
        { 0x12, 4, 13 }, { 0x13, 4, 15 }, { 0x14, 4, 16 }, { 0x15, 4, 17 },
        { 0x16, 4, 21 },
    };
    size_t i;

    *maj = 4;
    *min = 17;
    if (v && sscanf(v, "%u.%u", maj, min) == 2)
        return;
    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (table[i].iv == iv) {
            *maj = table[i].maj;
            *min = table[i].min;
        }
}

static long hc_xen_version(uint64_t cmd, uint64_t arg)
{
    unsigned maj, min;
    long ret;

    xen_release(&maj, &min);
    switch (cmd) {
    case 0:                     /* XENVER_version */
        ret = (long)((maj << 16) | min);
        break;
    case 1: {                   /* XENVER_extraversion: char[16] */
        char extra[16];
        memset(extra, 0, sizeof(extra));
        snprintf(extra, sizeof(extra), ".0-fake");
        ret = copy_to_guest(arg, extra, sizeof(extra));
        break;
    }
    default:
        ret = -ENOSYS;
        break;
    }
    if (ret > 0)
        state_log("xen_version cmd=%llu -> %#lx", (unsigned long long)cmd, ret);
    else
        state_log("xen_version cmd=%llu -> %s", (unsigned long long)cmd,
                  errstr(ret));
    return ret;
}

static pthread_once_t inject_once = PTHREAD_ONCE_INIT;
static long eintr_left, eagain_left;

static void inject_init(void)
{
    eintr_left = env_long("FAKE_XEN_EINTR", 0);
    eagain_left = env_long("FAKE_XEN_EAGAIN", 0);
}

static int privcmd_hypercall(struct ofile *o, void *uarg)
{
    struct { uint64_t op, arg[5]; } hc;
    long ret;
    int inject = 0;

    pthread_once(&inject_once, inject_init);
    lk();
    if (eintr_left > 0) {
        eintr_left--;
        inject = EINTR;
    } else if (eagain_left > 0) {
        eagain_left--;
        inject = EAGAIN;
    }
    ulk();
    if (inject) {
        state_log("ioctl hypercall -> %s (injected)", errno_name(inject));
        errno = inject;
        return -1;
    }
    if (o->restrict_domid != DOMID_INVALID) {
        errno = EPERM;
        return -1;
    }
    {
        /* copy_from_user of the 48-byte argument: any readable memory */
        struct iovec l = { &hc, sizeof(hc) }, r = { uarg, sizeof(hc) };
        if (!uarg || syscall(SYS_process_vm_readv, getpid(), &l, 1UL, &r, 1UL, 0UL)
                         != (long)sizeof(hc)) {
            if (uarg && (errno == ENOSYS || errno == EPERM))
                memcpy(&hc, uarg, sizeof(hc));
            else {
                errno = EFAULT;
                return -1;
            }
        }
    }

    switch (hc.op) {
    case HYPERVISOR_sysctl:
        lk();
        ret = hc_sysctl(hc.arg[0]);
        ulk();
        break;
    case HYPERVISOR_xen_version:
        ret = hc_xen_version(hc.arg[0], hc.arg[1]);
        break;
    default:
        ret = -ENOSYS;
        state_log("hypercall op=%llu -> %s", (unsigned long long)hc.op,
                  errstr(ret));
        break;
    }
    if (ret < 0 && ret >= -4095) {
        errno = (int)-ret;
        return -1;
    }
    return (int)ret;
}

static int privcmd_ioctl(int fd, struct ofile *o, unsigned req, void *arg)
{
    switch (req) {
    case IOCTL_PRIVCMD_HYPERCALL:
        return privcmd_hypercall(o, arg);
    case IOCTL_PRIVCMD_DM_OP: {
        struct { uint16_t dom, num; uint32_t pad; uint64_t ubufs; } dm;
        struct iovec l = { &dm, sizeof(dm) }, r = { arg, sizeof(dm) };
        if (!arg || syscall(SYS_process_vm_readv, getpid(), &l, 1UL, &r, 1UL, 0UL)
                        != (long)sizeof(dm)) {
            errno = EFAULT;
            return -1;
        }
        trace("ioctl(fd %d, DM_OP dom=%u num=%u)", fd, dm.dom, dm.num);
        if (o->restrict_domid != DOMID_INVALID && o->restrict_domid != dm.dom) {
            errno = EPERM;
            return -1;
        }
        if (dm.num == 0)
            return 0;
        errno = ENOSYS;         /* the fake hypervisor has no dm_op */
        return -1;
    }
    case IOCTL_PRIVCMD_RESTRICT: {
        uint16_t dom;
        struct iovec l = { &dom, 2 }, r = { arg, 2 };
        if (!arg || syscall(SYS_process_vm_readv, getpid(), &l, 1UL, &r, 1UL, 0UL)
                        != 2) {
            errno = EFAULT;
            return -1;
        }
        trace("ioctl(fd %d, RESTRICT dom=%u)", fd, dom);
        lk();
        if (o->restrict_domid == DOMID_INVALID)
            o->restrict_domid = dom;
        else if (o->restrict_domid != dom) {
            ulk();
            errno = EINVAL;
            return -1;
        }
        ulk();
        return 0;
    }
    case IOCTL_PRIVCMD_MMAP:
    case IOCTL_PRIVCMD_MMAPBATCH:
    case IOCTL_PRIVCMD_MMAPBATCH_V2:
    case IOCTL_PRIVCMD_MMAP_RESOURCE:
        trace("ioctl(fd %d, 0x%x): foreign mapping not emulated -> EINVAL", fd, req);
        errno = EINVAL;
        return -1;
    default:
        trace("ioctl(fd %d, 0x%x) -> ENOTTY", fd, req);
        errno = ENOTTY;
        return -1;
    }
}

EXPORT int ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    void *arg;
    struct ofile *o;

    va_start(ap, req);
    arg = va_arg(ap, void *);
    va_end(ap);

    o = fd_get(fd);
    if (o) {
        if (o->kind == DEV_PRIVCMD)
            return privcmd_ioctl(fd, o, (unsigned)req, arg);
        /* the hypercall buffer device has no ioctls */
        errno = ENOTTY;
        return -1;
    }
    if (!get_ioctl())
        return (int)syscall(SYS_ioctl, fd, req, arg);
    return real_ioctl(fd, req, arg);
}
