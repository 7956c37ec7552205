"""bench/ in a tiny quick mode, so the benchmark scripts cannot rot: every board and
build boots, every operation runs, its result is right (the digests and cipher blocks are
checked against the host's hashlib/cryptography), and the JSON and PNG come out; both
guestfwd relays connect and complete handshakes; the idle bench measures every state both
ways. No assertion is on speed: the figures depend on the host (the idle bench's
interrupt rates are counted in the guest's own time)."""
import json

from bench import connect, crypto
from lab_firmware import build_firmware


def test_crypto_bench_quick(qemu, tmp_path):
    for board in crypto.BOARDS.values():
        for hw in (1, 0):
            build_firmware(board, hw)
    out_json, out_png = tmp_path / "crypto.json", tmp_path / "crypto.png"
    rc = crypto.main(["--quick", "--qemu", str(qemu), "--json", str(out_json),
                      "--png", str(out_png)])
    result = json.loads(out_json.read_text())
    rows = {(r["board"], r["build"], r["algo"]): r for r in result["rows"]}
    assert set(rows) == {(b, v, a) for b in crypto.BOARDS for v in crypto.BUILDS
                         for a in crypto.ALGOS}
    for key, r in rows.items():
        assert r["ok"], (key, r["result"], r["expected"])
        assert r["instr_per_kib"] > 0 and r["kib_per_s"] > 0, (key, r)
    assert rc == 0
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = crypto.table(result)
    for algo in crypto.ALGOS:
        assert algo in table
    assert "WRONG" not in table


def test_bench_table_flags_a_wrong_result():
    row = {"board": "F417", "algo": "sha1", "bytes": 1024, "kib_per_s": 1.0,
           "instr_per_kib": 10, "result": "00", "expected": "01"}
    rows = [dict(row, build="HW", ok=True), dict(row, build="SW", ok=False)]
    assert "WRONG" in crypto.table({"rows": rows})


def test_connect_bench_quick(qemu, tmp_path):
    """Every relay's board boots, connects, echoes and completes handshakes; every figure
    is there."""
    elf = build_firmware(connect.MACHINE, 1)
    out_json = tmp_path / "connect.json"
    rc = connect.main(["--quick", "--qemu", str(qemu), "--firmware", str(elf),
                       "--json", str(out_json)])
    result = json.loads(out_json.read_text())
    assert result["server_errors"] == []
    figures = {(r["relay"], r["figure"], r["clock"]): r for r in result["rows"]}
    assert set(figures) == {(relay, f, c) for relay in connect.RELAYS
                            for f, c, _ in connect.FIGURES}
    for key, r in figures.items():
        assert len(r["samples_ms"]) == 2 and r["median_ms"] > 0, (key, r)
    # two counted handshakes and the warm-up, per relay
    assert result["server_handshakes"] == len(connect.RELAYS) * 3
    assert rc == 0
    table = connect.table(result)
    for _, _, what in connect.FIGURES:
        assert what in table


def test_speed_bench_quick(qemu, tmp_path):
    """Both boards boot to the REPL and to a first handshake, and run pystone and the tight
    loop counted and timed; every figure is there and plausible in kind, not in speed."""
    from bench import speed
    for machine in speed.BOARDS.values():
        build_firmware(machine)
    out_json = tmp_path / "speed.json"
    assert speed.main(["--quick", "--qemu", str(qemu), "--json", str(out_json)]) == 0
    result = json.loads(out_json.read_text())
    assert [r["board"] for r in result["rows"]] == ["F417", "F439"]
    for r in result["rows"]:
        assert 0 < r["boot_repl_s"] < r["boot_handshake_s"], r
        # instruction counts come from the guest's clock under -icount: a pystone loop is
        # hundreds of instructions at least, the tight loop's turn a few
        assert r["pystone_instructions"] > 100 * r["pystone_loops"], r
        assert r["loop_instructions"] > r["loop_turns"], r
        assert r["pystone_mips"] > 0 and r["loop_mips"] > 0, r
    assert "pystones/s" in speed.table(result)


