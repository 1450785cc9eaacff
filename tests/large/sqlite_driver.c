/* sqlite_driver: the workload program of the SQLite coverage build
 * (tests/large/build.sh). The libsqlite3-sys crate ships the amalgamation but
 * not shell.c, so this stands in for the sqlite3 shell.
 *
 *   sqlite_driver WORKLOAD.sql DB...
 *
 * For each DB (":memory:" or a file name, which is deleted first), it runs
 * every statement of WORKLOAD.sql in order, printing rows as "a|b|c" and a
 * failing statement as "error: ..." (the workload fails some on purpose), then
 * drives a few C APIs that SQL does not reach: bound parameters, incremental
 * blob I/O, user functions, a collation, the backup API, sqlite3_exec and the
 * status counters. Exit status 0 unless something that must work did not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sqlite3.h"

static int failures;

static void must(int rc, sqlite3 *db, const char *what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "sqlite_driver: %s: %s (%d)\n", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc);
        failures++;
    }
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) { perror(path); exit(2); }
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void print_row(sqlite3_stmt *st) {
    int n = sqlite3_column_count(st);
    for (int i = 0; i < n; i++) {
        if (i) putchar('|');
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_NULL: fputs("NULL", stdout); break;
        case SQLITE_INTEGER: printf("%lld", (long long)sqlite3_column_int64(st, i)); break;
        case SQLITE_FLOAT: printf("%.6g", sqlite3_column_double(st, i)); break;
        case SQLITE_BLOB: printf("<blob %d>", sqlite3_column_bytes(st, i)); break;
        default: fputs((const char *)sqlite3_column_text(st, i), stdout); break;
        }
    }
    putchar('\n');
}

/* Runs every statement of sql; returns the number that failed. */
static int run_script(sqlite3 *db, const char *sql) {
    int errors = 0;
    const char *tail = sql;
    while (tail && *tail) {
        sqlite3_stmt *st = NULL;
        const char *start = tail;
        int rc = sqlite3_prepare_v2(db, start, -1, &st, &tail);
        if (rc != SQLITE_OK) {
            printf("error: %s\n", sqlite3_errmsg(db));
            errors++;
            /* skip past the bad statement */
            const char *semi = strchr(start, ';');
            tail = semi ? semi + 1 : NULL;
            continue;
        }
        if (!st) continue; /* whitespace or comment */
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) print_row(st);
        if (rc != SQLITE_DONE) {
            printf("error: %s\n", sqlite3_errmsg(db));
            errors++;
        }
        sqlite3_finalize(st);
    }
    return errors;
}

static void fn_rev(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) { sqlite3_result_null(ctx); return; }
    const unsigned char *s = sqlite3_value_text(argv[0]);
    int n = sqlite3_value_bytes(argv[0]);
    char *r = sqlite3_malloc(n + 1);
    if (!r) { sqlite3_result_error_nomem(ctx); return; }
    for (int i = 0; i < n; i++) r[i] = (char)s[n - 1 - i];
    r[n] = 0;
    sqlite3_result_text(ctx, r, n, sqlite3_free);
}

struct acc { double sum; long long n; };
static void agg_step(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    struct acc *a = sqlite3_aggregate_context(ctx, sizeof *a);
    if (a && sqlite3_value_type(argv[0]) != SQLITE_NULL) { a->sum += sqlite3_value_double(argv[0]); a->n++; }
}
static void agg_final(sqlite3_context *ctx) {
    struct acc *a = sqlite3_aggregate_context(ctx, 0);
    if (!a || a->n == 0) sqlite3_result_null(ctx);
    else sqlite3_result_double(ctx, a->sum / (double)a->n);
}
static int coll_len(void *p, int n1, const void *s1, int n2, const void *s2) {
    (void)p;
    if (n1 != n2) return n1 - n2;
    return memcmp(s1, s2, (size_t)n1);
}
static int exec_cb(void *p, int n, char **vals, char **names) {
    (void)names;
    int *rows = p;
    (*rows)++;
    return n > 0 && vals[0] == NULL; /* never aborts here */
}

