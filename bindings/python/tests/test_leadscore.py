"""Tests of the Python binding (bindings/python/leadscore) over the C API.

Run by ctest as `python3 -m unittest discover` with LEADSCORE_C_LIBRARY set
to the built libleadscore_c.so and PYTHONPATH to bindings/python.
"""

import csv
import datetime
import os
import tempfile
import threading
import unittest

import leadscore

SRC = os.environ.get(
    "LEADSCORE_SOURCE_DIR",
    os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..")))
COMMUNITY = os.path.join(SRC, "examples", "models", "community.textproto")
QUICKSTART = os.path.join(SRC, "examples", "quickstart", "events.csv")

T0 = 1767225600000  # 2026-01-01T00:00:00Z
DAY = 86400000

MODEL = """
name: "py_test"
score { name: "engagement" half_life: "30d" min: 0 max: 500 }
score { name: "fit" min: -100 max: 100 }
score { name: "lead" formula: "score.engagement + score.fit" }
rule { name: "demo" on: "demo.request" score: "engagement" points: 40 }
rule { name: "course" on: "course.attend" score: "engagement" points: 10 }
fit { name: "decision_maker" when: "member.role == 'decision_maker'" score: "fit" points: 25 }
tag { name: "learner" on: "course.*" ttl: "14d" }
lifecycle { initial: "member" stage: ["member", "lead"]
  transition { from: "member" to: "lead" when: "score.lead >= 60.0" } }
flag { name: "sales_ready" when: "score.lead >= 100.0" rearm: "score.lead < 70.0" }
"""


def demo(event_id, member, time, **extra):
    e = {"event_id": event_id, "member_id": member, "time": time, "type": "demo.request"}
    e.update(extra)
    return e


def read_quickstart():
    """The quickstart CSV as event dicts (RFC 3339 times parsed here)."""
    events = []
    with open(QUICKSTART, newline="") as f:
        for row in csv.DictReader(f):
            e = {"event_id": row["event_id"], "member_id": row["member_id"],
                 "type": row["type"], "attrs": {}, "profile": {}}
            try:
                t = datetime.datetime.fromisoformat(row["time"].replace("Z", "+00:00"))
                e["time"] = t
            except ValueError:
                e["time"] = None  # a bad time: rejected as invalid
            for k, v in row.items():
                if v and k.startswith("attr."):
                    e["attrs"][k[5:]] = v
                if v and k.startswith("profile."):
                    e["profile"][k[8:]] = v
            for k in ("group_id", "channel"):
                if row.get(k):
                    e[k] = row[k]
            if row.get("value"):
                e["value"] = float(row["value"])
            events.append(e)
    return events


class ModelTest(unittest.TestCase):
    def test_version(self):
        self.assertRegex(leadscore.version(), r"^\d+\.\d+\.\d+$")

    def test_load_and_names(self):
        m = leadscore.Model.from_text(MODEL)
        self.assertEqual(m.name, "py_test")
        self.assertEqual(m.scores, ("engagement", "fit", "lead"))
        self.assertEqual(m.tags, ("learner",))
        self.assertEqual(m.stages, ("member", "lead"))
        self.assertEqual(m.flags, ("sales_ready",))
        self.assertEqual(m.rules, ("demo", "course", "decision_maker"))
        self.assertEqual(m.counters, ())
        self.assertEqual(m.allowed_lateness_ms, 7 * DAY)
        self.assertEqual(leadscore.Model.load(COMMUNITY).name, "b2b-community")

    def test_bad_model_lists_every_problem(self):
        with self.assertRaises(leadscore.InvalidArgument) as cm:
            leadscore.Model.from_text('rule { name: "r" score: "nope" on: "x" }\n'
                                      'flag { name: "f" when: "score.zzz > 1" }\n',
                                      "bad.textproto")
        self.assertIn("bad.textproto:1:", str(cm.exception))
        self.assertIn("bad.textproto:2:", str(cm.exception))
        self.assertEqual(cm.exception.code_name, "INVALID_ARGUMENT")
        self.assertIsInstance(cm.exception, ValueError)

    def test_missing_file(self):
        with self.assertRaises(leadscore.NotFound):
            leadscore.Model.load("/no/such/model.textproto")

    def test_json(self):
        m = leadscore.Model.from_json('{"name": "j", "score": [{"name": "s"}]}')
        self.assertEqual(m.scores, ("s",))
        with self.assertRaises(leadscore.InvalidArgument):
            leadscore.Model.from_json('{"nope": 1}')


class StoreTest(unittest.TestCase):
    def setUp(self):
        self.model = leadscore.Model.from_text(MODEL)
        self.store = leadscore.Store(self.model)

    def test_apply_and_read_a_member(self):
        s = self.store
        s.apply(demo("e1", "m1", T0, profile={"role": "decision_maker"}))
        m = s.member("m1")
        self.assertEqual(m["member_id"], "m1")
        self.assertEqual(m["stage"], "lead")
        self.assertEqual(m["scores"], {"engagement": 40, "fit": 25, "lead": 65})
        self.assertEqual(m["flags"]["sales_ready"],
                         {"armed": True, "raised": 0, "last_raised": None})
        self.assertIsNone(s.member("nobody"))
        self.assertIn("m1", s)
        self.assertNotIn("m2", s)
        self.assertEqual(len(s), 1)
        self.assertEqual(list(s), ["m1"])

    def test_changes_iterator_and_flag(self):
        s = self.store
        s.apply_many([
            demo("e1", "m1", T0, profile={"role": "decision_maker"}),
            {"event_id": "e2", "member_id": "m1", "time": T0 + 1000, "type": "course.attend"},
            demo("e3", "m1", T0 + 2000),
        ])
        kinds = [(c["kind"], c.get("tag") or c.get("to") or c.get("flag"))
                 for c in s.changes()]
        self.assertEqual(kinds, [("stage_changed", "lead"), ("tag_added", "learner"),
                                 ("flag_raised", "sales_ready")])
        self.assertEqual(list(s.changes()), [])  # drained
        self.assertEqual(s.stats["flags_raised"], 1)

    def test_flag_raise_has_reasons(self):
        s = self.store
        s.apply_many([demo("e%d" % i, "m1", T0, profile={"role": "decision_maker"})
                      for i in range(2)])
        raised = [c for c in s.changes() if c["kind"] == "flag_raised"]
        self.assertEqual(len(raised), 1)
        self.assertEqual(raised[0]["reasons"][0], {"rule": "demo", "score": "engagement",
                                                   "points": 80})
        self.assertEqual(raised[0]["scores"]["lead"], 105)

    def test_callback(self):
        s = leadscore.Store(self.model, queue=False)
        seen = []
        s.on_change(seen.append)
        s.apply(demo("e1", "m1", T0, profile={"role": "decision_maker"}))
        self.assertEqual([c["kind"] for c in seen], ["stage_changed"])
        self.assertEqual(s.queued, 0)
        s.on_change(None)
        s.apply(demo("e2", "m1", T0 + 1))
        self.assertEqual(len(seen), 1)

    def test_callback_exception_is_raised_from_the_call(self):
        def boom(change):
            raise KeyError("from the callback")
        self.store.on_change(boom)
        with self.assertRaises(KeyError):
            self.store.apply(demo("e1", "m1", T0, profile={"role": "decision_maker"}))
        # The event was applied all the same.
        self.assertEqual(self.store.member("m1")["stage"], "lead")

    def test_calling_the_store_from_its_callback_fails(self):
        s = self.store

        def reenter(change):
            s.member("m1")
        s.on_change(reenter)
        with self.assertRaises(leadscore.FailedPrecondition):
            s.apply(demo("e1", "m1", T0, profile={"role": "decision_maker"}))

    def test_rejections_are_counted_not_raised(self):
        s = self.store
        s.apply(demo("e1", "m1", T0))
        s.apply(demo("e1", "m1", T0))            # duplicate
        s.apply(demo("e2", "m1", None))          # no time
        s.apply(demo("e3", "", T0))              # no member
        s.apply(demo("e4", "m1", T0 - 30 * DAY))  # too late
        s.apply(demo("e5", "m1", T0, value=float("nan")))
        s.reject("m9", "r1", T0, "after_as_of", "later than the as-of time")
        self.assertEqual(s.stats["rejected"], {"invalid": 3, "too_late": 1, "duplicate": 1,
                                               "after_as_of": 1})
        self.assertEqual(s.stats["events_applied"], 1)
        reasons = [c["reason"] for c in s.changes() if c["kind"] == "rejected"]
        self.assertEqual(reasons, ["duplicate", "invalid", "invalid", "too_late", "invalid",
                                   "after_as_of"])
        with self.assertRaises(ValueError):
            s.apply({"member": "typo"})

    def test_advance_and_reading_at_a_time(self):
        s = self.store
        s.apply({"event_id": "e1", "member_id": "m1", "time": T0, "type": "course.attend"})
        self.assertEqual(s.member("m1")["tags"], ["learner"])
        later = T0 + 20 * DAY
        self.assertEqual(s.member("m1", at=later)["tags"], ["learner"])  # reads change nothing
        self.assertAlmostEqual(s.member("m1", at=T0 + 30 * DAY)["scores"]["engagement"], 5)
        s.advance("m1", later)
        self.assertEqual(s.member("m1")["tags"], [])
        self.assertEqual([c["kind"] for c in s.changes()], ["tag_added", "tag_removed"])
        with self.assertRaises(leadscore.NotFound):
            s.advance("nobody", later)
        s.advance_all(datetime.datetime(2026, 3, 1, tzinfo=datetime.timezone.utc))
        view = s.view("m1")
        self.assertTrue(view.startswith(b"\x0a\x02m1"))
        self.assertIsNone(s.view("nobody"))

    def test_datetimes(self):
        s = self.store
        s.apply({"event_id": "e1", "member_id": "m1", "type": "demo.request",
                 "time": datetime.datetime(2026, 1, 1)})
        self.assertEqual(s.member("m1")["stage_since"], T0)
        with self.assertRaises(TypeError):
            s.apply({"event_id": "e2", "member_id": "m1", "time": "2026-01-01"})

    def test_protobuf_bytes(self):
        # leadscore.v1.MemberEvent {event_id: "p1" member_id: "m1" time: T0
        # type: "demo.request"} written by hand (no protobuf package needed).
        def varint(v):
            out = bytearray()
            while v >= 0x80:
                out.append((v & 0x7F) | 0x80)
                v >>= 7
            out.append(v)
            return bytes(out)

        def field(n, s):
            return varint(n << 3 | 2) + varint(len(s)) + s
        ev = field(1, b"p1") + field(2, b"m1") + varint(3 << 3) + varint(T0) + \
            field(4, b"demo.request")
        self.store.apply_proto(ev)
        ev2 = field(1, b"p2") + field(2, b"m1") + varint(3 << 3) + varint(T0) + \
            field(4, b"demo.request")
        self.store.apply_proto_batch(field(1, ev2))
        self.assertEqual(self.store.member("m1")["scores"]["engagement"], 80)
        with self.assertRaises(leadscore.InvalidArgument):
            self.store.apply_proto(b"\xff\xff\xff")


class DurableStateTest(unittest.TestCase):
    def setUp(self):
        self.model = leadscore.Model.load(COMMUNITY)
        self.events = read_quickstart()
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def scored(self):
        s = leadscore.Store(self.model)
        s.apply_many(self.events)
        return s

    def test_snapshot_round_trip(self):
        s = self.scored()
        path = os.path.join(self.dir.name, "store.snap")
        s.save(path)
        r = leadscore.Store.load(self.model, path)
        self.assertEqual(r.member_ids(), s.member_ids())
        for m in s.member_ids():
            self.assertEqual(r.member(m), s.member(m))
            self.assertEqual(r.view(m), s.view(m))
        self.assertEqual(r.stats, s.stats)
        self.assertEqual(r.restore_notes, [])

    def test_corrupt_or_truncated_snapshot_is_data_loss(self):
        s = self.scored()
        path = os.path.join(self.dir.name, "store.snap")
        s.save(path)
        with open(path, "rb") as f:
            good = f.read()
        bad = os.path.join(self.dir.name, "bad.snap")
        for i in range(0, len(good), 7):
            flipped = bytearray(good)
            flipped[i] ^= 0xFF
            if os.path.exists(bad):
                os.remove(bad)  # a new file: truncating in place may flush to disk
            with open(bad, "wb") as f:
                f.write(bytes(flipped))
            with self.assertRaises(leadscore.DataLoss, msg="byte %d" % i):
                leadscore.Store.load(self.model, bad)
        with open(bad, "wb") as f:
            f.write(good[:len(good) // 2])
        with self.assertRaises(leadscore.DataLoss) as cm:
            leadscore.Store.load(self.model, bad)
        self.assertIn("truncated", str(cm.exception))
        with self.assertRaises(leadscore.NotFound):
            leadscore.Store.load(self.model, os.path.join(self.dir.name, "none.snap"))

    def test_export_import_and_the_state_in_a_row_pattern(self):
        whole = self.scored()
        rows = {}  # a host's table: member_id -> bytes
        scratch = leadscore.Store(self.model)
        for e in self.events:
            m = e["member_id"]
            if m in rows:
                scratch.import_member(rows[m])
            scratch.apply(e)
            if m in scratch:
                rows[m] = scratch.export_member(m)
                scratch.erase(m)
            self.assertEqual(len(scratch), 0)
        self.assertEqual(list(scratch.changes()), list(whole.changes()))
        final = leadscore.Store(self.model)
        for m, b in sorted(rows.items()):
            self.assertEqual(final.import_member(b), [])
        for m in whole.member_ids():
            self.assertEqual(final.member(m), whole.member(m))
            self.assertEqual(final.export_member(m), whole.export_member(m))

    def test_member_bytes_errors(self):
        s = self.scored()
        b = s.export_member("alice")
        with self.assertRaises(leadscore.DataLoss):
            s.import_member(b[:-3])
        flipped = bytearray(b)
        flipped[len(b) // 2] ^= 0x10
        with self.assertRaises(leadscore.DataLoss):
            s.import_member(bytes(flipped))
        with self.assertRaises(leadscore.InvalidArgument):
            s.import_member(b"not state at all")
        other = leadscore.Store(leadscore.Model.from_text(MODEL))
        with self.assertRaises(leadscore.InvalidArgument):
            other.import_member(b)
        with self.assertRaises(leadscore.NotFound):
            s.export_member("nobody")
        with self.assertRaises(leadscore.NotFound):
            s.erase("nobody")

    def test_a_changed_model_reports_what_it_dropped(self):
        s = self.scored()
        with open(COMMUNITY) as f:
            text = f.read()
        text = text.replace(
            'rule { name: "demo" on: "demo.request" score: "engagement" points: 40 }', "")
        changed = leadscore.Model.from_text(text)
        r = leadscore.Store(changed)
        notes = r.import_member(s.export_member("alice"))
        self.assertEqual(notes, ['rule "demo": not an event rule of the model, ledger and '
                                 'cap memory dropped (its points stay in the score)'])
        self.assertEqual(r.member("alice")["scores"], s.member("alice")["scores"])


class ShardTest(unittest.TestCase):
    def test_sharded_stores_on_threads_equal_one_store(self):
        # One model shared by four threads, one store per thread, members
        # routed by shard_of: the members are those of a single store.
        model = leadscore.Model.load(COMMUNITY)
        events = read_quickstart() * 3  # copies are rejected as duplicates
        for i, e in enumerate(list(events)):
            copy = dict(e, member_id="%s-%d" % (e["member_id"], i % 7))
            events.append(copy)
        n = 4
        stores = [leadscore.Store(model, queue=False) for _ in range(n)]
        routed = [[e for e in events if leadscore.shard_of(e["member_id"], n) == k]
                  for k in range(n)]
        threads = [threading.Thread(target=stores[k].apply_many, args=(routed[k],))
                   for k in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        one = leadscore.Store(model, queue=False)
        one.apply_many(events)
        members = {}
        for s in stores:
            for m in s.member_ids():
                members[m] = s.member(m)
        self.assertEqual(sorted(members), one.member_ids())
        for m in one.member_ids():
            self.assertEqual(members[m], one.member(m))
        self.assertEqual(sum(s.stats["events_applied"] for s in stores),
                         one.stats["events_applied"])


    def test_shards_are_stable_and_spread(self):
        shards = [leadscore.shard_of("m%d" % i, 4) for i in range(400)]
        self.assertEqual(shards, [leadscore.shard_of("m%d" % i, 4) for i in range(400)])
        self.assertEqual(sorted(set(shards)), [0, 1, 2, 3])
        with self.assertRaises(ValueError):
            leadscore.shard_of("m1", 0)


if __name__ == "__main__":
    unittest.main()