def test_idle_bench_quick(qemu, tmp_path):
    from bench import idle
    build_firmware("stm324xg-eval")
    out_json = tmp_path / "idle.json"
    assert idle.main(["--quick", "--qemu", str(qemu), "--json", str(out_json)]) == 0
    result = json.loads(out_json.read_text())
    rows = {(r["state"], r["mode"]): r for r in result["rows"]}
    assert set(rows) == {(s, m) for s in idle.STATES for m in idle.MODES}
    for key, r in rows.items():
        assert r["guest_ms"] > 0 and r["cpu_percent"] >= 0, (key, r)
    # the guest's own counts, not the host's speed: the 1 ms tick interrupts ~1000 times a
    # second of guest time, tickless idle far less (60-80/s for the applications over 10 s;
    # a 1 s window can still hold some of their start-up)
    for state in idle.STATES:
        assert rows[(state, "1 ms tick")]["systick_per_s"] >= 900, rows
        assert rows[(state, "tickless")]["systick_per_s"] <= 500, rows
    assert "tickless" in idle.table(result)


def test_tls_records_bench_quick(qemu, tmp_path):
    """Every board and build reads TLS records from the PC with the suite it offered; the
    bytes' SHA-256 matches the PC's; both figures and the PNG come out."""
    from bench import tls_records
    for board in crypto.BOARDS.values():
        for hw in (1, 0):
            build_firmware(board, hw)
    out_json, out_png = tmp_path / "tls.json", tmp_path / "tls.png"
    rc = tls_records.main(["--quick", "--qemu", str(qemu), "--json", str(out_json),
                           "--png", str(out_png)])
    result = json.loads(out_json.read_text())
    rows = {(r["board"], r["build"], r["suite"]): r for r in result["rows"]}
    suite = tls_records.SUITES[0]
    assert set(rows) == {(b, v, suite) for b in crypto.BOARDS for v in crypto.BUILDS}
    for key, r in rows.items():
        assert r["ok"] and r["negotiated"] == suite, (key, r)
        assert r["instr_per_kib"] > 0 and r["kib_per_s"] > 0, (key, r)
    assert rc == 0
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert suite in tls_records.table(result) and "WRONG" not in tls_records.table(result)


def test_tls_records_table_flags_a_wrong_result():
    from bench import tls_records
    row = {"board": "F417", "suite": "AES128-SHA", "bytes": 1024, "kib_per_s": 1.0,
           "instr_per_kib": 10, "negotiated": "AES128-SHA"}
    rows = [dict(row, build="HW", ok=True), dict(row, build="SW", ok=False)]
    assert "WRONG" in tls_records.table({"rows": rows})


def test_tls_prf_bench_quick(qemu, tmp_path):
    """Every board and build runs a handshake's PRF calls and the single HMACs with the
    right results (checked against the host's PRF and hmac); the F439's hardware build
    does the SHA-256 PRF's 28 HMACs on the HASH and refuses the SHA-384 PRF's 4 calls."""
    from bench import tls_prf
    for board in crypto.BOARDS.values():
        for hw in (1, 0):
            build_firmware(board, hw)
    out_json = tmp_path / "prf.json"
    assert tls_prf.main(["--quick", "--qemu", str(qemu), "--json", str(out_json)]) == 0
    results = json.loads(out_json.read_text())["results"]
    assert set(results) == {f"{b}-{v}" for b in crypto.BOARDS for v in crypto.BUILDS}
    for name, r in results.items():
        assert set(r["prf"]) == {"sha256", "sha384"}, name
        assert all(v > 0 for v in r["prf"].values()) and all(v > 0 for v in r["hmac"].values())
    assert results["F439-HW"]["hmac_counts"] == ["(0, 0)", "(28, 4)"]
    assert results["F439-SW"]["hmac_counts"] == ["None", "None"]
