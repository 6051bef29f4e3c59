"""The _manycore extension seen from a Python program (the main interpreter)."""
import concurrent.futures
import os
import sys
import unittest

import _manycore
import manycore

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pool", "data")


class LowLevelPoolTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pool = _manycore.Pool(2, sys_path=[DATA])

    @classmethod
    def tearDownClass(cls):
        cls.pool.shutdown()

    def test_results_arrive_in_python_types(self):
        value = {"a": [1, 2.5, None, True], "b": (b"\x00", "h\u00e9"), "c": {3, 4}, "big": -(10 ** 40)}
        self.assertEqual(self.pool.submit("helpers:identity", (value,)).result(), value)

    def test_subclasses_keep_their_type_through_pickle(self):
        import collections
        import fractions
        value = fractions.Fraction(1, 3)
        self.assertEqual(self.pool.submit("helpers:identity", (value,)).result(), value)
        Point = collections.namedtuple("Point", "x y")  # not importable: pickle must refuse
        with self.assertRaises(TypeError) as cm:
            self.pool.submit("helpers:identity", (Point(1, 2),))
        self.assertIn("cannot send", str(cm.exception))

    def test_exception_is_reraised_with_type_and_remote_traceback(self):
        fut = self.pool.submit("helpers:nested_fail")
        with self.assertRaises(ValueError) as cm:
            fut.result()
        notes = "".join(getattr(cm.exception, "__notes__", []))
        self.assertIn("Traceback from manycore worker", notes)
        self.assertIn("KeyError", notes)

    def test_unimportable_exception_type_becomes_remote_error(self):
        fut = self.pool.exec("class Local(Exception):\n    pass\nraise Local('only here')\n")
        with self.assertRaises(_manycore.RemoteError) as cm:
            fut.result()
        self.assertEqual(cm.exception.args[0], "__main__.Local")
        self.assertEqual(cm.exception.args[1], "only here")

    def test_timeout_and_cancel_use_concurrent_futures_exceptions(self):
        slow = self.pool.submit("helpers:sleep_then", (0.3, "x"))
        with self.assertRaises(concurrent.futures.TimeoutError):
            slow.result(timeout=0.01)
        self.assertEqual(slow.result(), "x")
        self.assertTrue(slow.done())

    def test_worker_id_is_set_inside_workers_only(self):
        self.assertIsNone(manycore.worker_id())
        ids = {self.pool.exec("import manycore\nmanycore.worker_id()").result() for _ in range(20)}
        self.assertTrue(ids <= {0, 1})

    def test_bad_names_raise_value_error(self):
        with self.assertRaises(ValueError):
            self.pool.submit("no colon here")

    def test_shut_down_pool_refuses_work(self):
        pool = _manycore.Pool(1)
        pool.shutdown()
        self.assertEqual(pool.workers, 0)
        with self.assertRaises(RuntimeError):
            pool.submit("math:sqrt", (4,))


if __name__ == "__main__":
    unittest.main()
