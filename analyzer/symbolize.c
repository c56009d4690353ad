/*
 * symbolize.c - addresses -> functions, files, lines with libdwfl.
 *
 * One Dwfl per process, reported offline from the trace's module records
 * (dwfl_report_elf at the recorded bias), so the analyzer needs neither
 * the process nor its /proc maps.  Names come from dwfl_module_addrinfo
 * (symtab, else .dynsym), lines from the line table, inlined callers from
 * the DWARF scopes (DW_TAG_inlined_subroutine and its DW_AT_call_*).
 * C++ names are demangled with libstdc++'s __cxa_demangle.
 */
#include "symbolize.h"
#include "place.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <gelf.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perfmap.h"
#include "util.h"

/* libstdc++'s demangler (linked with -lstdc++). */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len,
			    int *status);

struct sym_module {
	const struct sw_tmodule *rec;
	uint64_t lo, hi;  /* runtime range covered by its segments */
	Dwfl_Module *mod; /* NULL when not reported (missing, changed) */
};

struct cache_entry {
	uint64_t pc;
	int is_pc;
	struct sw_frame *frames;
	size_t n;
};

/*
 * dwfl_module_addrinfo reads every symbol of the module on each call (a
 * linear scan): with thousands of distinct addresses in a big library that
 * is most of the symbolization time.  Its answer for one address pc0
 * settles the answer for a neighbour pc without the scan when the symbols
 * it would look at are the same for both, with the same verdicts: the
 * symbol S it returned for pc0 (sized) contains pc, no symbol of the
 * module starts between S and either address, and no symbol starting
 * below S reaches pc.  Then either S is the only symbol starting at its
 * address (so the only sized symbol containing pc), or the symbols
 * starting there all have S's size and none below S reached pc0 either
 * (so libdwfl chooses among exactly the same candidates).  Any doubt
 * falls back to libdwfl.
 */
struct sym_starts {
	Dwfl_Module *mod;
	size_t n;	     /* distinct symbol addresses, 0 when unusable */
	uint64_t *start;     /* sorted, distinct */
	uint64_t *end_below; /* highest end of the symbols starting below */
	uint64_t *one_size;  /* the size of the symbols starting there ... */
	uint8_t *several;    /* ... 0: one symbol, 1: several, one size,
			      * 2: several sizes */
	const char **name;   /* the symbol libdwfl returned there, or NULL */
	uint64_t *size;	     /* its size */
};

struct sw_symbolizer {
	Dwfl *dwfl;
	struct sym_starts *starts;
	size_t nstarts, cap_starts;
	struct sym_module *mods;
	size_t nmods, cap_mods;
	struct sw_perfmap *perfmap;
	/* Open-addressing hash: slot -> index+1 into entries, 0 empty. */
	size_t *slots;
	size_t nslots;
	struct cache_entry *entries;
	size_t nentries, cap_entries;
	char **notes;
	size_t nnotes, cap_notes;
};

static char *debuginfo_path;

static const Dwfl_Callbacks offline_callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

static void note(struct sw_symbolizer *s, char *msg)
{
	size_t i;

	for (i = 0; i < s->nnotes; i++)
		if (strcmp(s->notes[i], msg) == 0) {
			free(msg);
			return;
		}
	SW_GROW(s->notes, s->nnotes, s->cap_notes);
	s->notes[s->nnotes++] = msg;
}

char *sw_demangle(const char *name)
{
	int status = 0;
	char *d;

	if (!name || name[0] != '_' || name[1] != 'Z')
		return NULL;
	d = __cxa_demangle(name, NULL, NULL, &status);
	if (status != 0) {
		free(d);
		return NULL;
	}
	return d;
}

/* A function name for display: demangled when mangled. */
static char *display_name(const char *name)
{
	const char *at;
	char *d;

	if (!name)
		return NULL;
	d = sw_demangle(name);
	if (d)
		return d;
	/* Versioned .dynsym names (clock_gettime@@GLIBC_2.17): the
	 * version is noise in a stack. */
	at = strchr(name, '@');
	if (at && at != name)
		return xstrndup(name, (size_t)(at - name));
	return xstrdup(name);
}

