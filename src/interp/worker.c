/*
 * worker.c — the engine that gives each worker thread its own interpreter.
 *
 * Each worker thread creates an isolated subinterpreter (own GIL, own
 * obmalloc) at start, runs every task it takes in it, and ends it at stop:
 * create, run and destroy all on one thread, with one thread state kept for
 * the whole life (cpython-notes.md §1). Between tasks the worker releases its
 * interpreter's GIL, so threads started by the tasks themselves can run.
 *
 * A task's outcome leaves the interpreter as bytes and C strings only: the
 * result is encoded to a wire message, an exception to its type name,
 * message, formatted traceback and (when it pickles) its pickle.
 */
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "error.h"
#include "pool.h"

typedef struct mc_py_worker {
    PyThreadState *ts;
    int index;
    PyObject *module;        /* this interpreter's _manycore */
    mc_module_state *st;
    PyObject *main_dict;     /* __main__.__dict__ (borrowed from the module) */
    PyObject *callables;     /* "module:qualname" -> callable */
    PyObject *compile_helper; /* see run_source */
    PyInterpreterState *interp;
    unsigned long thread_id;  /* of this worker thread, for async exceptions */
    mc_future *current;       /* the running task's future; changed only under our GIL */
    const mc_future *finished; /* the last task whose code is over (compared, never used) */
    PyObject *cancelled_error; /* concurrent.futures.CancelledError, on first interrupt */
} mc_py_worker;

void mc_py_engine_config_free(mc_py_engine_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->init_source);
    for (char **p = cfg->sys_path; p && *p; p++)
        free(*p);
    free(cfg->sys_path);
    free(cfg);
}

static void engine_destroy(void *ctx)
{
    mc_py_engine_config_free(ctx);
    mc_runtime_release(); /* each engine config stands for one open pool */
}

char *mc_py_type_name(PyTypeObject *tp)
{
    PyObject *mod = PyObject_GetAttrString((PyObject *)tp, "__module__");
    PyObject *qual = PyObject_GetAttrString((PyObject *)tp, "__qualname__");
    char *name = NULL;
    if (mod && qual && PyUnicode_Check(mod) && PyUnicode_Check(qual)) {
        const char *m = PyUnicode_AsUTF8(mod), *q = PyUnicode_AsUTF8(qual);
        if (m && q) {
            if (strcmp(m, "builtins") == 0)
                name = strdup(q);
            else if ((name = malloc(strlen(m) + strlen(q) + 2)) != NULL)
                sprintf(name, "%s.%s", m, q);
        }
    }
    PyErr_Clear();
    Py_XDECREF(mod);
    Py_XDECREF(qual);
    return name ? name : strdup(tp->tp_name);
}

static char *str_of(PyObject *o)
{
    PyObject *s = PyObject_Str(o);
    const char *u = s ? PyUnicode_AsUTF8(s) : NULL;
    char *r = strdup(u ? u : "<exception str() failed>");
    PyErr_Clear();
    Py_XDECREF(s);
    return r;
}

static char *format_traceback(mc_module_state *st, PyObject *exc)
{
    if (!st->format_exception) {
        PyObject *tb = PyImport_ImportModule("traceback");
        if (tb) {
            st->format_exception = PyObject_GetAttrString(tb, "format_exception");
            Py_DECREF(tb);
        }
    }
    char *r = NULL;
    PyObject *lines = st->format_exception ? PyObject_CallOneArg(st->format_exception, exc) : NULL;
    if (lines) {
        PyObject *empty = PyUnicode_FromStringAndSize("", 0);
        PyObject *text = empty ? PyUnicode_Join(empty, lines) : NULL;
        const char *u = text ? PyUnicode_AsUTF8(text) : NULL;
        if (u)
            r = strdup(u);
        Py_XDECREF(text);
        Py_XDECREF(empty);
        Py_DECREF(lines);
    }
    PyErr_Clear();
    return r ? r : strdup("(traceback unavailable)\n");
}

void mc_py_outcome_from_exception(mc_module_state *st, int code, mc_outcome *out)
{
    PyObject *exc = PyErr_GetRaisedException();
    memset(out, 0, sizeof *out);
    out->code = code;
    if (!exc) {
        out->err_type = strdup("SystemError");
        out->err_message = strdup("error without an exception");
        return;
    }
    out->err_type = mc_py_type_name(Py_TYPE(exc));
    out->err_message = str_of(exc);
    out->err_traceback = format_traceback(st, exc);
    /* The exception itself, for Python callers that re-raise it by type. */
    if (mc_py_encode_msg(st, exc, &out->err_pickle) < 0)
        PyErr_Clear();
    Py_DECREF(exc);
}

