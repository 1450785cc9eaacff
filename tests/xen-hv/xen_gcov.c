/*
 * xen_gcov.c - "a hypervisor in a test": a replacement for libgcov that
 * collects and serialises coverage data the way the Xen hypervisor does.
 *
 * A Xen hypervisor built with CONFIG_COVERAGE (and GCC) does not link
 * libgcov.  It provides its own __gcov_init(), keeps the list of every
 * unit's `struct gcov_info`, and when the coverage sysctl (read) asks for
 * data it serialises all units into one buffer:
 *
 *     u32 magic 0x58434f56 ("XCOV"), host byte order
 *     per unit:  gcda path (gcov_info.filename), NUL
 *                u32 payload size in bytes, host byte order
 *                payload: a gcda image
 *
 * The payload is written like Xen's xen/common/coverage/gcc_4_7.c does it:
 *
 *     magic "gcda", version (from gcov_info), stamp (from gcov_info)
 *     GCC >= 12 only: a checksum word, always 0
 *     per function: FUNCTION record (ident, lineno checksum, cfg checksum),
 *                   then per *active* counter kind (gcov_info.merge[kind] is
 *                   non-null) one counter record with every value written
 *                   out, 64-bit values as low word then high word.
 *     Record lengths count 32-bit words before GCC 12 and bytes from GCC 12.
 *     No summary record, no compact form for all-zero counters, no trailing
 *     zero word.  Every 32-bit word is in the host's byte order.
 *
 * Differences from Xen kept on purpose: none in the data.  Xen links each new
 * unit at the head of its list, so the dump lists units in the reverse order
 * of the __gcov_init calls; so does this file.  Like Xen, the function
 * pointers in gcov_info.functions[] are used without checking them against
 * NULL or their comdat key (libgcov would write a zero-length placeholder
 * FUNCTION record for those); a NULL pointer, which would fault inside Xen,
 * stops this program with an error instead.
 *
 * This runtime is for a user-space program whose units are compiled with
 * `-fprofile-arcs -ftest-coverage` (or `--coverage`) and which is linked
 * WITHOUT libgcov (no --coverage / -fprofile-arcs / -lgcov at link time),
 * with this file compiled by the same compiler (it selects the gcov_info
 * layout by __GNUC__) and NOT instrumented itself.
 *
 * The dump is written when the program exits: GCC 11 and 12 give every
 * instrumented unit a destructor (priority 100) calling __gcov_exit(); the
 * first call writes the dump, exactly when libgcov would write its .gcda
 * files, so both see the same counter values.  The output file is named by
 * the environment variable XEN_HV_DUMP, else "xen.dump" in the current
 * directory.  A failure to write it is reported on stderr and ends the
 * program with exit status 70.
 *
 * Tested with x86_64 gcc-11 and gcc-12 and with powerpc64-linux-gnu-gcc 12
 * (big-endian, -static, under qemu-ppc64); see scripts/gen-xen-dumps.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define XV_GCC_VERSION \
    (__GNUC__ * 10000 + __GNUC_MINOR__ * 100 + __GNUC_PATCHLEVEL__)

/* Number of counter kinds (GCOV_COUNTERS) per GCC release, as Xen has it. */
#if XV_GCC_VERSION < 40700
#error "xen_gcov.c: GCC >= 4.7 required (gcov_info layout of the 4.7 format)"
#elif XV_GCC_VERSION < 40900
#define XV_COUNTERS 8
#elif XV_GCC_VERSION < 50000
#define XV_COUNTERS 9
#elif XV_GCC_VERSION < 70000
#define XV_COUNTERS 10
#elif XV_GCC_VERSION < 100000
#define XV_COUNTERS 9
#elif XV_GCC_VERSION < 140000
#define XV_COUNTERS 8
#elif XV_GCC_VERSION < 150000
#define XV_COUNTERS 9
#else
#define XV_COUNTERS 10
#endif

/* GCC 12 counts record lengths in bytes, earlier releases in 32-bit words. */
#if XV_GCC_VERSION >= 120000
#define XV_LENGTH_UNIT 4u
#else
#define XV_LENGTH_UNIT 1u
#endif

#define XV_DUMP_MAGIC 0x58434f56u      /* "XCOV" */
#define XV_GCDA_MAGIC 0x67636461u      /* "gcda" */
#define XV_TAG_FUNCTION 0x01000000u
#define XV_TAG_COUNTER(kind) (0x01a10000u + ((uint32_t)(kind) << 17))
#define XV_FUNCTION_WORDS 3u

typedef int64_t xv_counter;  /* gcov_type: 64 bits on every target here */
typedef void (*xv_merge_fn)(xv_counter *, unsigned int);

/* The structures GCC emits into every instrumented unit. */
struct xv_ctr_info {
    unsigned int num;          /* number of values of this kind */
    xv_counter *values;
};

struct xv_fn_info {
    const struct xv_gcov_info *key;   /* comdat key: owning unit's info */
    unsigned int ident;
    unsigned int lineno_checksum;
    unsigned int cfg_checksum;
    struct xv_ctr_info ctrs[];        /* one per active counter kind */
};

struct xv_gcov_info {
    unsigned int version;
    struct xv_gcov_info *next;        /* ours to use */
    unsigned int stamp;
#if XV_GCC_VERSION >= 120000
    unsigned int checksum;            /* new in GCC 12 */
#endif
    const char *filename;
    xv_merge_fn merge[XV_COUNTERS];   /* NULL for an unused kind */
    unsigned int n_functions;
    const struct xv_fn_info *const *functions;
};

static struct xv_gcov_info *xv_head;
static int xv_dumped;

