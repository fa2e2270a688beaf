#!/usr/bin/env python3
"""datatrove's PIIFormatter (src/datatrove/pipeline/formatters/pii.py at
386e030d) rewritten standalone: its e-mail and IPv4 regexes and replacement
strings, e-mails first, an IP replaced only when ipaddress.ip_address(ip)
.is_global. One setting differs, as llmtk states: the replacement cycle starts
afresh in every document (datatrove carries it across a worker's documents).
Usage: datatrove_pii.py [--text-key text] < docs.jsonl > texts.jsonl
Writes {"id", "text", "emails", "ips"} per document.
"""
import argparse
import ipaddress
import json
import re
import sys

EMAIL = re.compile(
    r"\b[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:(?:[a-z0-9](?:[a-z0-9-]*["
    r"a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?|\[(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25["
    r"0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?|[a-z0-9-]*[a-z0-9]:)])")
IP = re.compile(r"(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)")
EMAIL_REPL = ("email@example.com", "firstname.lastname@example.org")
IP_REPL = ("22.214.171.124", "126.96.36.199", "188.8.131.52", "184.108.40.206", "220.127.116.11", "18.104.22.168")


def public_ip_validator(ip):
    try:
        return ipaddress.ip_address(ip).is_global
    except ValueError:
        return False


def replace(regex, repl, text, validator=None):
    state = {"i": 0, "n": 0}

    def get_replacement(m):
        if validator and not validator(m.group(0)):
            return m.group(0)
        r = repl[state["i"]]
        state["i"] = (state["i"] + 1) % len(repl)
        state["n"] += 1
        return r

    return regex.sub(get_replacement, text), state["n"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--text-key", default="text")
    args = ap.parse_args()
    for line in sys.stdin:
        if not line.strip():
            continue
        d = json.loads(line)
        text, emails = replace(EMAIL, EMAIL_REPL, d[args.text_key])
        text, ips = replace(IP, IP_REPL, text, public_ip_validator)
        print(json.dumps({"id": d.get("id"), "text": text, "emails": emails, "ips": ips}, ensure_ascii=False))


if __name__ == "__main__":
    main()