/* Splits source into the code of its statements and, when the last
 * statement is an expression, that expression's code (whose value is then
 * the task's result, as in an interactive session). Defined once per worker,
 * on the first source that is not a single expression. */
static const char compile_helper_source[] =
    "def _manycore_compile(source, filename):\n"
    "    import ast\n"
    "    tree = ast.parse(source, filename)\n"
    "    last = None\n"
    "    if tree.body and isinstance(tree.body[-1], ast.Expr):\n"
    "        last = compile(ast.Expression(tree.body.pop().value), filename, 'eval')\n"
    "    return compile(tree, filename, 'exec'), last\n";

static PyObject *get_compile_helper(mc_py_worker *w)
{
    if (w->compile_helper)
        return w->compile_helper;
    PyObject *ns = PyDict_New();
    if (!ns)
        return NULL;
    PyObject *builtins = PyEval_GetBuiltins(); /* borrowed */
    PyObject *code = Py_CompileString(compile_helper_source, "<manycore>", Py_file_input);
    PyObject *r = code && PyDict_SetItemString(ns, "__builtins__", builtins) == 0
                      ? PyEval_EvalCode(code, ns, ns) : NULL;
    Py_XDECREF(code);
    Py_XDECREF(r);
    if (r)
        w->compile_helper = PyDict_GetItemString(ns, "_manycore_compile");
    Py_XINCREF(w->compile_helper);
    Py_DECREF(ns);
    return w->compile_helper;
}

/* Runs source in __main__. On success *result (if asked) is the value of a
 * trailing expression, else None. -1 with the exception set; *syntax_error
 * tells a source that does not compile from one that raised while running. */
static int run_source(mc_py_worker *w, const char *source, const char *filename, PyObject **result,
                      int *syntax_error)
{
    *syntax_error = 0;
    /* Without a result to report (init_source) compile the statements at
     * once; otherwise try the cheap single-expression case first. */
    PyObject *body = Py_CompileString(source, filename, result ? Py_eval_input : Py_file_input);
    PyObject *last = NULL;
    int is_expr = body != NULL && result != NULL;
    if (!body && !result) {
        *syntax_error = PyErr_ExceptionMatches(PyExc_SyntaxError);
        return -1;
    }
    if (!body) {
        PyErr_Clear();
        PyObject *helper = get_compile_helper(w);
        PyObject *pair = helper ? PyObject_CallFunction(helper, "ss", source, filename) : NULL;
        if (!pair) {
            *syntax_error = PyErr_ExceptionMatches(PyExc_SyntaxError);
            if (*syntax_error) {
                /* The compiler's own frames are noise: show the source only. */
                PyObject *exc = PyErr_GetRaisedException();
                PyException_SetTraceback(exc, Py_None);
                PyErr_SetRaisedException(exc);
            }
            return -1;
        }
        body = Py_NewRef(PyTuple_GET_ITEM(pair, 0));
        last = PyTuple_GET_ITEM(pair, 1) == Py_None ? NULL : Py_NewRef(PyTuple_GET_ITEM(pair, 1));
        Py_DECREF(pair);
    }
    PyObject *v = PyEval_EvalCode(body, w->main_dict, w->main_dict);
    Py_DECREF(body);
    if (v && last) {
        Py_DECREF(v);
        v = PyEval_EvalCode(last, w->main_dict, w->main_dict);
        is_expr = 1;
    }
    Py_XDECREF(last);
    if (!v)
        return -1;
    if (result)
        *result = is_expr ? v : (Py_DECREF(v), Py_NewRef(Py_None));
    else
        Py_DECREF(v);
    return 0;
}

/* Puts dirs into sys.path: in front, in order (the pool's own entries), or
 * at the end, skipping those already there (the main interpreter's). */