static void xv_fail(const char *what, const char *detail)
{
    fprintf(stderr, "xen_gcov: %s%s%s\n", what, detail ? ": " : "",
            detail ? detail : "");
    fflush(stderr);
    _exit(70);
}

/* The GCC major release encoded in a gcov version word, or -1. */
static int xv_version_major(uint32_t v)
{
    unsigned int a = (v >> 24) & 0xff, b = (v >> 16) & 0xff;

    if (a >= 'A' && a <= 'Z' && b >= '0' && b <= '9')
        return (int)((a - 'A') * 10 + (b - '0'));
    if (a >= '0' && a <= '9')       /* 3.4 .. 6: "407*" */
        return (int)(a - '0');
    return -1;
}

/* Called by the constructor GCC emits in every instrumented unit. */
void __gcov_init(struct xv_gcov_info *info)
{
    char buf[160];
    int major = xv_version_major(info->version);

    /* The layout above is only right for the compiler this file was built
     * with; refuse units from another one rather than dump garbage. */
    if (major != __GNUC__) {
        snprintf(buf, sizeof(buf),
                 "unit %s has gcov version 0x%08x (GCC %d), runtime built by GCC %d",
                 info->filename ? info->filename : "?", info->version, major,
                 __GNUC__);
        xv_fail("layout mismatch", buf);
    }
    /* Like Xen's gcov_info_link(): push at the head. */
    info->next = xv_head;
    xv_head = info;
}

/* Output buffer. */
struct xv_buf {
    unsigned char *data;
    size_t len, cap;
};

static void xv_put(struct xv_buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;

        while (cap < b->len + n)
            cap *= 2;
        b->data = realloc(b->data, cap);
        if (!b->data)
            xv_fail("out of memory", NULL);
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void xv_u32(struct xv_buf *b, uint32_t v)
{
    xv_put(b, &v, sizeof(v));   /* host byte order */
}

static void xv_u64(struct xv_buf *b, uint64_t v)
{
    /* gcov stores 64-bit values as two 32-bit words, low word first. */
    xv_u32(b, (uint32_t)(v & 0xffffffffu));
    xv_u32(b, (uint32_t)(v >> 32));
}

/* One unit's payload, the way Xen's gcov_info_to_gcda() writes it. */
static void xv_payload(struct xv_buf *b, const struct xv_gcov_info *info)
{
    unsigned int f, k, i;

    xv_u32(b, XV_GCDA_MAGIC);
    xv_u32(b, info->version);
    xv_u32(b, info->stamp);
#if XV_GCC_VERSION >= 120000
    xv_u32(b, 0);   /* Xen writes 0, not info->checksum */
#endif
    for (f = 0; f < info->n_functions; f++) {
        const struct xv_fn_info *fn = info->functions[f];
        const struct xv_ctr_info *ctr;

        if (!fn)
            xv_fail("NULL function info (Xen would fault here) in",
                    info->filename);
        xv_u32(b, XV_TAG_FUNCTION);
        xv_u32(b, XV_FUNCTION_WORDS * XV_LENGTH_UNIT);
        xv_u32(b, fn->ident);
        xv_u32(b, fn->lineno_checksum);
        xv_u32(b, fn->cfg_checksum);

        ctr = fn->ctrs;
        for (k = 0; k < XV_COUNTERS; k++) {
            if (!info->merge[k])
                continue;
            xv_u32(b, XV_TAG_COUNTER(k));
            xv_u32(b, ctr->num * 2u * XV_LENGTH_UNIT);
            for (i = 0; i < ctr->num; i++)
                xv_u64(b, (uint64_t)ctr->values[i]);
            ctr++;
        }
    }
}

static void xv_write_dump(void)
{
    struct xv_buf out = { 0 }, payload = { 0 };
    const struct xv_gcov_info *info;
    const char *path = getenv("XEN_HV_DUMP");
    FILE *fp;

    if (!path || !*path)
        path = "xen.dump";

    xv_u32(&out, XV_DUMP_MAGIC);
    for (info = xv_head; info; info = info->next) {
        payload.len = 0;
        xv_payload(&payload, info);
        xv_put(&out, info->filename, strlen(info->filename) + 1);
        xv_u32(&out, (uint32_t)payload.len);
        xv_put(&out, payload.data, payload.len);
    }

    fp = fopen(path, "wb");
    if (!fp)
        xv_fail("cannot create dump", path);
    if (fwrite(out.data, 1, out.len, fp) != out.len || fflush(fp) != 0)
        xv_fail("cannot write dump", path);
    if (fclose(fp) != 0)
        xv_fail("cannot close dump", path);
    free(out.data);
    free(payload.data);
}

/* GCC 11/12 emit a destructor in every unit calling this; dump once. */
void __gcov_exit(void)
{
    if (xv_dumped)
        return;
    xv_dumped = 1;
    xv_write_dump();
}

/*
 * Merge functions.  GCC only stores their addresses in gcov_info.merge[]
 * (which is how a counter kind is marked active); like Xen, they are never
 * called here.  All of GCC 10-15's names are provided so that any counter
 * kind links.
 */
void __gcov_merge_add(xv_counter *c, unsigned int n) { (void)c; (void)n; }
void __gcov_merge_topn(xv_counter *c, unsigned int n) { (void)c; (void)n; }
void __gcov_merge_ior(xv_counter *c, unsigned int n) { (void)c; (void)n; }
void __gcov_merge_time_profile(xv_counter *c, unsigned int n) { (void)c; (void)n; }
void __gcov_merge_single(xv_counter *c, unsigned int n) { (void)c; (void)n; }
void __gcov_merge_delta(xv_counter *c, unsigned int n) { (void)c; (void)n; }
void __gcov_merge_icall_topn(xv_counter *c, unsigned int n) { (void)c; (void)n; }
