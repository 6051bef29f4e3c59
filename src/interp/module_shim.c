/*
 * module_shim.c — the _manycore extension file a Python program imports.
 *
 * It only forwards to libmanycore, where the module is defined, so a Python
 * program and a C host share one copy of the runtime.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

PyObject *mc_module_init(void);
PyMODINIT_FUNC PyInit__manycore(void);

PyMODINIT_FUNC PyInit__manycore(void)
{
    return mc_module_init();
}
