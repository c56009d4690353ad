/*
 * pylayout.h - where CPython keeps what the frame walker reads, per
 * version (x86_64, default builds, no free threading).
 *
 * Every value here was compiled with offsetof() against the installed
 * headers of that version (tests/progs/python/pyoffsets_probe.c), and
 * tests/integration/test_pyoffsets.c checks them again against each
 * interpreter found on the machine.  3.13 publishes most of these in
 * _Py_DebugOffsets at the start of _PyRuntime; pyframes.c reads them from
 * there at run time and uses this table only for the rest (and as the
 * expected values the test compares).
 *
 * A value of -1 means "this version has no such field".
 */
#ifndef SW_PYLAYOUT_H
#define SW_PYLAYOUT_H

#include <stddef.h>

enum sw_py_model {
	SW_PYM_FRAMEOBJ = 1, /* 3.9, 3.10: PyFrameObject chain, tstate->frame */
	SW_PYM_IFRAME = 2,   /* 3.11+: _PyInterpreterFrame chain */
};

enum sw_py_linetable {
	SW_PYLT_LNOTAB = 1,    /* 3.9: (addr delta, line delta) byte pairs */
	SW_PYLT_PAIRS310 = 2,  /* 3.10: (length, line delta or -128) pairs */
	SW_PYLT_LOCATIONS = 3, /* 3.11+: location table entries */
};

struct sw_pylayout {
	int minor;     /* 3.minor */
	int model;     /* enum sw_py_model */
	int lt_format; /* enum sw_py_linetable */
	/* thread state -> innermost frame */
	int ts_frame;  /* tstate->frame (<3.11), ->current_frame (3.13+) */
	int ts_cframe; /* tstate->cframe (3.11, 3.12) */
	int cframe_current_frame; /* _PyCFrame.current_frame (3.11, 3.12) */
	/* frame */
	int fr_back;  /* f_back / previous */
	int fr_code;  /* f_code / f_executable */
	int fr_lasti; /* int f_lasti (<3.11), prev_instr (3.11, 3.12), instr_ptr
			 (3.13) */
	int fr_owner; /* char owner (3.11+) */
	int fr_is_entry;	/* bool is_entry (3.11 only) */
	int owned_by_generator; /* FRAME_OWNED_BY_GENERATOR */
	int owned_by_cstack;	/* FRAME_OWNED_BY_CSTACK (3.12+) */
	/* code object */
	int co_firstlineno;
	int co_filename;
	int co_name;
	int co_qualname;       /* 3.11+ */
	int co_linetable;      /* co_lnotab on 3.9 */
	int co_code;	       /* 3.11+: co_code_adaptive (inline bytecode) */
	int co_firsttraceable; /* 3.11+: int _co_firsttraceable */
	/* objects */
	int ob_type;
	int bytes_ob_size;
	int bytes_ob_sval;
	int uni_length;
	int uni_state;
	int uni_ascii_size;   /* sizeof(PyASCIIObject) */
	int uni_compact_size; /* sizeof(PyCompactUnicodeObject) */
	/* the GIL's condition variable */
	int gil_cond_in_runtime; /* 3.9-3.11: &_PyRuntime.ceval.gil.cond */
	int rt_interp_main;	 /* 3.12+: _PyRuntime.interpreters.main */
	int interp_gil_ptr;	 /* 3.12+: PyInterpreterState.ceval.gil */
	int gil_cond;		 /* 3.12+: struct _gil_runtime_state.cond */
};

