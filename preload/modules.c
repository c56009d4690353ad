/*
 * modules.c - SW_REC_MODULE records: every loaded ELF object, so the
 * analyzer can symbolize raw addresses after the process is gone.
 *
 * Walks dl_iterate_phdr at start and after each dlopen (wrap_dl.c), and
 * emits only objects it has not recorded yet.  Everything comes from
 * memory: the PT_LOAD segments, the load bias, the offset-0 mapping that
 * libdwfl wants, and the GNU build-id from the mapped PT_NOTE, so no file
 * is opened while the loader lock is held.
 */
#include "modules.h"
#include "call.h"
#include "writer.h"
#include "real.h"

#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#define SW_MAX_SEEN 4096

static pthread_mutex_t scan_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t seen[SW_MAX_SEEN]; /* keys of modules already recorded */
static unsigned nseen;
static unsigned long long last_adds, last_subs;
static char exe_path[SW_MAX_STR];
static size_t exe_len;
/*
 * Every module record written so far, for a forked child to replay: its
 * atfork handler must not call dl_iterate_phdr, because glibc does not
 * reset the loader's write lock in the child, and a parent thread may
 * have held it at fork time.
 */
static char replay[512 * 1024];
static size_t replay_len;

static uint64_t module_key(const struct dl_phdr_info *info)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a of the name */
	const char *s;

	for (s = info->dlpi_name ? info->dlpi_name : ""; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h ^ ((uint64_t)info->dlpi_addr * 0x9e3779b97f4a7c15ull) ^
	       (uint64_t)(uintptr_t)info->dlpi_phdr;
}

static int was_seen(uint64_t key)
{
	unsigned i;

	for (i = 0; i < nseen; i++) {
		if (seen[i] == key)
			return 1;
	}
	return 0;
}

/* Is [addr, addr+len) inside a PT_LOAD segment's file-backed bytes? */
static int mapped(const struct dl_phdr_info *info, uint64_t vaddr, uint64_t len)
{
	int i;

	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && vaddr >= ph->p_vaddr &&
		    vaddr + len <= ph->p_vaddr + ph->p_filesz)
			return 1;
	}
	return 0;
}

/* The GNU build-id from the in-memory notes; its length, 0 if none. */
static size_t find_build_id(const struct dl_phdr_info *info, uint8_t *out)
{
	int i;

	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const uint8_t *p, *end;

		if (ph->p_type != PT_NOTE ||
		    !mapped(info, ph->p_vaddr, ph->p_filesz))
			continue;
		p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
		end = p + ph->p_filesz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			size_t namesz = (nh->n_namesz + 3) & ~3u;
			size_t descsz = (nh->n_descsz + 3) & ~3u;
			const uint8_t *name = p + sizeof(*nh);
			const uint8_t *desc = name + namesz;

			if (desc + descsz > end || desc < name)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID &&
			    nh->n_namesz == 4 && memcmp(name, "GNU", 4) == 0 &&
			    nh->n_descsz > 0 &&
			    nh->n_descsz <= SW_BUILD_ID_MAX) {
				memcpy(out, desc, nh->n_descsz);
				return nh->n_descsz;
			}
			p = desc + descsz;
		}
	}
	return 0;
}

static void emit_module(const struct dl_phdr_info *info, int is_main)
{
	char buf[sizeof(struct sw_rec_module) +
		 SW_MAX_SEGMENTS * sizeof(struct sw_segment) + SW_BUILD_ID_MAX +
		 SW_MAX_STR];
	struct sw_rec_module *m = (struct sw_rec_module *)buf;
	struct sw_segment *seg = (struct sw_segment *)(buf + sizeof(*m));
	uint8_t build_id[SW_BUILD_ID_MAX];
	const char *path = info->dlpi_name ? info->dlpi_name : "";
	size_t path_len, id_len, nseg = 0;
	uint64_t base = 0;
	int i, have_base = 0;
	char *tail;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < info->dlpi_phnum && nseg < SW_MAX_SEGMENTS; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD)
			continue;
		seg[nseg].start = info->dlpi_addr + ph->p_vaddr;
		seg[nseg].end = seg[nseg].start + ph->p_memsz;
		seg[nseg].offset = ph->p_offset;
		seg[nseg].prot = ph->p_flags & (PF_R | PF_W | PF_X);
		seg[nseg].pad = 0;
		if (!have_base) {
			/* The first PT_LOAD maps the start of the file (page
			 * aligned), so offset 0 sits at vaddr - offset. */
			base = info->dlpi_addr + ph->p_vaddr - ph->p_offset;
			have_base = 1;
		}
		nseg++;
	}
	if (!nseg)
		return;
	if (base == getauxval(AT_SYSINFO_EHDR))
		m->mod_flags |= SW_MOD_VDSO;
	if (is_main) {
		m->mod_flags |= SW_MOD_MAIN;
		path = exe_path;
	}
	path_len = strlen(path);
	if (path_len > SW_MAX_STR)
		path_len = SW_MAX_STR;
	id_len = find_build_id(info, build_id);

	m->h.type = SW_REC_MODULE;
	m->bias = info->dlpi_addr;
	m->base = base;
	m->nsegments = (uint32_t)nseg;
	m->build_id_len = (uint16_t)id_len;
	m->path_len = (uint16_t)path_len;
	tail = (char *)(seg + nseg);
	memcpy(tail, build_id, id_len);
	memcpy(tail + id_len, path, path_len);
	m->h.size = (uint32_t)(tail + id_len + path_len - buf);
	sw_emit(buf, m->h.size);
	if (replay_len + m->h.size <= sizeof(replay)) {
		memcpy(replay + replay_len, buf, m->h.size);
		/* A child forked right now sees the old length: a whole
		 * record or none of it. */
		__atomic_store_n(&replay_len, replay_len + m->h.size,
				 __ATOMIC_RELEASE);
	}
}

