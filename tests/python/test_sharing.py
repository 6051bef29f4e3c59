"""Shared arrays, channels and published objects, seen from a Python program."""
import os
import threading
import unittest

import _manycore

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pool", "data")


class SharingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pool = _manycore.Pool(2, sys_path=[DATA], init_source="import _manycore as mc\n")

    @classmethod
    def tearDownClass(cls):
        cls.pool.shutdown()

    def test_shared_array_reaches_workers_in_place(self):
        arr = _manycore.SharedArray("i", range(10))
        self.pool.publish("arr", arr)
        addresses = {self.pool.exec("mc.shared['arr'].address").result() for _ in range(6)}
        self.assertEqual(addresses, {arr.address})
        self.pool.exec("m = memoryview(mc.shared['arr'])\nm[0] = 100").result()
        self.assertEqual(arr[0], 100)
        self.assertEqual(self.pool.submit("builtins:sum", (memoryview(arr).tolist(),)).result(), 145)

    def test_shared_array_passed_as_argument_is_not_copied(self):
        arr = _manycore.SharedArray("d", 1 << 20)
        got = self.pool.submit("helpers:identity", (arr,)).result()
        self.assertEqual(got.address, arr.address)
        self.assertEqual(len(got), 1 << 20)

    def test_atomic_counter_is_exact_across_workers(self):
        ctr = _manycore.SharedArray("q", 1)
        futs = [self.pool.submit("helpers:count_up", (ctr, 5000)) for _ in range(6)]
        for f in futs:
            f.result()
        self.assertEqual(ctr.load(0), 30000)

    def test_channel_carries_values_from_workers_in_order_per_producer(self):
        ch = _manycore.Channel(16)
        producers = 4
        futs = [self.pool.submit("helpers:produce", (ch, p, 2000)) for p in range(producers)]
        seen = {p: -1 for p in range(producers)}
        count = 0
        while count < producers * 2000:
            p, seq = ch.recv(timeout=30)
            self.assertEqual(seq, seen[p] + 1)  # nothing lost, duplicated or reordered
            seen[p] = seq
            count += 1
        for f in futs:
            f.result()
        self.assertEqual(len(ch), 0)

    def test_closed_channel_drains_then_stops_iteration(self):
        ch = _manycore.Channel(8)
        for i in range(5):
            ch.send(i)
        ch.close()
        self.assertTrue(ch.closed)
        self.assertEqual(list(ch), [0, 1, 2, 3, 4])
        with self.assertRaises(_manycore.ChannelClosed):
            ch.recv()
        with self.assertRaises(_manycore.ChannelClosed):
            ch.send(5)

    def test_timeouts(self):
        ch = _manycore.Channel(1)
        with self.assertRaises(TimeoutError):
            ch.recv(timeout=0.02)
        ch.send("x")
        with self.assertRaises(TimeoutError):
            ch.send("y", timeout=0.02)

    def test_blocked_receiver_wakes_on_send_from_a_worker(self):
        ch = _manycore.Channel(1)
        got = []
        t = threading.Thread(target=lambda: got.append(ch.recv(timeout=30)))
        t.start()
        self.pool.submit("helpers:send_one", (ch, {"k": [1, 2]})).result()
        t.join()
        self.assertEqual(got, [{"k": [1, 2]}])

    def test_select_takes_whichever_channel_is_ready(self):
        a, b = _manycore.Channel(2), _manycore.Channel(2)
        self.pool.submit("helpers:send_one", (b, "from b")).result()
        self.assertEqual(_manycore.select([a, b], timeout=5), (b, "from b"))
        a.close()
        b.close()
        with self.assertRaises(_manycore.ChannelClosed):
            _manycore.select([a, b])

    def test_channels_travel_inside_channels(self):
        outer, inner = _manycore.Channel(1), _manycore.Channel(1)
        outer.send(inner)
        received = outer.recv()
        self.assertEqual(received, inner)
        received.send(42)
        self.assertEqual(inner.recv(), 42)

    def test_bad_input_is_refused_clearly(self):
        ro_source = _manycore.SharedArray("b", 3)
        with self.assertRaises(TypeError):
            _manycore.SharedArray("d", 2).add(0, 1)
        with self.assertRaises(IndexError):
            ro_source[3]
        with self.assertRaises(ValueError):
            _manycore.SharedArray("z", 2)
        with self.assertRaises(OverflowError):
            _manycore.SharedArray("b", [300])
        with self.assertRaises(KeyError):
            self.pool.exec("mc.shared['missing']").result()
        with self.assertRaises(TypeError):
            self.pool.publish("x", [1, 2])


if __name__ == "__main__":
    unittest.main()
