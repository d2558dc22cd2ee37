"""A bare Flask endpoint, served by gunicorn exactly as the app is: the yardstick for throughput."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def ok() -> str:
    return "ok"