static int add_sys_path(const char *const *dirs, int at_front)
{
    PyObject *path = PySys_GetObject("path"); /* borrowed */
    if (!path || !PyList_Check(path))
        return 0;
    Py_ssize_t at = 0;
    for (const char *const *d = dirs; d && *d; d++) {
        PyObject *s = PyUnicode_DecodeFSDefault(*d);
        int present = s && !at_front ? PySequence_Contains(path, s) : 0;
        int rc = !s || present < 0 ? -1
                 : present          ? 0
                 : at_front         ? PyList_Insert(path, at++, s)
                                    : PyList_Append(path, s);
        Py_XDECREF(s);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static const char *package_dir(void)
{
    /* The python/ folder of the build tree while developing, else the
     * installed copy: lets workers `import manycore`. */
    static const char *const candidates[] = {MC_PYTHON_DIR_BUILD, MC_PYTHON_DIR_INSTALL};
    for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++) {
        FILE *f = NULL;
        char probe[4096];
        snprintf(probe, sizeof probe, "%s/manycore/__init__.py", candidates[i]);
        if ((f = fopen(probe, "r")) != NULL) {
            fclose(f);
            return candidates[i];
        }
    }
    return NULL;
}

static char *errmsg_from_exception(mc_module_state *st, const char *what, int index)
{
    mc_outcome o;
    mc_py_outcome_from_exception(st, MC_ESTART, &o);
    size_t n = strlen(what) + strlen(o.err_traceback ? o.err_traceback : "") + 64;
    char *msg = malloc(n);
    if (msg)
        snprintf(msg, n, "worker %d: %s:\n%s", index, what, o.err_traceback ? o.err_traceback : "");
    mc_outcome_clear(&o);
    return msg;
}

static int engine_start(void *ctx, mc_pool *pool, int index, void **state, char **errmsg)
{
    mc_py_engine_config *cfg = ctx;
    mc_py_worker *w = calloc(1, sizeof *w);
    if (!w) {
        *errmsg = strdup("out of memory");
        return MC_ENOMEM;
    }
    w->index = index;
    const PyInterpreterConfig icfg = {
        .use_main_obmalloc = 0,
        .allow_fork = 0,
        .allow_exec = 0,
        .allow_threads = 1,
        .allow_daemon_threads = 0,
        .check_multi_interp_extensions = 1,
        .gil = PyInterpreterConfig_OWN_GIL,
    };
    PyStatus status = Py_NewInterpreterFromConfig(&w->ts, &icfg);
    if (PyStatus_Exception(status)) {
        char buf[512];
        snprintf(buf, sizeof buf, "worker %d: cannot create a subinterpreter: %s", index,
                 status.err_msg ? status.err_msg : "unknown error");
        *errmsg = strdup(buf);
        free(w);
        return MC_ESTART;
    }
    /* Now w->ts is current and holds the new interpreter's own GIL. */
    w->interp = PyThreadState_GetInterpreter(w->ts);
    w->thread_id = PyThread_get_thread_ident();
    const char *what = NULL;
    w->module = mc_module_install();
    if (!w->module) {
        what = "cannot set up the _manycore module";
        goto fail_py;
    }
    w->st = mc_module_get_state(w->module);
    w->st->worker_id = index;
    w->st->pool = pool;
    w->callables = PyDict_New();
    PyObject *main_mod = PyImport_AddModuleRef("__main__");
    if (!w->callables || !main_mod) {
        what = "cannot set up __main__";
        goto fail_py;
    }
    w->main_dict = PyModule_GetDict(main_mod); /* kept alive by sys.modules */
    Py_DECREF(main_mod);
    const char *pkg = package_dir();
    const char *pkg_path[] = {pkg, NULL};
    if (add_sys_path((const char *const *)cfg->sys_path, 1) < 0 || (pkg && add_sys_path(pkg_path, 0) < 0) ||
        add_sys_path(mc_runtime_site_path(), 0) < 0) {
        what = "cannot extend sys.path";
        goto fail_py;
    }
    if (cfg->init_source) {
        int syntax;
        if (run_source(w, cfg->init_source, "<init_source>", NULL, &syntax) < 0) {
            what = "init_source raised";
            goto fail_py;
        }
    }
    *state = w;
    PyEval_SaveThread();
    return MC_OK;

fail_py:
    if (w->st) {
        *errmsg = errmsg_from_exception(w->st, what, index);
    } else {
        mc_module_state scratch = {.worker_id = index};
        *errmsg = errmsg_from_exception(&scratch, what, index);
        Py_CLEAR(scratch.format_exception);
        Py_CLEAR(scratch.pickle_dumps);
        Py_CLEAR(scratch.pickle_loads);
    }
    Py_CLEAR(w->callables);
    Py_CLEAR(w->compile_helper);
    Py_CLEAR(w->module);
    Py_EndInterpreter(w->ts);
    free(w);
    return MC_ESTART;
}

static void engine_stop(void *state)
{
    mc_py_worker *w = state;
    PyEval_RestoreThread(w->ts);
    Py_CLEAR(w->callables);
    Py_CLEAR(w->compile_helper);
    Py_CLEAR(w->cancelled_error);
    Py_CLEAR(w->module);
    Py_EndInterpreter(w->ts);
    free(w);
}

/* Finds "module:qualname": import the module, then walk the dotted qualname. */
static PyObject *resolve(mc_py_worker *w, const char *name)
{
    PyObject *key = PyUnicode_FromString(name);
    if (!key)
        return NULL;
    PyObject *fn = PyDict_GetItemWithError(w->callables, key);
    if (fn || PyErr_Occurred()) {
        Py_DECREF(key);
        return Py_XNewRef(fn);
    }
    const char *colon = strchr(name, ':');
    PyObject *obj = NULL;
    PyObject *modname = PyUnicode_FromStringAndSize(name, colon - name);
    if (modname) {
        if (strcmp(PyUnicode_AsUTF8(modname), "__main__") == 0)
            obj = PyImport_AddModuleRef("__main__");
        else
            obj = PyImport_Import(modname);
        Py_DECREF(modname);
    }
    const char *part = colon + 1;
    while (obj && *part) {
        const char *dot = strchr(part, '.');
        size_t n = dot ? (size_t)(dot - part) : strlen(part);
        PyObject *attr = PyUnicode_FromStringAndSize(part, (Py_ssize_t)n);
        PyObject *next = attr ? PyObject_GetAttr(obj, attr) : NULL;
        Py_XDECREF(attr);
        Py_DECREF(obj);
        obj = next;
        part += n + (dot ? 1 : 0);
    }
    if (obj && !PyCallable_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "'%s' names a %.100s object, which is not callable", name,
                     Py_TYPE(obj)->tp_name);
        Py_CLEAR(obj);
    }
    if (obj && PyDict_SetItem(w->callables, key, obj) < 0)
        Py_CLEAR(obj);
    Py_DECREF(key);
    return obj;
}

