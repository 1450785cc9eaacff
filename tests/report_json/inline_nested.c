#include <stdlib.h>

static int late(int x);
static inline __attribute__((always_inline)) int forced(int x);

int outer(int n)
{
	int acc = 0;
	__attribute__((noinline)) int nested(int k)
	{
		if (k % 3 == 0)
			return k;
		return -k;
	}
	for (int i = 0; i < n; i++)
		acc += nested(i);
	acc += forced(n);
	return acc;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 5;
	int s = 0;
	for (int i = 0; i < n; i++)
		s += late(i);
	s += outer(n);
	return s == 12345;
}

static int late(int x)
{
	if (x > 3)
		return x * 2;
	return x + 1;
}

static inline __attribute__((always_inline)) int forced(int x)
{
	int r = x;
	if (r & 1)
		r += 7;
	return r;
}
