/*
 * wrap_dl.c - dlopen, dlmopen, dlclose, dl_iterate_phdr.
 *
 * Each raises sw_tls.in_loader and sw_loader_busy around the real call
 * (sw_loader_enter): the loader lock may be held, so the sampler must not
 * unwind now (doc/design.md, "Stacks").
 * After a dlopen, the new modules are recorded.
 *
 * glibc's dlopen looks at its caller's return address to pick the
 * namespace and the DT_RUNPATH/DT_RPATH to search, so calling it from the
 * shim would search with the shim's (empty) paths.  When the caller has
 * run paths of its own or lives in another namespace and names a library
 * without a '/', the wrapper tail-calls the real dlopen instead, so that
 * glibc sees the real caller; that path cannot raise the loader marks, and the
 * new modules are picked up later (sw_modules_refresh).
 */
#undef _FORTIFY_SOURCE
#include "call.h"
#include "real.h"

#include <elf.h>
#include <link.h>
#include <string.h>

/* Would glibc search the same way for this caller as for the shim? */
static int caller_neutral(const char *file, void *caller)
{
	struct link_map *lm = NULL;
	Lmid_t lmid = LM_ID_BASE;
	const ElfW(Dyn) * dyn;
	Dl_info info;

	if (!file || strchr(file, '/'))
		return 1; /* a path: no search at all */
	if (!dladdr1(caller, &info, (void **)&lm, RTLD_DL_LINKMAP) || !lm)
		return 0;
	if (dlinfo(lm, RTLD_DI_LMID, &lmid) != 0 || lmid != LM_ID_BASE)
		return 0;
	for (dyn = lm->l_ld; dyn && dyn->d_tag != DT_NULL; dyn++) {
		if (dyn->d_tag == DT_RPATH || dyn->d_tag == DT_RUNPATH)
			return 0;
	}
	return 1;
}

static void after_dlopen(void *handle)
{
	if (handle && sw_active && !sw_tls.guard) {
		int saved = errno;

		sw_tls.guard++;
		sw_modules_scan();
		sw_tls.guard--;
		errno = saved;
	}
}

SW_EXPORT void *dlopen(const char *file, int mode)
{
	void *h;

	/* Nothing after the real call on this path: the compiler makes it a
	 * jump, and glibc sees our caller as its own. */
	if (!caller_neutral(file, SW_CALLER))
		return SW_REAL(dlopen)(file, mode);
	sw_loader_enter();
	h = SW_REAL(dlopen)(file, mode);
	sw_loader_leave();
	after_dlopen(h);
	return h;
}

SW_EXPORT void *dlmopen(Lmid_t lmid, const char *file, int mode)
{
	void *h;

	if (!caller_neutral(file, SW_CALLER))
		return SW_REAL(dlmopen)(lmid, file, mode);
	sw_loader_enter();
	h = SW_REAL(dlmopen)(lmid, file, mode);
	sw_loader_leave();
	after_dlopen(h);
	return h;
}

SW_EXPORT int dlclose(void *handle)
{
	int r;

	sw_loader_enter();
	r = SW_REAL(dlclose)(handle);
	sw_loader_leave();
	return r;
}

SW_EXPORT int dl_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *),
			      void *data)
{
	int r;

	sw_loader_enter();
	r = SW_REAL(dl_iterate_phdr)(cb, data);
	sw_loader_leave();
	return r;
}
