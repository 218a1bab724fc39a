"""Drives the Ottu sandbox with Ottu's own Python client, ottu-py (pinned in requirements.txt).

A client nobody here wrote is the best proof that the sandbox speaks Ottu: ottu-py retrieves
payments without the trailing slash, reads `payment_methods` as a list, and sends a
Tracking-Key only when given one.

    tools/ottu-py/.venv/bin/python tools/ottu-py/test_sandbox.py [--sandbox PATH] [-v]

PATH (or the DAFTAR_SANDBOX environment variable) is the daftar-sandbox binary; the default is
target/debug/daftar-sandbox. Each test starts from payments it seeds itself through the
sandbox's admin endpoint, so the tests are independent of each other and of their order, and
checks every effect in /_sandbox/state (what "Ottu" holds), not only in ottu-py's answer.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import subprocess
import sys
import threading
import unittest
import urllib.request
import uuid
from pathlib import Path

from ottu import Ottu
from ottu.auth import APIKeyAuth

REPO = Path(__file__).resolve().parents[2]
# How long the sandbox may take to print its start lines (a cold start on a busy machine).
START_DEADLINE_S = 30
# How long one HTTP exchange with the sandbox may take.
HTTP_TIMEOUT_S = 30


class Sandbox:
    """A daftar-sandbox process on a free loopback port, with no seeded payments."""

    def __init__(self, binary: Path) -> None:
        self.process = subprocess.Popen(
            [str(binary), "--port", "0", "--payments", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()

        def read() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                lines.put(line.rstrip("\n"))

        threading.Thread(target=read, daemon=True).start()
        # The first two start lines; admin requests to the loopback address need no token.
        start = {}
        try:
            while len(start) < 2:
                line = lines.get(timeout=START_DEADLINE_S)
                for key, prefix in [
                    ("base_url", "daftar-sandbox listening on "),
                    ("api_key", "api key: "),
                ]:
                    if line.startswith(prefix):
                        start[key] = line[len(prefix) :]
        except queue.Empty:
            self.stop()
            stderr = self.process.stderr.read() if self.process.stderr else ""
            raise RuntimeError(
                f"the sandbox printed {sorted(start)} of its two start lines within "
                f"{START_DEADLINE_S} s (exit code {self.process.returncode}); stderr:\n{stderr}"
            ) from None
        self.base_url: str = start["base_url"]
        self.api_key: str = start["api_key"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def admin(self, method: str, path: str, body: dict | None = None) -> dict:
        """An admin request (loopback Host, JSON): /_sandbox/payments, /_sandbox/state."""
        request = urllib.request.Request(
            f"{self.base_url}{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
            return json.load(response)

    def add_payment(self, amount: str, state: str = "paid") -> str:
        """Seeds a KWD payment through the sandbox's admin endpoint; returns its session id."""
        session_id = uuid.uuid4().hex
        self.admin(
            "POST",
            "/_sandbox/payments",
            {
                "session_id": session_id,
                "order_no": f"PY-{session_id[:8]}",
                "amount": amount,
                "state": state,
            },
        )
        return session_id

    def state(self) -> dict:
        return self.admin("GET", "/_sandbox/state")

    def payment(self, session_id: str) -> dict:
        return next(p for p in self.state()["payments"] if p["session_id"] == session_id)

    def applied(self, tracking_key: str) -> list[dict]:
        return [
            op
            for op in self.state()["operations"]
            if op["tracking_key"] == tracking_key and op["outcome"] == "applied"
        ]


def sandbox_binary() -> Path:
    return Path(os.environ.get("DAFTAR_SANDBOX", REPO / "target/debug/daftar-sandbox"))


