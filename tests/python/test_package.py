"""manycore.Pool as a drop-in executor, manycore.Pipeline, and what works
inside workers. The conformance tests run every scenario through
ProcessPoolExecutor and manycore.Pool and require the same outcome."""
import concurrent.futures as cf
import functools
import multiprocessing
import os
import subprocess
import sys
import textwrap
import threading
import time
import unittest

import manycore
import pkg_helpers as h

HERE = os.path.dirname(os.path.abspath(__file__))


def outcome(fn):
    """('ok', value) or ('raise', exception type) of fn()."""
    try:
        return ("ok", fn())
    except Exception as exc:  # the type is what is compared
        return ("raise", type(exc))


SCENARIOS = {
    "map": lambda ex: list(ex.map(h.square, range(50))),
    "map_chunked": lambda ex: list(ex.map(h.add, range(40), range(40), chunksize=7)),
    "submit_kwargs": lambda ex: ex.submit(h.add, 1, 2, c=3).result(),
    "static_method": lambda ex: ex.submit(h.Shapes.area, 3, 4).result(),
    "class_method": lambda ex: ex.submit(h.Shapes.name, "!").result(),
    "partial": lambda ex: ex.submit(functools.partial(h.add, 10), 5).result(),
    "rich_values": lambda ex: ex.submit(h.rich_values).result(),
    "echo_rich_values": lambda ex: ex.submit(h.echo, h.rich_values()).result(),
    "user_exception": lambda ex: ex.submit(h.fail_plan, "no path").result(),
    "key_error": lambda ex: ex.submit(h.fail_key, "k").result(),
    "exception_method": lambda ex: type(ex.submit(h.fail_plan, "x").exception()),
    "map_raises_at_failing_item": lambda ex: list(ex.map(h.fail_on, range(10), [5] * 10)),
    "as_completed": lambda ex: sorted(f.result() for f in cf.as_completed([ex.submit(h.square, i) for i in range(20)])),
    "wait_all": lambda ex: len(cf.wait([ex.submit(h.square, i) for i in range(10)])[0]),
    "wait_first": lambda ex: cf.wait([ex.submit(h.sleep_then, 0.01, 1), ex.submit(h.sleep_then, 2, 2)],
                                     return_when=cf.FIRST_COMPLETED)[0].pop().result(),
    "map_timeout": lambda ex: list(ex.map(h.sleep_then, [1.0], [1], timeout=0.05)),
    "result_timeout": lambda ex: ex.submit(h.sleep_then, 1.0, 1).result(timeout=0.05),
    "done_callback": lambda ex: _callback_value(ex),
}


def _callback_value(ex):
    seen = []
    f = ex.submit(h.square, 7)
    f.add_done_callback(lambda fut: seen.append(fut.result()))
    f.result()
    for _ in range(200):
        if seen:
            break
        time.sleep(0.01)
    return seen


class ConformanceTest(unittest.TestCase):
    """Same scenarios, same outcomes: ProcessPoolExecutor vs manycore.Pool."""

    @classmethod
    def setUpClass(cls):
        # forkserver: forking a process whose threads run subinterpreters is
        # unsafe (CPython's after-fork cleanup meets their thread states).
        cls.processes = cf.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("forkserver"))
        cls.pool = manycore.Pool(2)

    @classmethod
    def tearDownClass(cls):
        cls.processes.shutdown()
        cls.pool.shutdown()

    def test_scenarios_match_process_pool(self):
        for name, scenario in SCENARIOS.items():
            with self.subTest(name):
                expected = outcome(lambda: scenario(self.processes))
                got = outcome(lambda: scenario(self.pool))
                self.assertEqual(got, expected)

    def test_futures_are_concurrent_futures(self):
        f = self.pool.submit(h.square, 3)
        self.assertIsInstance(f, cf.Future)
        self.assertEqual(f.result(), 9)
        self.assertTrue(f.done())
        self.assertFalse(f.cancelled())