static void run_api(sqlite3 *db) {
    sqlite3_stmt *st;
    must(sqlite3_create_function_v2(db, "rev", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, fn_rev, NULL, NULL, NULL), db, "create rev");
    must(sqlite3_create_function_v2(db, "mean", 1, SQLITE_UTF8, NULL, NULL, agg_step, agg_final, NULL), db, "create mean");
    must(sqlite3_create_collation_v2(db, "bylen", SQLITE_UTF8, NULL, coll_len, NULL), db, "create collation");
    must(sqlite3_exec(db, "CREATE TABLE bound(i INTEGER, r REAL, t TEXT, b BLOB, z)", NULL, NULL, NULL), db, "create bound");

    /* bound parameters in a transaction */
    must(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), db, "begin");
    must(sqlite3_prepare_v3(db, "INSERT INTO bound VALUES (?1, :r, @t, $b, ?5)", -1, SQLITE_PREPARE_PERSISTENT, &st, NULL), db, "prepare insert");
    for (int i = 0; i < 500; i++) {
        char text[32], blob[16];
        snprintf(text, sizeof text, "row-%d", i * 37 % 1000);
        memset(blob, i & 0xff, sizeof blob);
        sqlite3_bind_int(st, 1, i);
        sqlite3_bind_double(st, sqlite3_bind_parameter_index(st, ":r"), i / 3.0);
        sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, "@t"), text, -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, sqlite3_bind_parameter_index(st, "$b"), blob, 1 + i % 16, SQLITE_TRANSIENT);
        if (i % 5) sqlite3_bind_int64(st, 5, (sqlite3_int64)i << 33); else sqlite3_bind_null(st, 5);
        must(sqlite3_step(st), db, "insert bound");
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    sqlite3_finalize(st);
    must(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), db, "commit");

    /* user function, aggregate, collation */
    must(sqlite3_prepare_v2(db, "SELECT rev(t), mean(r) FROM bound WHERE i < 20 GROUP BY i % 3 ORDER BY t COLLATE bylen", -1, &st, NULL), db, "prepare select");
    while (sqlite3_step(st) == SQLITE_ROW) print_row(st);
    sqlite3_finalize(st);

    /* incremental blob I/O (row N holds a blob of N bytes, up to 16) */
    sqlite3_blob *blob;
    if (sqlite3_blob_open(db, "main", "bound", "b", 16, 1, &blob) == SQLITE_OK) {
        char buf[4] = {0};
        must(sqlite3_blob_read(blob, buf, 4, 0), db, "blob read");
        must(sqlite3_blob_write(blob, "abcd", 4, 0), db, "blob write");
        must(sqlite3_blob_reopen(blob, 7), db, "blob reopen");
        printf("blob bytes %d\n", sqlite3_blob_bytes(blob));
        sqlite3_blob_close(blob);
    } else {
        must(SQLITE_ERROR, db, "blob open");
    }
    /* an out-of-range blob read fails, as it should */
    if (sqlite3_blob_open(db, "main", "bound", "b", 1, 0, &blob) == SQLITE_OK) {
        char buf[64];
        printf("blob overread rc %d\n", sqlite3_blob_read(blob, buf, 64, 0));
        sqlite3_blob_close(blob);
    }

    /* sqlite3_exec callback and mprintf quoting */
    int rows = 0;
    char *err = NULL;
    char *q = sqlite3_mprintf("SELECT %Q, '%q', \"%w\" FROM bound WHERE t LIKE %Q", "x'y", "it's", "t", "row-1%");
    sqlite3_exec(db, q, exec_cb, &rows, &err);
    printf("exec rows %d%s%s\n", rows, err ? " error: " : "", err ? err : "");
    sqlite3_free(err);
    sqlite3_free(q);
    printf("complete %d %d\n", sqlite3_complete("SELECT 1;"), sqlite3_complete("SELECT 'unterminated"));

    /* backup to a second in-memory database */
    sqlite3 *copy;
    must(sqlite3_open(":memory:", &copy), copy, "open copy");
    sqlite3_backup *bk = sqlite3_backup_init(copy, "main", db, "main");
    if (bk) {
        while (sqlite3_backup_step(bk, 5) == SQLITE_OK) {}
        must(sqlite3_backup_finish(bk), copy, "backup finish");
        run_script(copy, "SELECT count(*) FROM bound; SELECT count(*) FROM emp;");
    } else {
        must(SQLITE_ERROR, copy, "backup init");
    }
    sqlite3_close(copy);

    int cur, hi;
    sqlite3_db_status(db, SQLITE_DBSTATUS_CACHE_USED, &cur, &hi, 0);
    sqlite3_db_status(db, SQLITE_DBSTATUS_LOOKASIDE_USED, &cur, &hi, 0);
    sqlite3_status(SQLITE_STATUS_MEMORY_USED, &cur, &hi, 0);
    printf("changes %d total %d errstr %s\n", sqlite3_changes(db), sqlite3_total_changes(db) > 0, sqlite3_errstr(SQLITE_CONSTRAINT));
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s WORKLOAD.sql DB...\n", argv[0]);
        return 2;
    }
    char *sql = read_file(argv[1]);
    sqlite3_initialize();
    /* a fixed PRNG seed keeps the run (and so the counters) reproducible */
    sqlite3_test_control(SQLITE_TESTCTRL_PRNG_SEED, 20240601, (sqlite3 *)0);
    for (int i = 2; i < argc; i++) {
        const char *name = argv[i];
        if (strcmp(name, ":memory:") != 0) {
            char side[4096];
            unlink(name);
            snprintf(side, sizeof side, "%s-wal", name); unlink(side);
            snprintf(side, sizeof side, "%s-shm", name); unlink(side);
            snprintf(side, sizeof side, "%s-journal", name); unlink(side);
        }
        sqlite3 *db;
        if (sqlite3_open_v2(name, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
            fprintf(stderr, "sqlite_driver: cannot open %s: %s\n", name, sqlite3_errmsg(db));
            return 1;
        }
        sqlite3_busy_timeout(db, 1000);
        printf("== %s\n", name);
        int errors = run_script(db, sql);
        run_api(db);
        printf("== %s: %d statements failed (expected)\n", name, errors);
        sqlite3_close(db);
    }
    sqlite3_shutdown();
    free(sql);
    if (failures) fprintf(stderr, "sqlite_driver: %d API calls failed\n", failures);
    return failures ? 1 : 0;
}