static PyObject *call_task(mc_py_worker *w, mc_task *task, int *code)
{
    PyObject *fn = resolve(w, task->target);
    if (!fn) {
        *code = MC_ENOTFOUND;
        return NULL;
    }
    *code = MC_EPYTHON;
    PyObject *args = NULL, *kwargs = NULL, *res = NULL;
    if (task->args.data) {
        PyObject *seq = mc_py_decode(w->st, &task->args);
        if (!seq)
            goto done;
        args = PyTuple_Check(seq) ? Py_NewRef(seq) : PySequence_Tuple(seq);
        Py_DECREF(seq);
        if (!args)
            goto done;
    }
    if (task->kwargs.data) {
        kwargs = mc_py_decode(w->st, &task->kwargs);
        if (!kwargs)
            goto done;
        if (!PyDict_Check(kwargs)) {
            PyErr_SetString(PyExc_TypeError, "keyword arguments must be a dict");
            goto done;
        }
    }
    if (!args && !kwargs)
        res = PyObject_CallNoArgs(fn);
    else if (args && !kwargs && PyTuple_GET_SIZE(args) == 1)
        res = PyObject_CallOneArg(fn, PyTuple_GET_ITEM(args, 0));
    else {
        if (!args && !(args = PyTuple_New(0)))
            goto done;
        res = PyObject_Call(fn, args, kwargs);
    }
done:
    Py_XDECREF(args);
    Py_XDECREF(kwargs);
    Py_DECREF(fn);
    return res;
}

/* The exception an interrupt raises in this worker's interpreter (a new
 * reference): TimeoutError, or concurrent.futures.CancelledError (imported
 * once, in this interpreter). */
static PyObject *interrupt_exception(mc_py_worker *w, int reason)
{
    if (reason != MC_ECANCELLED)
        return Py_NewRef(PyExc_TimeoutError);
    if (!w->cancelled_error) {
        PyObject *cf = PyImport_ImportModule("concurrent.futures");
        w->cancelled_error = cf ? PyObject_GetAttrString(cf, "CancelledError") : NULL;
        Py_XDECREF(cf);
        PyErr_Clear();
    }
    return Py_NewRef(w->cancelled_error ? w->cancelled_error : PyExc_KeyboardInterrupt);
}