/* Build-id of the file on disk; -1 when it cannot be opened as ELF. */
static int file_build_id(const char *path, uint8_t *out, size_t *len)
{
	const void *id = NULL;
	ssize_t n;
	Elf *elf;
	struct stat st;
	int fd;

	/* A trace may name any path as a module: O_NONBLOCK so that a FIFO
	 * cannot block the open, and only regular files are read. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		if (elf)
			elf_end(elf);
		close(fd);
		return -1;
	}
	n = dwelf_elf_gnu_build_id(elf, &id);
	*len = 0;
	if (n > 0 && (size_t)n <= SW_BUILD_ID_MAX) {
		memcpy(out, id, (size_t)n);
		*len = (size_t)n;
	}
	elf_end(elf);
	close(fd);
	return 0;
}

/*
 * The vDSO has no file.  When the trace was written on this kernel (same
 * build-id as our own vDSO), our copy names its functions: it is handed
 * to libdwfl through a memfd.  Returns an fd, or -1.
 */
static int own_vdso_fd(const struct sw_tmodule *m)
{
	const unsigned char *img = (const void *)getauxval(AT_SYSINFO_EHDR);
	const Elf64_Ehdr *eh = (const void *)img;
	const void *id = NULL;
	size_t size;
	ssize_t n;
	Elf *elf;
	int fd, match;

	if (!img || memcmp(img, ELFMAG, SELFMAG) != 0 ||
	    img[EI_CLASS] != ELFCLASS64 || !m->build_id_len)
		return -1;
	/* The image ends with its section headers. */
	size = (size_t)eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;
	if (size < sizeof(*eh) || size > (1u << 24))
		return -1;
	elf = elf_memory((char *)img, size);
	if (!elf)
		return -1;
	n = dwelf_elf_gnu_build_id(elf, &id);
	match = n > 0 && (size_t)n == m->build_id_len &&
		memcmp(id, m->build_id, (size_t)n) == 0;
	elf_end(elf);
	if (!match)
		return -1;
	fd = memfd_create("stallwatch-vdso", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, img, size) != (ssize_t)size) {
		close(fd);
		return -1;
	}
	return fd;
}

static int same_module(const struct sw_tmodule *a, const struct sw_tmodule *b)
{
	return a->base == b->base && a->bias == b->bias &&
	       strcmp(a->path, b->path) == 0;
}

static void add_module(struct sw_symbolizer *s, const struct sw_tmodule *m,
		       int no_symbols)
{
	struct sym_module *sm;
	uint8_t id[SW_BUILD_ID_MAX];
	size_t idlen = 0, i;

	for (i = 0; i < s->nmods; i++)
		if (same_module(s->mods[i].rec, m))
			return; /* re-recorded after a dlopen */
	SW_GROW(s->mods, s->nmods, s->cap_mods);
	sm = &s->mods[s->nmods++];
	memset(sm, 0, sizeof(*sm));
	sm->rec = m;
	sm->lo = UINT64_MAX;
	for (i = 0; i < m->nsegments; i++) {
		if (m->segments[i].start < sm->lo)
			sm->lo = m->segments[i].start;
		if (m->segments[i].end > sm->hi)
			sm->hi = m->segments[i].end;
	}
	if (sm->lo > sm->hi)
		sm->lo = sm->hi = m->base;
	if (no_symbols || !s->dwfl)
		return;
	if (m->flags & SW_MOD_VDSO) {
		int fd = own_vdso_fd(m);

		/* libdwfl owns fd from here. */
		if (fd >= 0)
			sm->mod = dwfl_report_elf(s->dwfl, "[vdso]", "[vdso]",
						  fd, m->bias, true);
		return;
	}
	if (!m->path[0] || m->path[0] != '/')
		return; /* anonymous objects have no file */
	if (file_build_id(m->path, id, &idlen) != 0) {
		note(s, xasprintf("%s: cannot read it; its frames are left as "
				  "addresses",
				  m->path));
		return;
	}
	if (m->build_id_len &&
	    (idlen != m->build_id_len || memcmp(id, m->build_id, idlen) != 0)) {
		note(s, xasprintf("%s: changed since the trace was written "
				  "(build-id differs); its frames are left as "
				  "addresses",
				  m->path));
		return;
	}
	sm->mod = dwfl_report_elf(s->dwfl, m->path, m->path, -1, m->bias, true);
	if (!sm->mod)
		note(s, xasprintf("%s: libdwfl: %s", m->path, dwfl_errmsg(-1)));
}