class PoolTest(unittest.TestCase):
    def test_exception_carries_the_worker_traceback(self):
        with manycore.Pool(1) as pool:
            with self.assertRaises(h.PlanError) as cm:
                pool.submit(h.fail_plan, "no path").result()
        notes = "".join(cm.exception.__notes__)
        self.assertIn("Traceback from manycore worker", notes)
        self.assertIn("pkg_helpers.py", notes)
        self.assertIn("raise PlanError(msg)", notes)

    def test_lambdas_and_closures_get_a_helpful_type_error(self):
        def local(x):
            return x

        with manycore.Pool(1) as pool:
            for fn in (lambda x: x, local):
                with self.assertRaises(TypeError) as cm:
                    pool.submit(fn, 1)
                self.assertIn("module level", str(cm.exception))

    def test_initializer_runs_once_in_every_worker(self):
        with manycore.Pool(2, initializer=h.remember, initargs=("hello", 1)) as pool:
            seen = [pool.submit(h.initialised).result() for _ in range(6)]
        self.assertTrue(all(s == [("hello", 1)] for s in seen))

    def test_failing_initializer_fails_the_constructor(self):
        with self.assertRaises(RuntimeError) as cm:
            manycore.Pool(1, initializer=h.init_fails)
        self.assertIn("initializer refused", str(cm.exception))

    def test_per_task_timeout_raises_inside_and_the_worker_survives(self):
        with manycore.Pool(1) as pool:
            f = pool.submit_with(h.spin, timeout=0.1)
            with self.assertRaises(TimeoutError):
                f.result(timeout=10)
            self.assertEqual(pool.submit(h.square, 5).result(), 25)

    def test_pool_wide_task_timeout(self):
        with manycore.Pool(1, task_timeout=0.1) as pool:
            with self.assertRaises(TimeoutError):
                pool.submit(h.spin).result(timeout=10)

    def test_running_task_can_be_interrupted(self):
        with manycore.Pool(1) as pool:
            f = pool.submit(h.spin)
            while not f._low.done() and not f.running():
                time.sleep(0.01)
                if f.interrupt():
                    break
            with self.assertRaises(cf.CancelledError):
                f.result(timeout=10)
            self.assertEqual(pool.submit(h.square, 6).result(), 36)

    def test_shutdown_can_cancel_queued_work(self):
        pool = manycore.Pool(1)
        started = manycore.Channel(1)
        first = pool.submit(h.signal_then_sleep, started, 0.2)
        queued = [pool.submit(h.square, i) for i in range(20)]
        started.recv(timeout=30)  # the first task runs: the others wait behind it
        pool.shutdown(wait=True, cancel_futures=True)
        self.assertEqual(first.result(), "ran")
        self.assertTrue(all(f.cancelled() for f in queued))
        with self.assertRaises(RuntimeError):
            pool.submit(h.square, 1)

    def test_shutdown_runs_queued_work_by_default(self):
        pool = manycore.Pool(1)
        futures = [pool.submit(h.square, i) for i in range(30)]
        pool.shutdown()
        self.assertEqual([f.result() for f in futures], [i * i for i in range(30)])

    def test_cancel_before_start(self):
        with manycore.Pool(1) as pool:
            blocker = pool.submit(h.sleep_then, 0.2, 1)
            queued = pool.submit(h.square, 2)
            self.assertTrue(queued.cancel())
            self.assertTrue(queued.cancelled())
            with self.assertRaises(cf.CancelledError):
                queued.result()
            self.assertEqual(blocker.result(), 1)

    def test_shared_objects_travel_by_handle(self):
        counter = manycore.SharedArray("q", 1)
        with manycore.Pool(2) as pool:
            self.assertEqual(sum(pool.map(h.count_up, [counter] * 4, [1000] * 4)), 4000)
        self.assertEqual(counter.load(0), 4000)

    def test_worker_id_inside_workers(self):
        with manycore.Pool(2) as pool:
            ids = {pool.submit(h.worker_identity).result() for _ in range(8)}
        self.assertLessEqual(ids, {0, 1})
        self.assertIsNone(manycore.worker_id())

    def test_legacy_extension_is_named_with_the_reason(self):
        with manycore.Pool(1) as pool:
            with self.assertRaises(ImportError) as cm:
                pool.submit(__import__, "readline").result()
        self.assertIn("'readline'", str(cm.exception))
        self.assertIn("does not support subinterpreters", str(cm.exception))