struct scan_state {
	int index;
};

static int scan_one(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct scan_state *st = arg;
	int is_main = st->index++ == 0;
	uint64_t key;

	if (size >= offsetof(struct dl_phdr_info, dlpi_subs) +
			sizeof(info->dlpi_subs)) {
		last_adds = info->dlpi_adds;
		last_subs = info->dlpi_subs;
	}
	key = module_key(info);
	if (was_seen(key))
		return 0;
	emit_module(info, is_main);
	if (nseen < SW_MAX_SEEN)
		seen[nseen++] = key;
	return 0;
}

/*
 * `wait` is for the constructor and the fork child.  Elsewhere the caller
 * may be inside the loader (a constructor run by dlopen) while another
 * thread holds scan_lock and waits for the loader lock: never block, skip;
 * the loader's counters stay ahead of last_adds, so the next refresh
 * scans again.
 */
static void scan(int wait)
{
	struct scan_state st = {0};

	sw_tls.guard++;
	if (wait)
		SW_REAL(pthread_mutex_lock)(&scan_lock);
	else if (pthread_mutex_trylock(&scan_lock) != 0)
		goto out;
	if (!exe_len) {
		ssize_t n =
		    readlink("/proc/self/exe", exe_path, sizeof(exe_path) - 1);

		exe_len = n > 0 ? (size_t)n : 0;
		exe_path[exe_len] = 0;
	}
	sw_loader_enter();
	SW_REAL(dl_iterate_phdr)(scan_one, &st);
	sw_loader_leave();
	pthread_mutex_unlock(&scan_lock);
out:
	sw_tls.guard--;
}

void sw_modules_scan(void)
{
	scan(0);
}

void sw_modules_scan_all(void)
{
	scan(1);
}

static int peek_counters(struct dl_phdr_info *info, size_t size, void *arg)
{
	unsigned long long *c = arg;

	if (size >= offsetof(struct dl_phdr_info, dlpi_subs) +
			sizeof(info->dlpi_subs)) {
		c[0] = info->dlpi_adds;
		c[1] = info->dlpi_subs;
	}
	return 1; /* the counters are the same in every entry: stop */
}

void sw_modules_refresh(void)
{
	unsigned long long c[2] = {0, 0};

	if (sw_tls.in_loader)
		return;
	sw_loader_enter();
	SW_REAL(dl_iterate_phdr)(peek_counters, c);
	sw_loader_leave();
	if (c[0] != __atomic_load_n(&last_adds, __ATOMIC_RELAXED) ||
	    c[1] != __atomic_load_n(&last_subs, __ATOMIC_RELAXED))
		scan(0);
}

void sw_modules_atfork_child(void)
{
	/* The lock may have been held by a thread that does not exist in
	 * the child. */
	pthread_mutex_init(&scan_lock, NULL);
}

void sw_modules_replay(void)
{
	size_t len = __atomic_load_n(&replay_len, __ATOMIC_ACQUIRE), off = 0;

	while (off + sizeof(struct sw_rec_hdr) <= len) {
		const struct sw_rec_hdr *h =
		    (const struct sw_rec_hdr *)(replay + off);

		if (h->size < sizeof(*h) || off + h->size > len)
			break;
		sw_emit(h, h->size);
		off += h->size;
	}
}
