/*
 * selftest.c - checks the fake Xen library (fake_xen.c) the way a client
 * such as xencov-rs would use it: open /dev/xen/privcmd, allocate hypercall
 * buffers, issue IOCTL_PRIVCMD_HYPERCALL with __HYPERVISOR_sysctl.
 *
 * Run through selftest.sh, which builds both and sets LD_PRELOAD,
 * FAKE_XEN_DUMP (a small gcov container) and FAKE_XEN_STATE.  Most settings
 * are changed here with setenv(), which works because the fake reads its
 * environment at each call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define IOCTL_PRIVCMD_HYPERCALL 0x305000UL
#define IOCTL_PRIVCMD_RESTRICT  0x25006UL

struct hc { uint64_t op, arg[5]; };

static int failures;

#define CHECK(cond, ...)                                        \
    do {                                                        \
        if (cond) {                                             \
            printf("ok   ");                                    \
        } else {                                                \
            printf("FAIL ");                                    \
            failures++;                                         \
        }                                                       \
        printf(__VA_ARGS__);                                    \
        printf("\n");                                           \
    } while (0)

static unsigned char *dump;
static size_t dump_len;

static void load(const char *path)
{
    FILE *f = fopen(path, "rb");
    long n;

    if (!f) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    dump = malloc((size_t)n + 1);
    dump_len = fread(dump, 1, (size_t)n, f);
    fclose(f);
}

/* fill a 136-byte sysctl: new layout */
static void mk_new(unsigned char *s, uint32_t iv, uint32_t op, uint32_t size,
                   void *buf)
{
    uint32_t cmd = 20;
    uint64_t h = (uintptr_t)buf;

    memset(s, 0, 136);
    memcpy(s, &cmd, 4);
    memcpy(s + 4, &iv, 4);
    memcpy(s + 8, &op, 4);
    memcpy(s + 12, &size, 4);
    memcpy(s + 16, &h, 8);
}

static int call(int fd, void *sysctl)
{
    struct hc h = { 35, { (uintptr_t)sysctl, 0, 0, 0, 0 } };
    return ioctl(fd, IOCTL_PRIVCMD_HYPERCALL, &h);
}

static uint32_t u32at(const unsigned char *s, size_t off)
{
    uint32_t v;
    memcpy(&v, s + off, 4);
    return v;
}