static const struct sw_pylayout sw_pylayouts[] = {
    {
	.minor = 9,
	.model = SW_PYM_FRAMEOBJ,
	.lt_format = SW_PYLT_LNOTAB,
	.ts_frame = 24,
	.ts_cframe = -1,
	.cframe_current_frame = -1,
	.fr_back = 24,
	.fr_code = 32,
	.fr_lasti = 104,
	.fr_owner = -1,
	.fr_is_entry = -1,
	.owned_by_generator = -1,
	.owned_by_cstack = -1,
	.co_firstlineno = 40,
	.co_filename = 104,
	.co_name = 112,
	.co_qualname = -1,
	.co_linetable = 120,
	.co_code = 48,
	.co_firsttraceable = -1,
	.ob_type = 8,
	.bytes_ob_size = 16,
	.bytes_ob_sval = 32,
	.uni_length = 16,
	.uni_state = 32,
	.uni_ascii_size = 48,
	.uni_compact_size = 72,
	.gil_cond_in_runtime = 384,
	.rt_interp_main = -1,
	.interp_gil_ptr = -1,
	.gil_cond = -1,
    },
    {
	.minor = 10,
	.model = SW_PYM_FRAMEOBJ,
	.lt_format = SW_PYLT_PAIRS310,
	.ts_frame = 24,
	.ts_cframe = -1,
	.cframe_current_frame = -1,
	.fr_back = 24,
	.fr_code = 32,
	.fr_lasti = 96,
	.fr_owner = -1,
	.fr_is_entry = -1,
	.owned_by_generator = -1,
	.owned_by_cstack = -1,
	.co_firstlineno = 40,
	.co_filename = 104,
	.co_name = 112,
	.co_qualname = -1,
	.co_linetable = 120,
	.co_code = 48,
	.co_firsttraceable = -1,
	.ob_type = 8,
	.bytes_ob_size = 16,
	.bytes_ob_sval = 32,
	.uni_length = 16,
	.uni_state = 32,
	.uni_ascii_size = 48,
	.uni_compact_size = 72,
	.gil_cond_in_runtime = 384,
	.rt_interp_main = -1,
	.interp_gil_ptr = -1,
	.gil_cond = -1,
    },
    {
	.minor = 11,
	.model = SW_PYM_IFRAME,
	.lt_format = SW_PYLT_LOCATIONS,
	.ts_frame = -1,
	.ts_cframe = 56,
	.cframe_current_frame = 8,
	.fr_back = 48,
	.fr_code = 32,
	.fr_lasti = 56,
	.fr_owner = 69,
	.fr_is_entry = 68,
	.owned_by_generator = 1,
	.owned_by_cstack = -1,
	.co_firstlineno = 72,
	.co_filename = 112,
	.co_name = 120,
	.co_qualname = 128,
	.co_linetable = 136,
	.co_code = 184,
	.co_firsttraceable = 168,
	.ob_type = 8,
	.bytes_ob_size = 16,
	.bytes_ob_sval = 32,
	.uni_length = 16,
	.uni_state = 32,
	.uni_ascii_size = 48,
	.uni_compact_size = 72,
	.gil_cond_in_runtime = 392,
	.rt_interp_main = -1,
	.interp_gil_ptr = -1,
	.gil_cond = -1,
    },
    {
	.minor = 12,
	.model = SW_PYM_IFRAME,
	.lt_format = SW_PYLT_LOCATIONS,
	.ts_frame = -1,
	.ts_cframe = 56,
	.cframe_current_frame = 0,
	.fr_back = 8,
	.fr_code = 0,
	.fr_lasti = 56,
	.fr_owner = 70,
	.fr_is_entry = -1,
	.owned_by_generator = 1,
	.owned_by_cstack = 3,
	.co_firstlineno = 68,
	.co_filename = 112,
	.co_name = 120,
	.co_qualname = 128,
	.co_linetable = 136,
	.co_code = 192,
	.co_firsttraceable = 176,
	.ob_type = 8,
	.bytes_ob_size = 16,
	.bytes_ob_sval = 32,
	.uni_length = 16,
	.uni_state = 32,
	.uni_ascii_size = 40,
	.uni_compact_size = 56,
	.gil_cond_in_runtime = -1,
	.rt_interp_main = 48,
	.interp_gil_ptr = 384,
	.gil_cond = 32,
    },
    {
	/* Overridden from _Py_DebugOffsets at run time where it has them. */
	.minor = 13,
	.model = SW_PYM_IFRAME,
	.lt_format = SW_PYLT_LOCATIONS,
	.ts_frame = 72,
	.ts_cframe = -1,
	.cframe_current_frame = -1,
	.fr_back = 8,
	.fr_code = 0,
	.fr_lasti = 56,
	.fr_owner = 70,
	.fr_is_entry = -1,
	.owned_by_generator = 1,
	.owned_by_cstack = 3,
	.co_firstlineno = 68,
	.co_filename = 112,
	.co_name = 120,
	.co_qualname = 128,
	.co_linetable = 136,
	.co_code = 200,
	.co_firsttraceable = 184,
	.ob_type = 8,
	.bytes_ob_size = 16,
	.bytes_ob_sval = 32,
	.uni_length = 16,
	.uni_state = 32,
	.uni_ascii_size = 40,
	.uni_compact_size = 56,
	.gil_cond_in_runtime = -1,
	.rt_interp_main = 640,
	.interp_gil_ptr = 16,
	.gil_cond = 32,
    },
};

/* 3.13: where each value sits inside _Py_DebugOffsets (its own layout is
 * stable only within 3.13.x, hence a table of its own). */