class RaceRegressionTest(unittest.TestCase):
    """Races a review found (each hung or crashed the process before)."""

    def test_futures_watched_after_shutdown_still_settle(self):
        pool = manycore.Pool(1)
        f1, f2 = pool.submit(h.square, 2), pool.submit(h.square, 3)
        f1.add_done_callback(lambda f: None)
        pool.shutdown()
        done = [f.result() for f in cf.as_completed([f2], timeout=10)]
        self.assertEqual(done, [9])

    def test_timeouts_racing_shutdown_never_crash(self):
        for _ in range(20):
            pool = manycore.Pool(1)
            f = pool.submit_with(h.sleep_then, (0.02, 1), timeout=0.02)
            pool.shutdown()
            self.assertTrue(f.done())

    def test_interrupt_right_after_submit_is_not_lost(self):
        with manycore.Pool(1) as pool:
            for _ in range(10):
                f = pool.submit(h.spin)
                while not f.interrupt():
                    pass  # False only once it has ended, which spin never does
                with self.assertRaises(cf.CancelledError):
                    f.result(timeout=10)

    def test_ctrl_c_interrupts_a_wait_on_a_running_task(self):
        import signal
        with manycore.Pool(1) as pool:
            f = pool.submit(h.spin)
            timer = threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGINT))
            timer.start()
            with self.assertRaises(KeyboardInterrupt):
                f.result()
            timer.join()
            f.interrupt()
            with self.assertRaises(cf.CancelledError):
                f.result(timeout=10)

    def test_pools_left_open_do_not_hang_the_exit(self):
        code = textwrap.dedent("""
            import _manycore, manycore
            low = _manycore.Pool(2)
            low.submit("math:sqrt", (4,)).result()
            pool = manycore.Pool(2)
            print(pool.submit(abs, -3).result())
        """)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "3"), r.stderr)


class MainScriptTest(unittest.TestCase):
    """Functions defined in the __main__ script run in the workers."""

    def run_script(self, body):
        script = os.path.join(self.tmp, "script.py")
        with open(script, "w") as f:
            f.write(textwrap.dedent(body))
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        return subprocess.run([sys.executable, script], capture_output=True, text=True, env=env, timeout=120)

    def setUp(self):
        import tempfile
        self.tmp = tempfile.mkdtemp()

    def test_main_functions_and_classes_work_with_a_main_guard(self):
        r = self.run_script("""
            import manycore

            class Pair:
                def __init__(self, a, b):
                    self.a, self.b = a, b

            def total(pair):
                return Pair(pair.a + pair.b, __name__)

            if __name__ == "__main__":
                with manycore.Pool(2) as pool:
                    out = list(pool.map(total, [Pair(i, i) for i in range(5)]))
                print([p.a for p in out], out[0].b, type(out[0]).__name__)
        """)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "[0, 2, 4, 6, 8] __mp_main__ Pair")

    def test_pool_at_top_level_without_guard_is_explained(self):
        r = self.run_script("""
            import manycore

            def f(x):
                return x

            pool = manycore.Pool(1)
            print(pool.submit(f, 1).exception())
            pool.shutdown()
        """)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('if __name__ == "__main__":', r.stdout)


class PipelineTest(unittest.TestCase):
    def test_results_in_input_order(self):
        with manycore.Pipeline(h.double, (h.square, 2), h.double) as pipe:
            self.assertEqual(list(pipe.run(range(50))), [2 * (2 * x) ** 2 for x in range(50)])

    def test_results_as_completed(self):
        with manycore.Pipeline((h.square, 2)) as pipe:
            self.assertEqual(sorted(pipe.run(range(40), ordered=False)), [x * x for x in range(40)])

    def test_first_failure_stops_the_pipeline_with_its_traceback(self):
        with manycore.Pipeline((functools.partial(h.fail_on, bad=7), 2), h.square) as pipe:
            with self.assertRaises(ValueError) as cm:
                list(pipe.run(range(1000)))
            self.assertIn("bad item 7", str(cm.exception))
            self.assertIn("fail_on", "".join(cm.exception.__notes__))
            self.assertEqual(list(pipe.run(range(3))), [0, 1, 4])  # usable again

    def test_input_iterable_failure_surfaces(self):
        def items():
            yield 1
            raise OSError("input broke")

        with manycore.Pipeline(h.square) as pipe:
            with self.assertRaises(OSError):
                list(pipe.run(items()))


if __name__ == "__main__":
    unittest.main()
