"""A bare Flask "hello" route: the yardstick the status page's throughput is compared with.

    gunicorn -c config/gunicorn.conf.py bench.hello:app
"""
from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello():
    return "hello"