struct sw_py313_dbg {
	int version, free_threaded;
	int ts_current_frame;
	int fr_previous, fr_executable, fr_instr_ptr, fr_owner;
	int co_filename, co_name, co_qualname, co_linetable, co_firstlineno,
	    co_code_adaptive;
	int ob_type, bytes_ob_size, bytes_ob_sval;
	int uni_state, uni_length, uni_ascii_size;
	int interp_ceval_gil;
};

static const struct sw_py313_dbg sw_py313_dbg = {
    .version = 8,
    .free_threaded = 16,
    .ts_current_frame = 184,
    .fr_previous = 232,
    .fr_executable = 240,
    .fr_instr_ptr = 248,
    .fr_owner = 264,
    .co_filename = 280,
    .co_name = 288,
    .co_qualname = 296,
    .co_linetable = 304,
    .co_firstlineno = 312,
    .co_code_adaptive = 344,
    .ob_type = 360,
    .bytes_ob_size = 520,
    .bytes_ob_sval = 528,
    .uni_state = 544,
    .uni_length = 552,
    .uni_ascii_size = 560,
    .interp_ceval_gil = 112,
};

static inline const struct sw_pylayout *sw_pylayout_find(int major, int minor)
{
	size_t i;

	if (major != 3)
		return NULL;
	for (i = 0; i < sizeof(sw_pylayouts) / sizeof(sw_pylayouts[0]); i++)
		if (sw_pylayouts[i].minor == minor)
			return &sw_pylayouts[i];
	return NULL;
}

#ifdef SW_PYLAYOUT_FIELDS
/* Names as pyoffsets_probe.c prints them, for the offsets test. */
struct sw_pylayout_field {
	const char *name;
	size_t off; /* into struct sw_pylayout or struct sw_py313_dbg */
	int dbg;    /* 1: a struct sw_py313_dbg field */
};
#define SW_PYF_L(n)                                    \
	{                                              \
#n, offsetof(struct sw_pylayout, n), 0 \
	}
#define SW_PYF_D(n, f)                                         \
	{                                                      \
		"dbg_" #n, offsetof(struct sw_py313_dbg, f), 1 \
	}
static const struct sw_pylayout_field sw_pylayout_fields[] = {
    SW_PYF_L(ts_frame),
    SW_PYF_L(ts_cframe),
    SW_PYF_L(cframe_current_frame),
    SW_PYF_L(fr_back),
    SW_PYF_L(fr_code),
    SW_PYF_L(fr_lasti),
    SW_PYF_L(fr_owner),
    SW_PYF_L(fr_is_entry),
    SW_PYF_L(owned_by_generator),
    SW_PYF_L(owned_by_cstack),
    SW_PYF_L(co_firstlineno),
    SW_PYF_L(co_filename),
    SW_PYF_L(co_name),
    SW_PYF_L(co_qualname),
    SW_PYF_L(co_linetable),
    SW_PYF_L(co_code),
    SW_PYF_L(co_firsttraceable),
    SW_PYF_L(ob_type),
    SW_PYF_L(bytes_ob_size),
    SW_PYF_L(bytes_ob_sval),
    SW_PYF_L(uni_length),
    SW_PYF_L(uni_state),
    SW_PYF_L(uni_ascii_size),
    SW_PYF_L(uni_compact_size),
    SW_PYF_L(gil_cond_in_runtime),
    SW_PYF_L(rt_interp_main),
    SW_PYF_L(interp_gil_ptr),
    SW_PYF_L(gil_cond),
    SW_PYF_D(version, version),
    SW_PYF_D(free_threaded, free_threaded),
    SW_PYF_D(ts_current_frame, ts_current_frame),
    SW_PYF_D(fr_previous, fr_previous),
    SW_PYF_D(fr_executable, fr_executable),
    SW_PYF_D(fr_instr_ptr, fr_instr_ptr),
    SW_PYF_D(fr_owner, fr_owner),
    SW_PYF_D(co_filename, co_filename),
    SW_PYF_D(co_name, co_name),
    SW_PYF_D(co_qualname, co_qualname),
    SW_PYF_D(co_linetable, co_linetable),
    SW_PYF_D(co_firstlineno, co_firstlineno),
    SW_PYF_D(co_code_adaptive, co_code_adaptive),
    SW_PYF_D(ob_type, ob_type),
    SW_PYF_D(bytes_ob_size, bytes_ob_size),
    SW_PYF_D(bytes_ob_sval, bytes_ob_sval),
    SW_PYF_D(uni_state, uni_state),
    SW_PYF_D(uni_length, uni_length),
    SW_PYF_D(uni_ascii_size, uni_ascii_size),
    SW_PYF_D(interp_ceval_gil, interp_ceval_gil),
};
#undef SW_PYF_L
#undef SW_PYF_D
#endif

#endif
