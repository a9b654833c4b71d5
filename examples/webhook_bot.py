#!/usr/bin/env python3
"""A runnable example of an external webhook bot for hitl (Python standard library only).

Start it:   python3 examples/webhook_bot.py 8090
Point a bot at it, e.g. bots/shop-bot.toml:
    [external]
    kind = "webhook"
    url = "http://127.0.0.1:8090/"
Then talk to it:  curl -H "authorization: Bearer $T" -H 'content-type: application/json' \\
    http://127.0.0.1:3000/api/v1/bots/shop-bot/converse/u1 -d '{"type":"text","text":"hello"}'

hitl POSTs {botId, sessionId, channel, userId, user:{fullName, avatarUrl}, message:{type,…}} for each
user message the bot may see (none while the conversation is paused). The bot answers with
{"messages":[…], "actions":[{"type":"pause"|"unpause", "reason"?} | {"type":"notify", "message", "level"?, "url"?}]}.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


def answer(event):
    message = event.get("message", {})
    text = message.get("text") or message.get("payload") or ""
    name = (event.get("user") or {}).get("fullName") or event.get("userId")
    if "human" in text.lower():
        return {
            "messages": [{"type": "text", "text": "I am asking a person to join."}],
            "actions": [
                {"type": "pause", "reason": "user asked for a human"},
                {"type": "notify", "message": f"{name} wants to talk to a human", "level": "warning"},
            ],
        }
    return {
        "messages": [{
            "type": "quick_replies",
            "text": f"You said: {text}. Anything else?",
            "quickReplies": [{"title": "Talk to a human", "payload": "human please"}],
        }]
    }


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("content-length", 0))
        body = json.dumps(answer(json.loads(self.rfile.read(length) or b"{}"))).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8090
    print(f"webhook bot listening on http://127.0.0.1:{port}/")
    HTTPServer(("127.0.0.1", port), Handler).serve_forever()
