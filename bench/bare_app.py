"""The floor the ingest figures are read against: a bare Litestar endpoint that decodes a JSON body and
answers a small JSON object, on the same server (uvicorn, uvloop, httptools) as the services.

    python bench/bare_app.py PORT
"""

from __future__ import annotations

import sys

import msgspec
import uvicorn
from litestar import Litestar, post


class Body(msgspec.Struct):
    pings: list[dict]


class Answer(msgspec.Struct):
    accepted: int


@post("/v1/pings", status_code=200)
async def pings(data: Body) -> Answer:
    return Answer(accepted=len(data.pings))


app = Litestar([pings], logging_config=None)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None, access_log=False, proxy_headers=False)