static void engine_run(void *state, mc_task *task)
{
    mc_py_worker *w = state;
    mc_outcome out = {0};
    PyEval_RestoreThread(w->ts);
    w->current = task->future;
    /* An interrupt asked for before we held the GIL finds current unset:
     * it is recorded in the future, and raised here, as the task enters. */
    int early = atomic_load(&task->future->interrupt_reason);
    if (early) {
        PyObject *exc = interrupt_exception(w, early);
        PyThreadState_SetAsyncExc(w->thread_id, exc);
        Py_DECREF(exc);
    }
    int code = MC_EPYTHON;
    PyObject *res = NULL;
    if (task->kind == MC_TASK_CALL)
        res = call_task(w, task, &code);
    else {
        int syntax = 0;
        if (run_source(w, task->target, "<manycore>", &res, &syntax) < 0)
            code = syntax ? MC_ESYNTAX : MC_EPYTHON;
    }
    /* The task's code is over: from here no interrupt may land (not in the
     * encoding below, nor in the next task). Drop any pending one, under our
     * GIL, which interrupts need to reach us. */
    w->current = NULL;
    w->finished = task->future;
    PyObject *raised = PyErr_GetRaisedException();
    PyThreadState_SetAsyncExc(w->thread_id, NULL);
    PyErr_SetRaisedException(raised);
    if (res) {
        if (mc_py_encode_msg(w->st, res, &out.result) == 0)
            out.code = MC_OK;
        else
            mc_py_outcome_from_exception(w->st, MC_EENCODE, &out);
        Py_DECREF(res);
    } else {
        mc_py_outcome_from_exception(w->st, code, &out);
    }
    PyErr_Clear();
    PyEval_SaveThread();
    mc_future_finish(task->future, &out);
}

/* Raises TimeoutError or CancelledError inside the task of `fut`, if this
 * worker still runs it. Called on another thread (the caller has recorded
 * the request in fut->interrupt_reason): it attaches a temporary thread
 * state of the worker's interpreter, which waits until that interpreter
 * lets go of its GIL (the next switch interval, 5 ms, unless a C call holds
 * it), checks w->current under that GIL (the worker changes it only while
 * holding it), and queues the exception for the worker's thread
 * (cpython-notes.md §6). */
static int engine_interrupt(void *state, mc_future *fut, int reason)
{
    mc_py_worker *w = state;
    PyThreadState *caller = PyThreadState_GetUnchecked();
    if (caller)
        PyEval_SaveThread();
    PyThreadState *ts = PyThreadState_New(w->interp);
    int rc = MC_EBUSY;
    if (ts) {
        PyEval_RestoreThread(ts);
        if (w->current == fut) {
            /* Resolving the class may import, which can let the worker run
             * on: check again right before queueing the exception. */
            PyObject *exc = interrupt_exception(w, reason);
            if (w->current == fut && PyThreadState_SetAsyncExc(w->thread_id, exc) == 1)
                rc = MC_OK;
            Py_DECREF(exc);
        } else if (w->finished != fut && atomic_load(&fut->running_worker) == w->index &&
                   atomic_load(&fut->state) == MC_FUTURE_RUNNING) {
            rc = MC_OK; /* not entered yet: engine_run raises it on entry */
        }
        PyThreadState_Clear(ts);
        PyThreadState_DeleteCurrent();
    }
    if (caller)
        PyEval_RestoreThread(caller);
    return rc;
}

/* A thread that holds a GIL while it blocks on the core (a host embedding
 * Python itself, a task waiting on another pool) lets go of it meanwhile:
 * workers importing a single-phase built-in module briefly need the main
 * GIL (import.c switches to the main interpreter), and ending a pool may
 * too. Threads without a Python thread state pass through untouched. */
void *mc_py_block_begin(void)
{
    PyThreadState *ts = PyThreadState_GetUnchecked();
    if (ts)
        PyEval_SaveThread();
    return ts;
}

void mc_py_block_end(void *token)
{
    if (token)
        PyEval_RestoreThread(token);
}

int mc_py_pool_create(mc_py_engine_config *cfg, int workers, mc_pool **out)
{
    static const mc_engine engine = {
        .start = engine_start,
        .run = engine_run,
        .stop = engine_stop,
        .destroy = engine_destroy,
        .interrupt = engine_interrupt,
    };
    return mc_pool_create(&engine, cfg, workers, out);
}
