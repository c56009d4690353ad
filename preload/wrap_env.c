/*
 * wrap_env.c - setenv, putenv, unsetenv, clearenv: the running test's name
 * as pytest changes it.
 *
 * pytest names the running test in PYTEST_CURRENT_TEST (testname.c).  The
 * shim never reads the environment on its record path (another thread's
 * setenv may be moving the array), so these wrappers hand each change of
 * that one variable to testname.c.  The real call is made first; its
 * result and errno are the program's.
 */
#include "call.h"
#include "real.h"

#include <stdlib.h>
#include <string.h>

static int is_var(const char *name, size_t len)
{
	return name && len == SW_TEST_VAR_LEN &&
	       memcmp(name, SW_TEST_VAR, SW_TEST_VAR_LEN) == 0;
}

SW_EXPORT int setenv(const char *name, const char *value, int overwrite)
{
	int r = SW_REAL(setenv)(name, value, overwrite);

	/* overwrite=0 keeps a value that is there.  No getenv here: another
	 * thread's setenv may be moving the array. */
	if (r == 0 && is_var(name, name ? strlen(name) : 0) &&
	    (overwrite || !sw_test_env_is_set()))
		sw_test_env_set(value);
	return r;
}

SW_EXPORT int putenv(char *string)
{
	int r = SW_REAL(putenv)(string);
	const char *eq;

	/* r == 0: glibc accepted the string, so it is one. */
	if (r != 0)
		return r;
	eq = strchr(string, '=');
	if (is_var(string, eq ? (size_t)(eq - string) : strlen(string)))
		sw_test_env_set(eq ? eq + 1
				   : NULL); /* "NAME" alone removes it */
	return r;
}

SW_EXPORT int unsetenv(const char *name)
{
	int r = SW_REAL(unsetenv)(name);

	if (r == 0 && is_var(name, strlen(name)))
		sw_test_env_set(NULL);
	return r;
}

SW_EXPORT int clearenv(void)
{
	int r = SW_REAL(clearenv)();

	if (r == 0 && sw_test_env_is_set())
		sw_test_env_set(NULL);
	return r;
}
