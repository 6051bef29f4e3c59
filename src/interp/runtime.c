/*
 * runtime.c — the process's Python: started by manycore or found running.
 *
 * This is the one process-wide object of the bridge (`runtime` below). It
 * records whether manycore started Python (and so may finalize it), how many
 * pools are open, and whether the main interpreter has been prepared for
 * workers: C extension modules that crash when first imported concurrently
 * by several subinterpreters (3.13.5: _datetime, gh-136421) are imported
 * once in the main interpreter before any worker starts.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "blocking.h"
#include "bridge.h"
#include "error.h"

static struct mc_runtime {
    pthread_mutex_t lock;
    int started_here;         /* manycore called Py_Initialize */
    int finalized;            /* mc_shutdown finalized it: no restart */
    int prepared;             /* main interpreter warmed up */
    int open_pools;
    PyThreadState *main_ts;   /* main tstate, parked while workers run */
    char **site_path;         /* main's sys.path after site, when we ran it */
} runtime = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Imported in the main interpreter before any worker exists: modules whose
 * first, concurrent initialisation in subinterpreters is unsafe. */
static const char warm_up_source[] =
    "import _datetime\n"
    "try:\n"
    "    import _decimal, _asyncio, _hashlib\n"
    "except ImportError:\n"
    "    pass\n";

static int start_python(void)
{
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    /* The host owns its signals and its argv. */
    config.install_signal_handlers = 0;
    config.parse_argv = 0;
    /* Subinterpreters copy the main interpreter's config, and importing site
     * in each was half the cost of starting a worker (24 ms for a 2-worker
     * pool, 11 ms without). So site runs once, here, and workers get the
     * sys.path it computed (see run_site). */
    config.site_import = 0;
    PyStatus st = PyConfig_SetString(&config, &config.program_name, L"manycore");
    if (!PyStatus_Exception(st))
        st = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st))
        return mc_fail(MC_ESTART, "cannot start Python: %s%s%s", st.func ? st.func : "",
                       st.func ? ": " : "", st.err_msg ? st.err_msg : "unknown error");
    runtime.started_here = 1;
    return MC_OK;
}

/* Runs site in the main interpreter (site_import is off, see start_python)
 * and keeps the sys.path it made, for the workers. */
static int run_site(void)
{
    PyObject *site = PyImport_ImportModule("site");
    PyObject *r = site ? PyObject_CallMethod(site, "main", NULL) : NULL;
    Py_XDECREF(r);
    Py_XDECREF(site);
    if (!r) {
        PyErr_Print();
        return mc_fail(MC_ESTART, "importing site in the main interpreter failed (see stderr)");
    }
    PyObject *path = PySys_GetObject("path"); /* borrowed */
    Py_ssize_t n = path && PyList_Check(path) ? PyList_GET_SIZE(path) : 0;
    runtime.site_path = calloc((size_t)n + 1, sizeof(char *));
    if (!runtime.site_path)
        return mc_fail(MC_ENOMEM, "out of memory copying sys.path");
    Py_ssize_t k = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *s = PyUnicode_Check(PyList_GET_ITEM(path, i)) ? PyUnicode_AsUTF8(PyList_GET_ITEM(path, i)) : NULL;
        if (s && (runtime.site_path[k] = strdup(s)) != NULL)
            k++;
        PyErr_Clear();
    }
    return MC_OK;
}

const char *const *mc_runtime_site_path(void)
{
    return (const char *const *)runtime.site_path;
}

/* Runs the warm-up in the main interpreter, attaching a temporary thread
 * state when this thread has none. */
static int prepare_main(void)
{
    PyThreadState *cur = PyThreadState_GetUnchecked();
    PyThreadState *tmp = NULL;
    if (cur && PyThreadState_GetInterpreter(cur) != PyInterpreterState_Main())
        return mc_fail(MC_ESTART, "the first pool must be opened from the main interpreter or "
                                  "from a thread without a Python thread state");
    if (!cur) {
        tmp = PyThreadState_New(PyInterpreterState_Main());
        if (!tmp)
            return mc_fail(MC_ESTART, "cannot create a thread state for the main interpreter");
        PyEval_RestoreThread(tmp);
    }
    int rc = MC_OK;
    PyObject *exc = PyErr_GetRaisedException(); /* keep the caller's, if any */
    if (PyRun_SimpleString(warm_up_source) != 0)
        rc = mc_fail(MC_ESTART, "cannot import _datetime in the main interpreter");
    PyErr_SetRaisedException(exc);
    if (tmp) {
        PyThreadState_Clear(tmp);
        PyThreadState_DeleteCurrent();
    }
    return rc;
}

int mc_runtime_acquire(void)
{
    int rc = MC_OK;
    pthread_mutex_lock(&runtime.lock);
    if (runtime.finalized) {
        rc = mc_fail(MC_ECLOSED, "mc_shutdown() has finalized Python: no pool can be opened again");
        goto out;
    }
    if (!Py_IsInitialized()) {
        rc = start_python();
        if (rc != MC_OK)
            goto out;
        rc = run_site();
        if (rc == MC_OK)
            rc = prepare_main();
        /* Park the main thread state: workers never need the main GIL, and
         * the host thread must not hold it while it waits on futures. */
        runtime.main_ts = PyEval_SaveThread();
        runtime.prepared = rc == MC_OK;
    } else if (!runtime.prepared) {
        rc = prepare_main();
        runtime.prepared = rc == MC_OK;
    }
    if (rc == MC_OK) {
        runtime.open_pools++;
        mc_set_blocking_hooks(mc_py_block_begin, mc_py_block_end);
    }
out:
    pthread_mutex_unlock(&runtime.lock);
    return rc;
}

void mc_runtime_release(void)
{
    pthread_mutex_lock(&runtime.lock);
    runtime.open_pools--;
    pthread_mutex_unlock(&runtime.lock);
}

int mc_shutdown(void)
{
    int rc = MC_OK;
    pthread_mutex_lock(&runtime.lock);
    if (runtime.open_pools > 0)
        rc = mc_fail(MC_EBUSY, "%d pool(s) still open: close them before mc_shutdown()", runtime.open_pools);
    else if (runtime.started_here && !runtime.finalized) {
        PyEval_RestoreThread(runtime.main_ts);
        runtime.main_ts = NULL;
        if (Py_FinalizeEx() < 0)
            rc = mc_fail(MC_ESYSTEM, "Python reported errors while finalizing");
        runtime.finalized = 1;
        for (char **p = runtime.site_path; p && *p; p++)
            free(*p);
        free(runtime.site_path);
        runtime.site_path = NULL;
    }
    pthread_mutex_unlock(&runtime.lock);
    return rc;
}

const char *mc_python_version(void)
{
    return PY_VERSION;
}
