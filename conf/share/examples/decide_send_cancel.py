#!/usr/bin/env python3
"""
A pacerd client (Python 3 standard library only): decide -> send -> cancel,
the way every client should.

  decide_send_cancel.py --customer C --channel CH [--campaign X] [--offer O]
                        [--url URL] [--token TOKEN] [--timeout S]
                        [--attempts N] [--max-wait S] [--send-id ID]
                        [--send-fails]

URL and TOKEN default to $PACER_URL (http://127.0.0.1:8425) and
$PACER_TOKEN. "Sending" is simulated (--send-fails makes it fail).

- One send_id per send, repeated on every retry of that send: pacerd then
  answers a retry with the first answer and never counts the send twice.
- Timeouts, connection errors and 503 are retried (--attempts in all) after
  a growing pause, or after the answer's Retry-After.
- 409 send_id_conflict means this client reused an id for another send: a
  bug, never retried.
- A denial with retry_after is asked again after that long (if within
  --max-wait) with a NEW send_id: the old one keeps its denial.
- A send that fails after an allow is cancelled, so its reservation stops
  counting.

Prints one line per step; exit status: 0 sent, 4 denied, 5 send failed
(cancelled), 1 bad request, 2 pacerd unreachable, 3 send_id conflict.
"""

import argparse
import http.client
import json
import os
import socket
import sys
import time
import urllib.parse
import uuid


class Unreachable(Exception):
    """pacerd did not answer within the attempts."""


def call(args, method, path, body):
    """One request with retries; (status, parsed body)."""
    url = urllib.parse.urlsplit(args.url)
    conn_class = (http.client.HTTPSConnection if url.scheme == "https"
                  else http.client.HTTPConnection)
    headers = {"Content-Type": "application/json"}
    if args.token:
        headers["Authorization"] = "Bearer " + args.token
    data = json.dumps(body).encode()
    pause = 0.1
    for attempt in range(1, args.attempts + 1):
        conn = conn_class(url.hostname, url.port, timeout=args.timeout)
        try:
            conn.request(method, path, data, headers)
            resp = conn.getresponse()
            status, text = resp.status, resp.read()
            retry_after = resp.getheader("Retry-After")
        except (OSError, socket.timeout, http.client.HTTPException) as e:
            print("%s %s attempt=%d error=%r" % (method, path, attempt, str(e)))
            status, retry_after = None, None
        finally:
            conn.close()
        if status is not None and status != 503:
            return status, json.loads(text)
        if status == 503:
            print("%s %s attempt=%d status=503" % (method, path, attempt))
        if attempt == args.attempts:
            break
        wait = pause
        if retry_after is not None and retry_after.isdigit():
            wait = max(wait, int(retry_after))
        time.sleep(wait)
        pause = min(pause * 2, 2.0)
    raise Unreachable("%s %s: no answer after %d attempts"
                      % (method, path, args.attempts))


def send(args, send_id):
    """Deliver the message (simulated here); True when it went out."""
    print("send send_id=%s ok=%s" % (send_id, not args.send_fails))
    return not args.send_fails


def run(args):
    send_id = args.send_id or uuid.uuid4().hex
    deadline = time.monotonic() + args.max_wait
    while True:
        req = {"customer": args.customer, "channel": args.channel,
               "send_id": send_id}
        if args.campaign:
            req["campaign"] = args.campaign
        if args.offer:
            req["offer"] = args.offer
        status, answer = call(args, "POST", "/v1/decide", req)
        if status == 409 and answer.get("code") == "send_id_conflict":
            print("bug: send_id %s already names another send: %s"
                  % (send_id, answer["error"]))
            return 3
        if status != 200:
            print("refused status=%d code=%s error=%r"
                  % (status, answer.get("code"), answer.get("error")))
            return 1
        print("decide send_id=%s allow=%s reason=%s retry_after=%s"
              % (send_id, str(answer["allow"]).lower(), answer["reason"],
                 answer.get("retry_after", "")))
        if answer["allow"]:
            break
        wait = answer.get("retry_after")
        if wait is None or time.monotonic() + wait > deadline:
            return 4
        time.sleep(wait + 0.2)
        send_id = uuid.uuid4().hex       # the old id keeps its denial
    if send(args, send_id):
        return 0
    status, answer = call(args, "POST", "/v1/cancel",
                          {"customer": args.customer, "send_id": send_id})
    print("cancel send_id=%s status=%d released=%s"
          % (send_id, status, str(answer.get("released")).lower()))
    return 5


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", default=os.environ.get("PACER_URL",
                                                   "http://127.0.0.1:8425"))
    p.add_argument("--token", default=os.environ.get("PACER_TOKEN", ""))
    p.add_argument("--customer", required=True)
    p.add_argument("--channel", required=True)
    p.add_argument("--campaign")
    p.add_argument("--offer")
    p.add_argument("--send-id", help="default: a fresh one")
    p.add_argument("--timeout", type=float, default=2.0,
                   help="seconds for one request (default 2)")
    p.add_argument("--attempts", type=int, default=5,
                   help="tries per request on timeouts and 503 (default 5)")
    p.add_argument("--max-wait", type=float, default=0.0,
                   help="seconds a denial may be waited out (default 0)")
    p.add_argument("--send-fails", action="store_true",
                   help="simulate a failed send (it is then cancelled)")
    args = p.parse_args()
    try:
        return run(args)
    except Unreachable as e:
        print(e)
        return 2


if __name__ == "__main__":
    sys.exit(main())
