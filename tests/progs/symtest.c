/*
 * symtest.c - a binary with known functions and lines, for the
 * symbolization test (tests/unit/test_symbolize.c).
 *
 * It prints its own module map (as the shim would record it) and
 * addresses whose function and line it knows, one per line:
 *   module PATH BIAS BASE BUILDID
 *   seg START END OFFSET PROT
 *   ret ADDR LINE FUNCTION [INLINED_INTO CALL_LINE]   (a return address)
 *   pc ADDR FUNCTION                                   (a function's entry)
 * The test turns these into a trace and checks what the symbolizer says.
 */
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static __attribute__((noinline)) void *where(void)
{
	return __builtin_return_address(0);
}

static __attribute__((noinline)) void symtest_known_function(void)
{
	void *ra;
	/* The call and __LINE__ in one statement: the line of the call. */
	int line = (ra = where(), __LINE__);

	printf("ret %p %d symtest_known_function\n", ra, line);
}

static inline __attribute__((always_inline)) void
symtest_inlined_helper(int call_line)
{
	void *ra;
	/* The call and __LINE__ in one statement: the line of the call. */
	int line = (ra = where(), __LINE__);

	printf("ret %p %d symtest_inlined_helper symtest_outer_function %d\n",
	       ra, line, call_line);
}

static __attribute__((noinline)) void symtest_outer_function(void)
{
	symtest_inlined_helper(__LINE__);
}

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	char exe[4096];
	ssize_t n;
	uint64_t base = 0;
	int i, have_base = 0;

	(void)size;
	(void)data;
	if (info->dlpi_name && info->dlpi_name[0])
		return 0; /* only the executable */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		exit(1);
	exe[n] = 0;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && ph->p_offset == 0 && !have_base) {
			base = info->dlpi_addr + ph->p_vaddr;
			have_base = 1;
		}
	}
	printf("module %s 0x%llx 0x%llx ", exe,
	       (unsigned long long)info->dlpi_addr, (unsigned long long)base);
	/* The GNU build-id from the PT_NOTE segments. */
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const char *p, *end;

		if (ph->p_type != PT_NOTE)
			continue;
		p = (const char *)(info->dlpi_addr + ph->p_vaddr);
		end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			const unsigned char *desc = (const unsigned char *)p +
						    sizeof(*nh) +
						    ((nh->n_namesz + 3) & ~3u);

			if (nh->n_type == NT_GNU_BUILD_ID &&
			    nh->n_namesz == 4 &&
			    !memcmp(p + sizeof(*nh), "GNU", 4)) {
				unsigned j;

				for (j = 0; j < nh->n_descsz; j++)
					printf("%02x", desc[j]);
			}
			p += sizeof(*nh) + ((nh->n_namesz + 3) & ~3u) +
			     ((nh->n_descsz + 3) & ~3u);
		}
	}
	printf("\n");
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD)
			continue;
		printf("seg 0x%llx 0x%llx 0x%llx %u\n",
		       (unsigned long long)(info->dlpi_addr + ph->p_vaddr),
		       (unsigned long long)(info->dlpi_addr + ph->p_vaddr +
					    ph->p_memsz),
		       (unsigned long long)ph->p_offset, (unsigned)ph->p_flags);
	}
	return 1;
}

int main(void)
{
	dl_iterate_phdr(phdr_cb, NULL);
	symtest_known_function();
	symtest_outer_function();
	printf("pc %p symtest_known_function\n",
	       (void *)symtest_known_function);
	printf("pc %p symtest_outer_function\n",
	       (void *)symtest_outer_function);
	return 0;
}
