"""Drives `codefuel serve` with SandboxFusion's own client (`sandbox-fusion` from PyPI).

    python sandbox_fusion_client.py http://127.0.0.1:PORT

Prints one JSON line per case: the client's view of the response.
"""
import json
import sys

from sandbox_fusion import RunCodeRequest, run_code, set_endpoint

set_endpoint(sys.argv[1])
cases = {
    "stdin": RunCodeRequest(code="a, b = map(int, input().split())\nprint(a + b)\n",
                            language="python", stdin="20 22\n"),
    "fails": RunCodeRequest(code="print('before')\nraise ValueError('bad')\n", language="python"),
    "times_out": RunCodeRequest(code="while True:\n    pass\n", language="python", run_timeout=0.2),
    "files": RunCodeRequest(
        code="rows = open('in.csv').read().split()\nprint(len(rows))\n"
             "open('result.txt', 'w').write(str(sum(int(r) for r in rows)))\n",
        language="python", files={"in.csv": "NQoxMAoxNQo="}, fetch_files=["result.txt"]),
}
for name, request in cases.items():
    response = run_code(request, max_attempts=1)
    run = response.run_result
    print(json.dumps({"case": name, "status": response.status.value,
                      "run_status": run.status.value, "return_code": run.return_code,
                      "stdout": run.stdout, "stderr": run.stderr, "files": response.files}))