struct sw_symbolizer *sw_sym_open(const struct sw_trace *t, int no_symbols,
				  const char *perfmap_path)
{
	struct sw_symbolizer *s = xcalloc(1, sizeof(*s));
	size_t i;

	if (!no_symbols) {
		s->dwfl = dwfl_begin(&offline_callbacks);
		if (s->dwfl)
			dwfl_report_begin(s->dwfl);
		else
			note(s, xasprintf("libdwfl: %s", dwfl_errmsg(-1)));
	}
	/* Later records first: after a dlclose/dlopen at the same address
	 * the newer object is the likelier owner of the addresses. */
	for (i = t->nmodules; i-- > 0;)
		add_module(s, &t->modules[i], no_symbols);
	if (s->dwfl)
		dwfl_report_end(s->dwfl, NULL, NULL);
	if (perfmap_path)
		s->perfmap = sw_perfmap_load(perfmap_path);
	s->nslots = 1024;
	s->slots = xcalloc(s->nslots, sizeof(*s->slots));
	return s;
}

static const struct sym_module *module_of(const struct sw_symbolizer *s,
					  uint64_t pc)
{
	size_t i, j;

	for (i = 0; i < s->nmods; i++) {
		const struct sw_tmodule *m = s->mods[i].rec;

		if (pc < s->mods[i].lo || pc >= s->mods[i].hi)
			continue;
		for (j = 0; j < m->nsegments; j++)
			if (pc >= m->segments[j].start &&
			    pc < m->segments[j].end)
				return &s->mods[i];
	}
	return NULL;
}

struct frame_vec {
	struct sw_frame *v;
	size_t n, cap;
};

static struct sw_frame *push_frame(struct frame_vec *fv, uint64_t ip,
				   const struct sym_module *sm)
{
	struct sw_frame *f;

	SW_GROW(fv->v, fv->n, fv->cap);
	f = &fv->v[fv->n++];
	memset(f, 0, sizeof(*f));
	f->lang = SW_LANG_NATIVE;
	f->addr = ip;
	if (sm) {
		f->module =
		    xstrdup(sm->rec->path[0]		     ? sm->rec->path
			    : (sm->rec->flags & SW_MOD_VDSO) ? "[vdso]"
							     : "[anon]");
		f->rel_addr = ip - sm->rec->base;
	}
	return f;
}

/* DW_AT_linkage_name (demangled) or DW_AT_name of a subprogram or an
 * inlined instance, following its abstract origin. */
static char *die_function_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name;

	name = dwarf_formstring(
	    dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
	if (!name)
		name = dwarf_formstring(
		    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
	if (!name)
		name = dwarf_diename(die);
	return display_name(name);
}

/*
 * Expand pc into its inlined frames and the function containing them:
 * the innermost frame takes pc's own line; each inlined instance's
 * DW_AT_call_file/DW_AT_call_line is the location in the frame around it.
 */
static int expand_inlines(struct frame_vec *fv, Dwfl_Module *mod, uint64_t pc,
			  uint64_t ip, const struct sym_module *sm,
			  const char *symname, const char *file, int line)
{
	Dwarf_Addr bias = 0;
	Dwarf_Die *cudie, *scopes = NULL, *chain = NULL;
	Dwarf_Files *files = NULL;
	int nscopes, nchain, i, emitted = 0;
	char *cur_file = file ? xstrdup(file) : NULL;
	int cur_line = line;

	cudie = dwfl_module_addrdie(mod, pc, &bias);
	if (!cudie)
		goto out;
	nscopes = dwarf_getscopes(cudie, pc - bias, &scopes);
	if (nscopes <= 0)
		goto out;
	/* The concrete parents of the innermost scope: inlined instances
	 * nest inside their callers there (as eu-addr2line -i does). */
	nchain = dwarf_getscopes_die(&scopes[0], &chain);
	if (nchain <= 0)
		goto out;
	if (dwarf_getsrcfiles(cudie, &files, NULL) != 0)
		files = NULL;
	for (i = 0; i < nchain; i++) {
		Dwarf_Die *die = &chain[i];
		int tag = dwarf_tag(die);
		struct sw_frame *f;
		Dwarf_Attribute attr;
		Dwarf_Word val;

		if (tag != DW_TAG_inlined_subroutine &&
		    tag != DW_TAG_subprogram)
			continue;
		f = push_frame(fv, ip, sm);
		f->file = cur_file;
		f->line = cur_line > 0 ? cur_line : 0;
		cur_file = NULL;
		emitted++;
		if (tag == DW_TAG_subprogram) {
			/* The symbol's name is the real function (it also
			 * covers .cold parts); DWARF's when there is none. */
			f->function = symname ? display_name(symname)
					      : die_function_name(die);
			break;
		}
		f->function = die_function_name(die);
		f->inlined = 1;
		cur_line = 0;
		if (dwarf_formudata(dwarf_attr(die, DW_AT_call_line, &attr),
				    &val) == 0 &&
		    val < 10000000)
			cur_line = (int)val;
		if (files &&
		    dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &attr),
				    &val) == 0) {
			const char *fn = dwarf_filesrc(files, val, NULL, NULL);

			if (fn)
				cur_file = xstrdup(fn);
		}
	}
	if (emitted && fv->v[fv->n - 1].inlined) {
		/* No subprogram above the inlined instances (odd DWARF):
		 * close the stack with the symbol's function. */
		struct sw_frame *f = push_frame(fv, ip, sm);

		f->function = display_name(symname);
		f->file = cur_file;
		f->line = cur_line;
		cur_file = NULL;
	}
