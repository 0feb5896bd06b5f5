"""A stand-in for PVE's ``pvesh`` (and ``pmgsh``): it parses the command line as pvesh
does, answers by calling our mock server over HTTP (the URL is in ``fake-pvesh.json``
next to the installed script), and prints like pvesh: the data as JSON on stdout, errors
on stderr (``NNN message`` plus ``param: message`` lines for a 400, the bare message for
a 500) with exit code 255. With ``"junk": true`` it prints a Perl warning line before the
JSON, the quirk the pvesh backends must skip. Every command line is appended to
``calls.log`` for assertions.
"""

import json
import os
import re
import sys

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
VERBS = {"get": "GET", "create": "POST", "set": "PUT", "delete": "DELETE", "ls": "GET"}


def main(argv: list[str]) -> int:
    with open(os.path.join(HERE, "fake-pvesh.json")) as f:
        cfg = json.load(f)
    with open(os.path.join(HERE, "calls.log"), "a") as f:
        f.write(json.dumps(argv) + "\n")
    if len(argv) < 2 or argv[0] not in VERBS:
        print("ERROR: unknown command 'pvesh " + " ".join(argv[:1]) + "'", file=sys.stderr)
        return 255
    verb, path, rest = argv[0], argv[1], argv[2:]
    params: dict[str, list[str]] = {}
    output = "text"
    i = 0
    while i < len(rest):
        key = rest[i]
        if key == "--output-format":
            output = rest[i + 1]
            i += 2
            continue
        if not key.startswith("-") or i + 1 >= len(rest):
            print(f"400 unable to parse option '{key}'", file=sys.stderr)
            return 255
        params.setdefault(key.lstrip("-"), []).append(rest[i + 1])
        i += 2
    if output != "json":
        print("400 expected --output-format json from the SDK", file=sys.stderr)
        return 255
    url = cfg["url"] + "/api2/json" + path
    method = VERBS[verb]
    tmp = params.pop("tmpfilename", [None])[0]
    if tmp is not None:
        if not re.fullmatch(r"/var/tmp/pveupload-[0-9a-f]+", tmp) or not os.path.isfile(tmp):
            print(f"400 Parameter verification failed.\ntmpfilename: bad '{tmp}'", file=sys.stderr)
            return 255
        name = params.pop("filename")[0]
        with open(tmp, "rb") as f:
            resp = requests.post(
                url,
                data={k: v[0] for k, v in params.items()},
                files={"filename": (name, f, "application/octet-stream")},
                timeout=30,
            )
    elif method in {"GET", "DELETE"}:
        resp = requests.request(method, url, params=params, timeout=30)
    else:
        resp = requests.request(method, url, data=params, timeout=30)
    try:
        body = resp.json()
    except ValueError:
        body = {}
    if resp.status_code >= 400:
        if resp.status_code == 500:
            print(resp.reason, file=sys.stderr)
        else:
            print(f"{resp.status_code} {resp.reason}", file=sys.stderr)
            for k, v in sorted((body.get("errors") or {}).items()):
                print(f"{k}: {v}".rstrip(), file=sys.stderr)
        return 255
    if cfg.get("junk") and method == "GET":
        print(
            "Use of uninitialized value $x in concatenation at /usr/share/perl5/PVE/X.pm line 42."
        )
    print(json.dumps(body.get("data"), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