int main(int argc, char **argv)
{
    int pfd, hfd, r, e;
    unsigned char *s, *buf, *big;
    unsigned char stack_sysctl[136];
    struct stat st;

    if (argc != 2) {
        fprintf(stderr, "usage: selftest DUMP (with LD_PRELOAD=libfakexen.so)\n");
        return 2;
    }
    load(argv[1]);
    setenv("FAKE_XEN_DUMP", argv[1], 1);

    /* --- injected EINTR (FAKE_XEN_EINTR=1 set by selftest.sh) --- */
    pfd = open64("/dev/xen/privcmd", O_RDWR | O_CLOEXEC);
    CHECK(pfd >= 0, "open64 /dev/xen/privcmd -> fd %d", pfd);
    hfd = open("/dev/xen/hypercall", O_RDWR | O_CLOEXEC);
    CHECK(hfd >= 0, "open /dev/xen/hypercall -> fd %d", hfd);
    s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, hfd, 0);
    CHECK(s != MAP_FAILED, "mmap hypercall page");
    mk_new(s, 0x15, 0, 0, NULL);
    r = call(pfd, s);
    e = errno;
    CHECK(r == -1 && e == EINTR, "first hypercall fails with EINTR (%d %s)", r, strerror(e));
    r = call(pfd, s);
    CHECK(r == 0 && u32at(s, 12) == dump_len, "get_size -> %d size=%u (dump %zu)",
          r, u32at(s, 12), dump_len);

    /* --- read into device memory --- */
    buf = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, hfd, 0);
    CHECK(buf != MAP_FAILED, "mmap 64 KiB hypercall buffer");
    mk_new(s, 0x15, 1, (uint32_t)dump_len - 1, buf);
    r = call(pfd, s);
    e = errno;
    CHECK(r == -1 && e == ENOBUFS && u32at(s, 12) == dump_len - 1,
          "read with size-1 -> ENOBUFS, size left at %u", u32at(s, 12));
    mk_new(s, 0x15, 1, 65536, buf);
    r = call(pfd, s);
    CHECK(r == 0 && u32at(s, 12) == dump_len && !memcmp(buf, dump, dump_len),
          "read -> %d size=%u, bytes identical", r, u32at(s, 12));

    /* --- errors in Xen's order --- */
    mk_new(s, 0x14, 0, 0, NULL);
    r = call(pfd, s);
    e = errno;
    CHECK(r == -1 && e == EACCES, "interface 0x14 -> EACCES");
    setenv("FAKE_XEN_PRIVILEGED", "0", 1);
    mk_new(s, 0x14, 0, 0, NULL);
    r = call(pfd, s);
    e = errno;
    CHECK(r == -1 && e == EACCES, "unprivileged + wrong interface -> EACCES (version checked first)");
    mk_new(s, 0x15, 0, 0, NULL);
    r = call(pfd, s);
    e = errno;
    CHECK(r == -1 && e == EPERM, "unprivileged -> EPERM");
    setenv("FAKE_XEN_FLASK", "1", 1);
    r = call(pfd, s);
    e = errno;
    CHECK(r == -1 && e == EACCES, "unprivileged under FLASK -> EACCES");
    unsetenv("FAKE_XEN_PRIVILEGED");
    unsetenv("FAKE_XEN_FLASK");
    setenv("FAKE_XEN_COVERAGE", "0", 1);
    mk_new(s, 0x15, 0, 0, NULL);
    r = call(pfd, s);
    e = errno;
    CHECK(r == -1 && e == EOPNOTSUPP, "no coverage (4.11+) -> EOPNOTSUPP");
    setenv("FAKE_XEN_COVERAGE_ERRNO", "ENOSYS", 1);
    r = call(pfd, s);
    e = errno;
    CHECK(r == -1 && e == ENOSYS, "no coverage (4.3-4.10) -> ENOSYS");
    unsetenv("FAKE_XEN_COVERAGE");
    unsetenv("FAKE_XEN_COVERAGE_ERRNO");
    mk_new(s, 0x15, 7, 0, NULL);
    r = call(pfd, s);
    e = errno;
    CHECK(r == -1 && e == EOPNOTSUPP, "coverage op 7 -> EOPNOTSUPP");
    mk_new(s, 0x15, 0, 0, NULL);
    s[0] = 21;
    r = call(pfd, s);
    e = errno;
    CHECK(r == -1 && e == ENOSYS, "sysctl cmd 21 -> ENOSYS");
    {
        struct hc h = { 99, { 0 } };
        r = ioctl(pfd, IOCTL_PRIVCMD_HYPERCALL, &h);
        e = errno;
        CHECK(r == -1 && e == ENOSYS, "hypercall 99 -> ENOSYS");
        h.op = 17;
        r = ioctl(pfd, IOCTL_PRIVCMD_HYPERCALL, &h);
        CHECK(r == 0x40011, "xen_version -> %#x", r);
        r = ioctl(pfd, IOCTL_PRIVCMD_HYPERCALL, (void *)8);
        e = errno;
        CHECK(r == -1 && e == EFAULT, "bad ioctl argument -> EFAULT");
    }
    r = ioctl(pfd, 0x50ff, 0);
    e = errno;
    CHECK(r == -1 && e == ENOTTY, "unknown privcmd ioctl -> ENOTTY");

    /* --- hypercall-safe memory --- */
    mk_new(stack_sysctl, 0x15, 0, 0, NULL);
    r = call(pfd, stack_sysctl);
    e = errno;
    CHECK(r == -1 && e == EFAULT, "sysctl struct on the stack -> EFAULT");
    big = malloc(1 << 20);
    mk_new(s, 0x15, 1, 1 << 20, big);
    r = call(pfd, s);
    e = errno;
    CHECK(r == -1 && e == EFAULT, "data buffer in malloc memory -> EFAULT");
    if (mlock(big, 1 << 20) == 0) {
        r = call(pfd, s);
        e = errno;
        CHECK(r == -1 && e == EFAULT, "mlock'ed buffer while the device exists -> EFAULT (strict)");
        setenv("FAKE_XEN_MEMCHECK", "any", 1);
        r = call(pfd, s);
        CHECK(r == 0 && !memcmp(big, dump, dump_len), "mlock'ed buffer with MEMCHECK=any -> %d", r);
        unsetenv("FAKE_XEN_MEMCHECK");
        munlock(big, 1 << 20);
    } else {
        printf("skip mlock checks: %s\n", strerror(errno));
    }
    setenv("FAKE_XEN_NO_HYPERCALL_DEV", "1", 1);
    r = call(pfd, s);
    e = errno;
    CHECK(r == -1 && e == EFAULT, "no device: struct in device memory is not locked -> EFAULT");
    {
        unsigned char *l = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
        if (l != MAP_FAILED) {
            mk_new(l, 0x15, 0, 0, NULL);
            r = call(pfd, l);
            CHECK(r == 0 && u32at(l, 12) == dump_len, "no device: MAP_LOCKED struct -> %d", r);
            munmap(l, 8192);
            mk_new(stack_sysctl, 0x15, 0, 0, NULL);
        } else {
            printf("skip MAP_LOCKED check: %s\n", strerror(errno));
        }
        if (mlock(stack_sysctl, sizeof(stack_sysctl)) == 0) {
            r = call(pfd, stack_sysctl);
            CHECK(r == 0 && u32at(stack_sysctl, 12) == dump_len,
                  "no device: mlock'ed stack struct -> %d", r);
            munlock(stack_sysctl, sizeof(stack_sysctl));
            r = call(pfd, stack_sysctl);
            e = errno;
            CHECK(r == -1 && e == EFAULT, "after munlock -> EFAULT");
        }
    }
    r = open("/dev/xen/hypercall", O_RDWR);
    e = errno;
    CHECK(r == -1 && e == ENOENT, "FAKE_XEN_NO_HYPERCALL_DEV: open hypercall -> ENOENT");
    CHECK(stat("/dev/xen/hypercall", &st) == -1 && errno == ENOENT, "stat hypercall -> ENOENT");
    unsetenv("FAKE_XEN_NO_HYPERCALL_DEV");
    CHECK(stat("/dev/xen/privcmd", &st) == 0 && S_ISCHR(st.st_mode), "stat privcmd -> char device");
    CHECK(access("/dev/xen/hypercall", R_OK | W_OK) == 0, "access hypercall -> 0");
    CHECK(open("/dev/xen/evtchn", O_RDWR) == -1 && errno == ENOENT, "open evtchn -> ENOENT");

    /* --- growth between get_size and read --- */
    setenv("FAKE_XEN_GROW", "record", 1);
    setenv("FAKE_XEN_GROW_TIMES", "1", 1);
    mk_new(s, 0x15, 0, 0, NULL);
    call(pfd, s);
    {
        uint32_t first = u32at(s, 12);
        mk_new(s, 0x15, 1, first, buf);
        r = call(pfd, s);
        e = errno;
        CHECK(r == -1 && e == ENOBUFS, "grown dump: read with old size %u -> ENOBUFS", first);
        mk_new(s, 0x15, 0, 0, NULL);
        call(pfd, s);
        CHECK(u32at(s, 12) > first, "get_size again -> %u", u32at(s, 12));
        mk_new(s, 0x15, 1, u32at(s, 12), buf);
        r = call(pfd, s);
        CHECK(r == 0 && !memcmp(buf, dump, dump_len), "retry read -> %d size=%u", r, u32at(s, 12));
    }
    unsetenv("FAKE_XEN_GROW");
    unsetenv("FAKE_XEN_GROW_TIMES");

    /* --- clang flavour --- */
    setenv("FAKE_XEN_CLANG", "1", 1);
    memset(buf, 0xaa, 65536);
    mk_new(s, 0x15, 1, 100, buf);
    r = call(pfd, s);
    e = errno;
    CHECK(r == -1 && e == ENOMEM, "clang: small buffer -> ENOMEM");
    mk_new(s, 0x15, 1, 65536, buf);
    r = call(pfd, s);
    CHECK(r == 0 && u32at(s, 12) == 65536 && buf[65535] == 0,
          "clang: read -> size stays %u, tail zeroed", u32at(s, 12));
    unsetenv("FAKE_XEN_CLANG");

    /* --- legacy layout (Xen 4.3-4.8) --- */
    setenv("FAKE_XEN_INTERFACE", "0x0e", 1);
    mk_new(s, 0x0e, 0, 0, NULL);
    memset(s + 16, 0xff, 8);
    r = call(pfd, s);
    CHECK(r == 0 && u32at(s, 16) == dump_len && u32at(s, 20) == 0xffffffff,
          "legacy get_total_size -> %u in the u32 half of the union", u32at(s, 16));
    memset(buf, 0, 65536);
    mk_new(s, 0x0e, 1, 0, NULL);
    {
        uint64_t h = (uintptr_t)buf;
        memcpy(s + 16, &h, 8);
    }
    r = call(pfd, s);
    CHECK(r == 0 && !memcmp(buf, dump, dump_len), "legacy read (no size) -> %d", r);
    s[8] = 9;
    r = call(pfd, s);
    e = errno;
    CHECK(r == -1 && e == EINVAL, "legacy op 9 -> EINVAL");
    setenv("FAKE_XEN_COVERAGE", "0", 1);
    s[8] = 0;
    r = call(pfd, s);
    e = errno;
    CHECK(r == -1 && e == ENOSYS, "legacy without coverage -> ENOSYS");
    unsetenv("FAKE_XEN_COVERAGE");
    unsetenv("FAKE_XEN_INTERFACE");

    /* --- reset --- */
    mk_new(s, 0x15, 2, 0, NULL);
    r = call(pfd, s);
    CHECK(r == 0, "reset -> %d", r);

    /* --- dup / restrict / close --- */
    {
        int d = dup(pfd);
        mk_new(s, 0x15, 0, 0, NULL);
        r = call(d, s);
        CHECK(r == 0, "hypercall through a dup'ed fd -> %d", r);
        close(pfd);
        r = call(d, s);
        CHECK(r == 0, "dup'ed fd still works after closing the original -> %d", r);
        {
            uint16_t dom = 1;
            r = ioctl(d, IOCTL_PRIVCMD_RESTRICT, &dom);
            CHECK(r == 0, "restrict to dom1");
            r = call(d, s);
            e = errno;
            CHECK(r == -1 && e == EPERM, "restricted handle: hypercall -> EPERM");
        }
        close(d);
        r = call(d, s);
        e = errno;
        CHECK(r == -1 && e == EBADF, "closed fd -> EBADF");
    }
    close(hfd);

    setenv("FAKE_XEN_ABSENT", "1", 1);
    r = open("/dev/xen/privcmd", O_RDWR);
    e = errno;
    CHECK(r == -1 && e == ENOENT, "FAKE_XEN_ABSENT: open privcmd -> ENOENT");

    printf("%s: %d failure(s)\n", failures ? "FAILED" : "PASSED", failures);
    return failures ? 1 : 0;
}
