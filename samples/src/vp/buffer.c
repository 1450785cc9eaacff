/* Block copies and fills whose length is only known at run time. */
#include <string.h>
#include "vp.h"

static unsigned char source[VP_BUF_MAX];
static unsigned char target[VP_BUF_MAX];

unsigned long copy_rounds(size_t length, int rounds)
{
    unsigned long check = 0;
    size_t i;
    int r;

    if (length > VP_BUF_MAX)
        length = VP_BUF_MAX;
    for (r = 0; r < rounds; r++) {
        memset(source, r + 1, length);
        memcpy(target, source, length);
        for (i = 0; i < length; i++)
            check += target[i];
    }
    return check;
}