class OttuPyAgainstTheSandbox(unittest.TestCase):
    sandbox: Sandbox

    @classmethod
    def setUpClass(cls) -> None:
        cls.sandbox = Sandbox(sandbox_binary())

    @classmethod
    def tearDownClass(cls) -> None:
        cls.sandbox.stop()

    def setUp(self) -> None:
        # ottu-py builds `https://{merchant_id}` as its base; the sandbox speaks plain HTTP
        # on loopback, so the host URL is pointed at it (every path is still ottu-py's).
        self.ottu = Ottu(
            merchant_id=self.sandbox.base_url.removeprefix("http://"),
            auth=APIKeyAuth(self.sandbox.api_key),
            is_sandbox=True,
            timeout=HTTP_TIMEOUT_S,
        )
        self.ottu.host_url = self.sandbox.base_url

    def tearDown(self) -> None:
        self.ottu.request_session.close()

    def assert_ok(self, answer: dict) -> dict:
        self.assertTrue(answer["success"], answer)
        self.assertEqual(answer["status_code"], 200, answer)
        return answer["response"]

    def assert_refused(self, answer: dict) -> dict:
        self.assertFalse(answer["success"], answer)
        self.assertEqual(answer["status_code"], 400, answer)
        return answer["error"]

    def test_retrieve_reads_a_payment_without_the_trailing_slash(self) -> None:
        session_id = self.sandbox.add_payment("25.500")
        answer = self.ottu.session.retrieve(session_id=session_id)
        # ottu-py's own path: no trailing slash (the sandbox used to answer it with 404).
        self.assertEqual(answer["endpoint"], f"/b/checkout/v1/pymt-txn/{session_id}")
        payment = self.assert_ok(answer)
        self.assertEqual(payment["session_id"], session_id)
        self.assertEqual(payment["amount"], "25.500")
        self.assertEqual(payment["currency_code"], "KWD")
        self.assertEqual(payment["state"], "paid")
        # ottu-py keeps the retrieved session, its payment methods parsed from a list.
        session = self.ottu.session
        self.assertEqual(session.session_id, session_id)
        self.assertEqual([m.code for m in session.payment_methods], ["knet"])
        missing = self.ottu.session.retrieve(session_id="0" * 32)
        self.assertFalse(missing["success"], missing)
        self.assertEqual(missing["status_code"], 404, missing)

    def test_refund_replay_remainder_and_over_refund(self) -> None:
        session_id = self.sandbox.add_payment("25.500")
        key = str(uuid.uuid4())
        first = self.ottu.session.refund(session_id=session_id, amount="10.000", tracking_key=key)
        refund = self.assert_ok(first)
        self.assertEqual(refund["result"], "success", refund)
        self.assertEqual(refund["amount"], "10.000", refund)
        self.assertEqual(refund["txn"]["state"], "refunded", refund)
        self.assertEqual(len(self.sandbox.applied(key)), 1)
        self.assertEqual(self.sandbox.payment(session_id)["refunded_minor"], 10_000)

        # The same Tracking-Key again: Ottu's stored answer, no second refund.
        replayed_before = self.sandbox.state()["counters"]["operations_replayed"]
        replay = self.ottu.session.refund(session_id=session_id, amount="10.000", tracking_key=key)
        self.assertEqual(replay, first)
        self.assertEqual(len(self.sandbox.applied(key)), 1)
        payment = self.sandbox.payment(session_id)
        self.assertEqual(payment["refunded_minor"], 10_000)
        self.assertEqual(len(payment["children"]), 1)
        self.assertEqual(
            self.sandbox.state()["counters"]["operations_replayed"], replayed_before + 1
        )

        # No amount: the remainder.
        rest_key = str(uuid.uuid4())
        rest = self.assert_ok(self.ottu.session.refund(session_id=session_id, tracking_key=rest_key))
        self.assertEqual(rest["amount"], "15.500", rest)
        self.assertEqual(len(self.sandbox.applied(rest_key)), 1)
        self.assertEqual(self.sandbox.payment(session_id)["refunded_minor"], 25_500)

        # Nothing is left: one more fils is refused, and nothing changes.
        over = self.assert_refused(
            self.ottu.session.refund(
                session_id=session_id, amount="0.001", tracking_key=str(uuid.uuid4())
            )
        )
        self.assertEqual(over.get("result"), "failed", over)
        payment = self.sandbox.payment(session_id)
        self.assertEqual(payment["refunded_minor"], 25_500)
        self.assertEqual(len(payment["children"]), 2)

    def test_capture_and_its_replay(self) -> None:
        session_id = self.sandbox.add_payment("40.000", state="authorized")
        key = str(uuid.uuid4())
        first = self.ottu.session.capture(session_id=session_id, amount="30.000", tracking_key=key)
        capture = self.assert_ok(first)
        self.assertEqual(capture["result"], "success", capture)
        self.assertEqual(capture["txn"]["state"], "paid", capture)
        replay = self.ottu.session.capture(session_id=session_id, amount="30.000", tracking_key=key)
        self.assertEqual(replay, first)
        self.assertEqual(len(self.sandbox.applied(key)), 1)
        payment = self.sandbox.payment(session_id)
        self.assertEqual(payment["captured_minor"], 30_000)
        self.assertEqual(len(payment["children"]), 1)
        # The rest can still be captured, by order number this time.
        rest = self.assert_ok(
            self.ottu.session.capture(
                order_id=payment["order_no"], session_id="", tracking_key=str(uuid.uuid4())
            )
        )
        self.assertEqual(rest["amount"], "10.000", rest)
        self.assertEqual(self.sandbox.payment(session_id)["captured_minor"], 40_000)

    def test_an_amount_with_too_many_decimals_is_refused(self) -> None:
        session_id = self.sandbox.add_payment("5.000")
        for amount in ["1.0001", "0.0005"]:
            error = self.assert_refused(
                self.ottu.session.refund(
                    session_id=session_id, amount=amount, tracking_key=str(uuid.uuid4())
                )
            )
            self.assertIn("amount", error, error)
        payment = self.sandbox.payment(session_id)
        self.assertEqual(payment["refunded_minor"], 0)
        self.assertEqual(payment["children"], [])


if __name__ == "__main__":
    # ottu-py logs every refusal as an error; the tests assert refusals on purpose.
    logging.getLogger("ottu-py").addHandler(logging.NullHandler())
    logging.getLogger("ottu-py").propagate = False
    args = sys.argv[1:]
    if "--sandbox" in args:
        at = args.index("--sandbox")
        os.environ["DAFTAR_SANDBOX"] = args[at + 1]
        del args[at : at + 2]
    binary = sandbox_binary()
    if not os.access(binary, os.X_OK):
        sys.exit(f"no daftar-sandbox binary at {binary}: cargo build -p daftar-sandbox")
    unittest.main(argv=[sys.argv[0], *args])
