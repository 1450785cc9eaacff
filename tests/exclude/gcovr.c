/* gcovr's exclusion markers, one of each (tests/exclude.rs). */
int g_clamp(int x)
{
	if (x < 0) // GCOVR_EXCL_BR_LINE
		return 0;
	if (x > 1000)
		return 1000; // GCOVR_EXCL_LINE
	return x;
}

// GCOVR_EXCL_START
int g_unused(int x)
{
	for (int i = 0; i < x; i++)
		x += i;
	return x;
}
// GCOVR_EXCL_STOP

int g_sum(int n)
{
	int s = 0;
	// GCOVR_EXCL_BR_START
	for (int i = 0; i < n; i++)
		if (i & 1)
			s += i;
	// GCOVR_EXCL_BR_STOP
	return s > 5 ? s : -s;
}
