/* lcov's exclusion markers, one of each (tests/exclude.rs). */
#include <stdio.h>
#include <stdlib.h>

int classify(int x)
{
	if (x < 0)
		return -1;
	if (x > 100) /* LCOV_EXCL_BR_LINE */
		return 2;
	if (x == 42)
		abort(); /* LCOV_EXCL_LINE */
	return x > 10;
}

/* LCOV_EXCL_START */
int debug_dump(int x)
{
	if (x > 3)
		printf("dump %d\n", x);
	return x;
}
/* LCOV_EXCL_STOP */

int pick(int a, int b)
{
	/* LCOV_EXCL_BR_START */
	if (a && b)
		return 1;
	if (a || b)
		return 2;
	/* LCOV_EXCL_BR_STOP */
	return a > b ? 3 : 4;
}

int never_called(int x) /* LCOV_EXCL_LINE */
{
	if (x > 1)
		return x * 2;
	return 0;
}
