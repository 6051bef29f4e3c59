"""The Python examples of docs/python.md and the README run as written."""
import os
import re
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def python_blocks(path):
    with open(path, encoding="utf-8") as f:
        return re.findall(r"```python\n(.*?)```", f.read(), re.S)


class DocsTest(unittest.TestCase):
    def check_file(self, name):
        blocks = python_blocks(os.path.join(ROOT, name))
        self.assertTrue(blocks, f"{name} has no python examples")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        for i, code in enumerate(blocks):
            with self.subTest(f"{name} example {i + 1}"):
                with tempfile.TemporaryDirectory() as tmp:
                    script = os.path.join(tmp, "example.py")
                    with open(script, "w") as f:
                        f.write(code)
                    r = subprocess.run([sys.executable, script], capture_output=True, text=True,
                                       env=env, timeout=120)
                self.assertEqual(r.returncode, 0, r.stderr)
                # "print(x)  # value ..." comments state what the example prints.
                expected = [m.group(1).split()[0].rstrip(",:")
                            for m in re.finditer(r"print\(.*\)\s+#\s*(.+)", code)]
                for want in expected:
                    self.assertIn(want, r.stdout)

    def test_python_guide_examples(self):
        self.check_file("docs/python.md")

    def test_readme_examples(self):
        self.check_file("README.md")


if __name__ == "__main__":
    unittest.main()
