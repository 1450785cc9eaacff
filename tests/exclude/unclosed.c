/* Markers that do not pair up (tests/exclude.rs): a STOP without a START,
   then a START that is never closed. */
int u_first(int x)
{
	if (x > 2) /* LCOV_EXCL_STOP */
		return 1;
	return 0;
}

/* LCOV_EXCL_START */
int u_second(int x)
{
	if (x > 2)
		return 1;
	return 0;
}
