/*
 * pyoffsets_probe.c - prints the CPython structure offsets the shim's
 * frame walker uses, compiled against one interpreter's own headers
 * (tests/integration/test_pyoffsets.c builds it once per installed
 * version with -DPy_BUILD_CORE and compares with preload/pylayout.h).
 *
 * Output: one "name value" line per offset.  Not built by the Makefile
 * (it lives in a subdirectory of tests/progs/ on purpose).
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <frameobject.h>
#include <stddef.h>
#include <stdio.h>

#include <internal/pycore_runtime.h>
#if PY_VERSION_HEX >= 0x030B0000
#include <internal/pycore_frame.h>
#include <internal/pycore_interp.h>
#endif

#define P(name, value) printf("%s %ld\n", name, (long)(value))

int main(void)
{
	P("version_minor", PY_MINOR_VERSION);
#if PY_VERSION_HEX < 0x030B0000
	/* 3.9 / 3.10: the PyFrameObject chain. */
	P("ts_frame", offsetof(PyThreadState, frame));
	P("fr_back", offsetof(PyFrameObject, f_back));
	P("fr_code", offsetof(PyFrameObject, f_code));
	P("fr_lasti", offsetof(PyFrameObject, f_lasti));
	P("co_code", offsetof(PyCodeObject, co_code));
#if PY_VERSION_HEX < 0x030A0000
	P("co_linetable", offsetof(PyCodeObject, co_lnotab));
#else
	P("co_linetable", offsetof(PyCodeObject, co_linetable));
#endif
	P("gil_cond_in_runtime", offsetof(_PyRuntimeState, ceval.gil.cond));
#else
	/* 3.11+: interpreter frames. */
#if PY_VERSION_HEX < 0x030D0000
	P("ts_cframe", offsetof(PyThreadState, cframe));
	P("cframe_current_frame", offsetof(_PyCFrame, current_frame));
	P("fr_code", offsetof(_PyInterpreterFrame, f_code));
	P("fr_lasti", offsetof(_PyInterpreterFrame, prev_instr));
#else
	P("ts_frame", offsetof(PyThreadState, current_frame));
	P("fr_code", offsetof(_PyInterpreterFrame, f_executable));
	P("fr_lasti", offsetof(_PyInterpreterFrame, instr_ptr));
#endif
	P("fr_back", offsetof(_PyInterpreterFrame, previous));
	P("fr_owner", offsetof(_PyInterpreterFrame, owner));
#if PY_VERSION_HEX < 0x030C0000
	P("fr_is_entry", offsetof(_PyInterpreterFrame, is_entry));
#endif
	P("co_qualname", offsetof(PyCodeObject, co_qualname));
	P("co_linetable", offsetof(PyCodeObject, co_linetable));
	P("co_code", offsetof(PyCodeObject, co_code_adaptive));
	P("co_firsttraceable", offsetof(PyCodeObject, _co_firsttraceable));
	P("owned_by_generator", FRAME_OWNED_BY_GENERATOR);
#if PY_VERSION_HEX >= 0x030C0000
	P("owned_by_cstack", FRAME_OWNED_BY_CSTACK);
#endif
#if PY_VERSION_HEX < 0x030C0000
	P("gil_cond_in_runtime", offsetof(_PyRuntimeState, ceval.gil.cond));
#else
	P("rt_interp_main", offsetof(_PyRuntimeState, interpreters.main));
	P("interp_gil_ptr", offsetof(PyInterpreterState, ceval.gil));
	P("gil_cond", offsetof(struct _gil_runtime_state, cond));
#endif
#if PY_VERSION_HEX >= 0x030D0000
	/* Where the shim reads each value inside _Py_DebugOffsets. */
	P("dbg_version", offsetof(_Py_DebugOffsets, version));
	P("dbg_free_threaded", offsetof(_Py_DebugOffsets, free_threaded));
	P("dbg_ts_current_frame",
	  offsetof(_Py_DebugOffsets, thread_state.current_frame));
	P("dbg_fr_previous",
	  offsetof(_Py_DebugOffsets, interpreter_frame.previous));
	P("dbg_fr_executable",
	  offsetof(_Py_DebugOffsets, interpreter_frame.executable));
	P("dbg_fr_instr_ptr",
	  offsetof(_Py_DebugOffsets, interpreter_frame.instr_ptr));
	P("dbg_fr_owner", offsetof(_Py_DebugOffsets, interpreter_frame.owner));
	P("dbg_co_filename", offsetof(_Py_DebugOffsets, code_object.filename));
	P("dbg_co_name", offsetof(_Py_DebugOffsets, code_object.name));
	P("dbg_co_qualname", offsetof(_Py_DebugOffsets, code_object.qualname));
	P("dbg_co_linetable",
	  offsetof(_Py_DebugOffsets, code_object.linetable));
	P("dbg_co_firstlineno",
	  offsetof(_Py_DebugOffsets, code_object.firstlineno));
	P("dbg_co_code_adaptive",
	  offsetof(_Py_DebugOffsets, code_object.co_code_adaptive));
	P("dbg_ob_type", offsetof(_Py_DebugOffsets, pyobject.ob_type));
	P("dbg_bytes_ob_size",
	  offsetof(_Py_DebugOffsets, bytes_object.ob_size));
	P("dbg_bytes_ob_sval",
	  offsetof(_Py_DebugOffsets, bytes_object.ob_sval));
	P("dbg_uni_state", offsetof(_Py_DebugOffsets, unicode_object.state));
	P("dbg_uni_length", offsetof(_Py_DebugOffsets, unicode_object.length));
	P("dbg_uni_ascii_size",
	  offsetof(_Py_DebugOffsets, unicode_object.asciiobject_size));
	P("dbg_interp_ceval_gil",
	  offsetof(_Py_DebugOffsets, interpreter_state.ceval_gil));
#endif
#endif
	/* Common to every version. */
	P("co_firstlineno", offsetof(PyCodeObject, co_firstlineno));
	P("co_filename", offsetof(PyCodeObject, co_filename));
	P("co_name", offsetof(PyCodeObject, co_name));
	P("ob_type", offsetof(PyObject, ob_type));
	P("bytes_ob_size", offsetof(PyVarObject, ob_size));
	P("bytes_ob_sval", offsetof(PyBytesObject, ob_sval));
	P("uni_length", offsetof(PyASCIIObject, length));
	P("uni_state", offsetof(PyASCIIObject, hash) + sizeof(Py_hash_t));
	P("uni_ascii_size", sizeof(PyASCIIObject));
	P("uni_compact_size", sizeof(PyCompactUnicodeObject));
	return 0;
}