out:
	free(cur_file);
	free(scopes);
	free(chain);
	return emitted;
}

struct sym_span {
	uint64_t lo, hi;
};

static int span_cmp(const void *x, const void *y)
{
	const struct sym_span *a = x, *b = y;

	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

/* The symbol addresses of mod (every symbol libdwfl's lookup may look
 * at), built on the first lookup in it. */
static struct sym_starts *starts_of(struct sw_symbolizer *s, Dwfl_Module *mod)
{
	struct sym_starts *st;
	struct sym_span *sp;
	size_t i, n = 0, k;
	uint64_t maxend = 0;
	int nsyms;

	for (i = 0; i < s->nstarts; i++)
		if (s->starts[i].mod == mod)
			return &s->starts[i];
	SW_GROW(s->starts, s->nstarts, s->cap_starts);
	st = &s->starts[s->nstarts++];
	memset(st, 0, sizeof(*st));
	st->mod = mod;
	nsyms = dwfl_module_getsymtab(mod);
	if (nsyms <= 1)
		return st;
	sp = xcalloc((size_t)nsyms, sizeof(*sp));
	for (i = 1; i < (size_t)nsyms; i++) {
		GElf_Sym sym;
		GElf_Addr addr = 0;
		GElf_Word shndx;

		if (!dwfl_module_getsym_info(mod, (int)i, &sym, &addr, &shndx,
					     NULL, NULL)) {
			/* A symbol we cannot see may be one libdwfl picks:
			 * no shortcut in this module. */
			free(sp);
			return st;
		}
		sp[n].lo = addr;
		sp[n].hi =
		    addr + sym.st_size < addr ? UINT64_MAX : addr + sym.st_size;
		n++;
	}
	qsort(sp, n, sizeof(*sp), span_cmp);
	st->start = xcalloc(n, sizeof(*st->start));
	st->one_size = xcalloc(n, sizeof(*st->one_size));
	st->several = xcalloc(n, sizeof(*st->several));
	st->end_below = xcalloc(n, sizeof(*st->end_below));
	st->name = xcalloc(n, sizeof(*st->name));
	st->size = xcalloc(n, sizeof(*st->size));
	for (i = 0, k = 0; i < n; k++) {
		size_t j = i;
		uint64_t hi = 0;

		st->start[k] = sp[i].lo;
		st->end_below[k] = maxend;
		st->one_size[k] = sp[i].hi - sp[i].lo;
		while (j < n && sp[j].lo == sp[i].lo) {
			if (sp[j].hi > hi)
				hi = sp[j].hi;
			if (j > i)
				st->several[k] =
				    sp[j].hi == sp[i].hi && st->several[k] != 2
					? 1
					: 2;
			j++;
		}
		if (hi > maxend)
			maxend = hi;
		i = j;
	}
	st->n = k;
	free(sp);
	return st;
}

/* Index of the highest start <= pc, or -1. */
static long start_at(const struct sym_starts *st, uint64_t pc)
{
	size_t lo = 0, hi = st->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->start[mid] <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

/* dwfl_module_addrinfo's name for pc (see struct sym_starts). */
static const char *symbol_name(struct sw_symbolizer *s, Dwfl_Module *mod,
			       uint64_t pc)
{
	struct sym_starts *st = starts_of(s, mod);
	GElf_Off off = 0;
	GElf_Sym sym;
	const char *name;
	long k = st->n ? start_at(st, pc) : -1;

	if (k >= 0 && st->name[k] && pc - st->start[k] < st->size[k] &&
	    st->end_below[k] <= pc)
		return st->name[k];
	name = dwfl_module_addrinfo(mod, pc, &off, &sym, NULL, NULL, NULL);
	if (name && sym.st_size && off <= pc && k >= 0 &&
	    st->start[k] == pc - off && off < sym.st_size &&
	    st->one_size[k] == sym.st_size &&
	    (st->several[k] == 0 ||
	     (st->several[k] == 1 && st->end_below[k] <= pc))) {
		st->name[k] = name;
		st->size[k] = sym.st_size;
	}
	return name;
}

static void lookup(struct sw_symbolizer *s, uint64_t ip, uint64_t pc,
		   struct frame_vec *fv)
{
	const struct sym_module *sm = module_of(s, pc);
	Dwfl_Module *mod = NULL;
	const char *symname = NULL, *file = NULL;
	int line = 0;
	struct sw_frame *f;

	if (s->dwfl)
		mod = dwfl_addrmodule(s->dwfl, pc);
	if (mod) {
		Dwfl_Line *dl;

		symname = symbol_name(s, mod, pc);
		dl = dwfl_module_getsrc(mod, pc);
		if (dl)
			file = dwfl_lineinfo(dl, NULL, &line, NULL, NULL, NULL);
		if (expand_inlines(fv, mod, pc, ip, sm, symname, file, line) >
		    0)
			return;
		f = push_frame(fv, ip, sm);
		f->function = display_name(symname);
		f->file = file ? xstrdup(file) : NULL;
		f->line = line > 0 ? line : 0;
		if (!f->module) {
			const char *mname = dwfl_module_info(
			    mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

			f->module = mname ? xstrdup(mname) : NULL;
		}
		return;
	}
	if (!sm && s->perfmap) {
		const char *js = sw_perfmap_lookup(s->perfmap, pc);

		if (js) {
			f = push_frame(fv, ip, NULL);
			f->lang = SW_LANG_JS;
			sw_js_split(js, f);
			return;
		}
	}
	push_frame(fv, ip, sm);
}

static size_t hash_pc(uint64_t pc, int is_pc)
{
	pc ^= (uint64_t)is_pc << 63;
	pc *= 0x9e3779b97f4a7c15ull;
	return (size_t)(pc >> 20);
}

static void rehash(struct sw_symbolizer *s)
{
	size_t i;

	free(s->slots);
	s->nslots *= 2;
	s->slots = xcalloc(s->nslots, sizeof(*s->slots));
	for (i = 0; i < s->nentries; i++) {
		size_t h = hash_pc(s->entries[i].pc, s->entries[i].is_pc) &
			   (s->nslots - 1);

		while (s->slots[h])
			h = (h + 1) & (s->nslots - 1);
		s->slots[h] = i + 1;
	}
}

size_t sw_sym_addr(struct sw_symbolizer *s, uint64_t ip, int is_pc,
		   const struct sw_frame **frames)
{
	uint64_t pc = is_pc || ip == 0 ? ip : ip - 1;
	size_t h = hash_pc(pc, is_pc) & (s->nslots - 1);
	struct frame_vec fv = {0};
	struct cache_entry *e;

	while (s->slots[h]) {
		e = &s->entries[s->slots[h] - 1];
		if (e->pc == pc && e->is_pc == is_pc) {
			*frames = e->frames;
			return e->n;
		}
		h = (h + 1) & (s->nslots - 1);
	}
	lookup(s, ip, pc, &fv);
	if (fv.n == 0)
		push_frame(&fv, ip, NULL);
	SW_GROW(s->entries, s->nentries, s->cap_entries);
	e = &s->entries[s->nentries++];
	e->pc = pc;
	e->is_pc = is_pc;
	e->frames = fv.v;
	e->n = fv.n;
	s->slots[h] = s->nentries;
	if (s->nentries * 2 > s->nslots)
		rehash(s);
	*frames = e->frames;
	return e->n;
}

size_t sw_sym_notes(const struct sw_symbolizer *s, char *const **notes)
{
	*notes = s->notes;
	return s->nnotes;
}

void sw_sym_close(struct sw_symbolizer *s)
{
	size_t i, j;

	if (!s)
		return;
	if (s->dwfl)
		dwfl_end(s->dwfl);
	for (i = 0; i < s->nentries; i++) {
		for (j = 0; j < s->entries[i].n; j++) {
			free(s->entries[i].frames[j].function);
			free(s->entries[i].frames[j].file);
			free(s->entries[i].frames[j].module);
		}
		free(s->entries[i].frames);
	}
	free(s->entries);
	free(s->slots);
	for (i = 0; i < s->nnotes; i++)
		free(s->notes[i]);
	free(s->notes);
	free(s->mods);
	for (i = 0; i < s->nstarts; i++) {
		free(s->starts[i].start);
		free(s->starts[i].one_size);
		free(s->starts[i].several);
		free(s->starts[i].end_below);
		free(s->starts[i].name);
		free(s->starts[i].size);
	}
	free(s->starts);
	sw_perfmap_free(s->perfmap);
	free(s);
}
