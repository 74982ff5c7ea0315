"""Checks what schemathesis takes on trust in the OpenAPI document: every path parameter is a
`{name}` in its path and every `{name}` is declared as a path parameter. (A query struct
without `#[into_params(parameter_in = Query)]` shows up as a required *path* parameter, and
the fuzzer then never sends it.)

    python3 check_document.py URL_OF_OPENAPI_JSON
"""

import json
import re
import sys
import urllib.request


def main():
    with urllib.request.urlopen(sys.argv[1], timeout=30) as resp:
        doc = json.load(resp)
    problems = []
    count = 0
    for path, ops in doc["paths"].items():
        placeholders = set(re.findall(r"\{([^}]+)\}", path))
        for method, op in ops.items():
            if not isinstance(op, dict):
                continue
            count += 1
            declared = {p["name"] for p in op.get("parameters", []) if p.get("in") == "path"}
            for name in sorted(declared - placeholders):
                problems.append(f"{method.upper()} {path}: parameter `{name}` is declared in the path but is not in it (a query parameter? add #[into_params(parameter_in = Query)])")
            for name in sorted(placeholders - declared):
                problems.append(f"{method.upper()} {path}: `{{{name}}}` is not declared as a path parameter")
    for p in problems:
        print("openapi.json: " + p, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"openapi.json: {count} operations, path parameters consistent", file=sys.stderr)


if __name__ == "__main__":
    main()
