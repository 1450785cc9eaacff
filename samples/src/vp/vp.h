/* vp: a small program whose hot spots are the statements GCC value-profiles
 * (indirect calls, integer division/modulo, block copies and fills).
 * Sample program for xencov-rs coverage test data. */
#ifndef VP_H
#define VP_H

#include <stddef.h>

#define VP_BUF_MAX 256

typedef long (*shape_fn)(long size);

struct shape {
    const char *name;
    shape_fn area;
};

/* shapes.c */
extern const struct shape shape_table[];
extern const int shape_count;
long run_shapes(const char *pattern, long size);

/* arith.c */
unsigned long divide_all(const unsigned *values, int count, unsigned divisor);
unsigned long remainder_all(const unsigned *values, int count, unsigned modulus);

/* buffer.c */
unsigned long copy_rounds(size_t length, int rounds);

#endif
