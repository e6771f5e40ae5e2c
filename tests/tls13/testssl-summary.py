#!/usr/bin/python3
"""The testssl.sh runs of tests/tls13/testssl.sh side by side, as a
markdown table (READMEs/README.tls.md keeps the last one), and the verdict:
exit 1 when testssl rates anything about kite's TLS MEDIUM or worse.

usage: testssl-summary.py OUT_DIR   (the *.json files testssl.sh wrote)
"""
import glob
import json
import os
import sys

# Findings about the test certificate itself, the same for every server.
CERT_ONLY = {"cert_revocation", "DNS_CAArecord", "OCSP_stapling", "cert_mustStapleExtension",
             "cert_crlDistributionPoints", "cert_ocspURL"}
BAD = ("MEDIUM", "HIGH", "CRITICAL")
PROTOS = [("SSLv2", "SSLv2"), ("SSLv3", "SSLv3"), ("TLS1", "1.0"), ("TLS1_1", "1.1"),
          ("TLS1_2", "1.2"), ("TLS1_3", "1.3")]


def load(path):
    with open(path) as f:
        data = json.load(f)
    if isinstance(data, dict):  # --jsonfile-pretty
        data = [x for s in data.get("scanResult", []) for v in s.values()
                if isinstance(v, list) for x in v]
    return {x["id"]: x for x in data}, data


def fs_suites(by_id):
    """The forward-secret suites testssl found: (TLS 1.3, TLS 1.2)."""
    f = (by_id.get("FS_ciphers") or by_id.get("PFS_ciphers") or {}).get("finding", "").split()
    return [c for c in f if c.startswith("TLS_")], [c for c in f if not c.startswith("TLS_")]


def get(by_id, *ids):
    for i in ids:
        if i in by_id:
            return by_id[i].get("finding", "")
    return "?"


def row(name, by_id, data):
    protos = [label for key, label in PROTOS
              if by_id.get(key, {}).get("finding", "").startswith("offered")]
    s13, s12 = fs_suites(by_id)
    groups = get(by_id, "FS_ECDHE_curves", "PFS_ECDHE_curves")
    fs = get(by_id, "FS", "PFS")
    notes = ["%s %s" % (x["severity"], x["id"]) for x in data
             if x["severity"] in ("LOW",) + BAD and x["id"] not in CERT_ONLY]
    return ("| %s | %s | %d | %d | %s | %s | %s |" % (
        name, " ".join(protos), len(s13), len(s12), groups, fs, ", ".join(notes) or "none"),
        [n for n in notes if n.split()[0] in BAD])


def main():
    out = sys.argv[1]
    lines = ["| server | protocols | TLS 1.3 suites | TLS 1.2 FS suites | groups | forward "
             "secrecy | findings LOW or worse (certificate's own left out) |",
             "|---|---|---|---|---|---|---|"]
    failed = []
    for path in sorted(glob.glob(os.path.join(out, "*.json"))):
        name = os.path.basename(path)[:-5]
        by_id, data = load(path)
        line, bad = row(name, by_id, data)
        lines.append(line)
        if name.startswith("kite") and (bad or not data):
            failed.append("%s: %s" % (name, ", ".join(bad) or "no result"))
    for name in sorted(glob.glob(os.path.join(out, "kite-*.json"))):
        by_id, _ = load(name)
        s13, s12 = fs_suites(by_id)
        lines.append("")
        lines.append("%s: TLS 1.3 %s; TLS 1.2 %s; order: %s" % (
            os.path.basename(name)[:-5], " ".join(s13) or "-", " ".join(s12) or "-",
            get(by_id, "cipher_order")))
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(text)
    sys.stdout.write(text)
    for f in failed:
        print("testssl: kite rated weak: " + f)
    print("testssl: %s" % ("FAILED" if failed else "kite passes (nothing MEDIUM or worse)"))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
