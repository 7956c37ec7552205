"""NIST CAVP response files (tests/vectors/cryp/*.rsp): one parser for the qtests
(test_cryp.py) and the Renode peripherals' runner (renode_pydev.py, which also runs on
Python 2.7, so this module stays Python 2.7 and 3 compatible)."""
import re


def rsp_records(text):
    """Records of a CAVP file's text: dicts with the section headers ([ENCRYPT],
    [Keylen = 128, ...]) and file-level parameters merged in; "FAIL" lines set FAIL."""
    records, params, cur, direction = [], {}, None, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^\[(ENCRYPT|DECRYPT)\]$", line)
        if m:
            direction, cur = m.group(1), None
            continue
        m = re.match(r"^\[(.*)\]$", line)
        if m:
            cur = None
            for part in m.group(1).split(","):
                k, v = (x.strip() for x in part.split("="))
                params[k] = v
            continue
        if line == "FAIL":
            cur["FAIL"] = True
            continue
        k, _, v = (x.strip() for x in line.partition("="))
        if k.upper() == "COUNT":
            cur = dict(params, DIRECTION=direction)
            records.append(cur)
        if cur is None:
            params[k] = v   # file-level parameters (CCM files)
        else:
            cur[k] = v
    return records
