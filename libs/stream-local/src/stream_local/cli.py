"""``stream-local``: run the services on a local moto server, with Lambda's semantics.

  stream-local up                 moto + every services/*/serverless.yml + the runtime
  stream-local deploy SERVICE     package and deploy one service into the running system
  stream-local send EVENT         put a domain event (JSON, @file or -) on the bus
  stream-local tail               follow every event on the bus
  stream-local ls                 what is deployed
  stream-local clock +2h          move the running system's clock (TTL, record age)
  stream-local invoke FN [EVENT]  run one function once (--interactive for breakpoint())
  stream-local demo               the reference scenario
  stream-local new NAME --from rest-bff   copy a service as the template of a new one

Commands other than ``up`` and ``demo`` attach to the running system: ``--endpoint``, else
``STREAM_LOCAL_ENDPOINT``, else the endpoint ``up`` wrote to ``.stream-local/endpoint``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .chaos import Chaos
from .cloud import Cloud, CloudError
from .describe import describe
from .local import LocalSystem, find_services, load_clock, save_clock, send_event
from .log import DeliveryLog
from .registry import Registry
from .runtime import Clock, RuntimeOptions

__all__ = ["main", "parse_duration"]

ENDPOINT_FILE = Path(".stream-local") / "endpoint"
LAMBDA_ENDPOINT_FILE = Path(".stream-local") / "lambda-endpoint"  # up's Invoke API


def find_root(start: Path | None = None) -> Path:
    """The repository root: the nearest folder with ``package.json`` and ``pyproject.toml``."""
    start = (start or Path.cwd()).resolve()
    for folder in [start, *start.parents]:
        if (folder / "package.json").exists() and (folder / "pyproject.toml").exists():
            return folder
    return start


def parse_duration(text: str) -> float:
    """``+2h``, ``-30m``, ``90s``, ``1d12h``, ``3600`` -> seconds."""
    text = text.strip()
    sign = -1.0 if text.startswith("-") else 1.0
    body = text.lstrip("+-")
    if re.fullmatch(r"\d+(\.\d+)?", body):
        return sign * float(body)
    parts = re.findall(r"(\d+(?:\.\d+)?)([dhms])", body)
    if not parts or "".join(n + u for n, u in parts) != body:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (try +2h, 30m, 1d)")
    unit = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    return sign * sum(float(n) * unit[u] for n, u in parts)


def _endpoint(args: argparse.Namespace) -> str:
    endpoint = args.endpoint or os.environ.get("STREAM_LOCAL_ENDPOINT")
    if not endpoint:
        path = find_root() / ENDPOINT_FILE
        if path.exists():
            endpoint = path.read_text().strip()
    if not endpoint:
        raise SystemExit("no running system: start `stream-local up` or pass --endpoint URL")
    return endpoint


def _attach(args: argparse.Namespace) -> Cloud:
    try:
        return Cloud.attach(_endpoint(args))
    except CloudError as err:
        raise SystemExit(f"{err} (is `stream-local up` still running?)") from None


def _options(args: argparse.Namespace) -> RuntimeOptions:
    return RuntimeOptions(
        rest_port=args.rest_port,
        lambda_port=args.lambda_port,
        interactive=frozenset(args.interactive or ()),
        inline=frozenset(args.inline or ()),
        firehose_interval_cap=args.firehose_interval,
        watch_faults=True,
        chaos=args.chaos,
        concurrency=args.concurrency,
    )


def _services(args: argparse.Namespace) -> list[Path]:
    if args.services:
        return [Path(s) for s in args.services]
    found = find_services(find_root())
    if not found:
        raise SystemExit("no services/*/serverless.yml found; name the service folders to run")
    return found


# ---- commands ---------------------------------------------------------------------------


def cmd_up(args: argparse.Namespace) -> int:
    root = find_root()
    local = LocalSystem(
        _services(args),
        endpoint=args.endpoint,
        stage=args.stage,
        options=_options(args),
        clock=Clock(args.clock or 0.0),
        reuse_packages=not args.repackage,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    started = time.monotonic()
    local.start()
    assert local.cloud is not None and local.runtime is not None
    endpoint = local.cloud.endpoint
    endpoint_file = root / ENDPOINT_FILE
    endpoint_file.parent.mkdir(exist_ok=True)
    endpoint_file.write_text(endpoint)
    lambda_file = root / LAMBDA_ENDPOINT_FILE
    lambda_url = local.runtime.lambda_api.url if local.runtime.lambda_api else None
    if lambda_url:
        lambda_file.write_text(lambda_url)
    save_clock(local.cloud, local.clock.offset)
    print(describe(local.registry, rest_url=local.runtime.rest.url if local.runtime.rest else None))
    print(f"==> up in {time.monotonic() - started:.1f} s; endpoint {local.cloud.endpoint}")
    print("    export AWS_ENDPOINT_URL=" + local.cloud.endpoint + "  (for your own boto3/aws cli)")
    if local.runtime.lambda_api is not None:
        print(
            "    export AWS_ENDPOINT_URL_LAMBDA="
            + local.runtime.lambda_api.url
            + "  (Lambda Invoke runs the local functions)"
        )
    print("    Ctrl-C stops everything. Live log:")
    try:
        _serve(local, stop)
    except KeyboardInterrupt:
        pass
    finally:
        print("\n==> stopping")
        local.stop()
        if args.chaos is not None:
            print("    " + args.chaos.summary())
        if endpoint_file.exists() and endpoint_file.read_text() == endpoint:
            endpoint_file.unlink()
        if lambda_url and lambda_file.exists() and lambda_file.read_text() == lambda_url:
            lambda_file.unlink()
    return 0


def _serve(local: LocalSystem, stop: threading.Event) -> None:
    """Follow other commands: redeployed services (the registry on moto) and the clock."""
    assert local.cloud is not None and local.runtime is not None
    seen = _fingerprint(local.registry)
    while not stop.wait(1.0):
        registry = Registry.load(local.cloud)
        now = _fingerprint(registry)
        if now != seen:
            seen = now
            local.registry = registry
            local.runtime.reload(registry)
            local.log.notice("registry changed: runtime reloaded")
        offset = load_clock(local.cloud)
        if offset is not None and offset != local.clock.offset:
            local.clock.offset = offset
            local.log.notice(f"clock offset now {offset:+.0f} s")


def _fingerprint(registry: Registry) -> str:
    deployments = {k: d.to_json() for k, d in registry.deployments.items()}
    return json.dumps(deployments, sort_keys=True, default=str)


def cmd_deploy(args: argparse.Namespace) -> int:
    cloud = _attach(args)
    local = LocalSystem(
        [Path(s) for s in args.services], stage=args.stage, reuse_packages=not args.repackage
    )
    local.cloud = cloud
    local.registry = Registry.load(cloud)
    local.deploy_all()
    print("==> deployed; a running `stream-local up` picks the change up within a second")
    return 0


def _read_events(text: str) -> list[dict[str, Any]]:
    if text == "-":
        text = sys.stdin.read()
    elif text.startswith("@"):
        text = Path(text[1:]).read_text()
    value = json.loads(text)
    return value if isinstance(value, list) else [value]


def cmd_send(args: argparse.Namespace) -> int:
    cloud = _attach(args)
    local = LocalSystem([], say=lambda _: None)
    local.cloud, local.registry = cloud, Registry.load(cloud)
    bus = local.bus(args.bus)
    for event in _read_events(args.event):
        event_id = send_event(cloud.client("events"), bus, event, source=args.source or "")
        print(f"sent {event.get('type')} to {bus} (event id {event_id})")
    return 0


def cmd_tail(args: argparse.Namespace) -> int:
    cloud = _attach(args)
    local = LocalSystem([], say=lambda _: None)
    local.cloud, local.registry = cloud, Registry.load(cloud)
    bus = local.bus(args.bus)
    events, sqs = cloud.client("events"), cloud.client("sqs")
    name = f"stream-local-tail-{os.getpid()}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    events.put_rule(Name=name, EventBusName=bus, EventPattern=args.pattern)
    events.put_targets(
        Rule=name, EventBusName=bus, Targets=[{"Id": "tail", "Arn": arn["QueueArn"]}]
    )
    log = DeliveryLog(sys.stdout)
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"following {bus} (pattern {args.pattern}); Ctrl-C stops")
    try:
        while True:
            for message in sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            ).get("Messages", []):
                envelope = json.loads(message["Body"])
                detail = envelope.get("detail")
                line = json.dumps(envelope if args.raw else detail, separators=(",", ":"))
                kind = envelope.get("detail-type")
                if kind == "fault":
                    log.fault(f"{envelope.get('source')}: {line}")
                else:
                    log.notice(f"{kind}  {envelope.get('source')}  {line}")
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    except KeyboardInterrupt:
        pass
    finally:
        events.remove_targets(Rule=name, EventBusName=bus, Ids=["tail"])
        events.delete_rule(Name=name, EventBusName=bus)
        sqs.delete_queue(QueueUrl=url)
    return 0


def _interrupt(*_: Any) -> None:
    raise KeyboardInterrupt


def cmd_ls(args: argparse.Namespace) -> int:
    cloud = _attach(args)
    print(describe(Registry.load(cloud), endpoint=cloud.endpoint))
    return 0


def cmd_clock(args: argparse.Namespace) -> int:
    cloud = _attach(args)
    offset = load_clock(cloud) or 0.0
    if args.offset is not None:
        offset = args.offset if args.absolute else offset + args.offset
        save_clock(cloud, offset)
    now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + offset))
    print(f"clock offset {offset:+.0f} s: the runtime's now is {now} UTC")
    return 0


def cmd_invoke(args: argparse.Namespace) -> int:
    from .runtime import Runtime

    cloud = _attach(args)
    event = _read_events(args.event)[0] if args.event else {}
    running = None if args.interactive or args.inline else _running_invoke_api(cloud.endpoint)
    if running is not None:  # up's warm workers: in its live log, no cold start
        code = _invoke_through(running, args.function, event)
        if code is not None:
            return code
    runtime = Runtime(
        cloud,
        Registry.load(cloud),
        log=DeliveryLog(sys.stderr),
        options=RuntimeOptions(
            interactive=frozenset([args.function]) if args.interactive else frozenset(),
            inline=frozenset([args.function]) if args.inline else frozenset(),
        ),
    )
    try:
        result = runtime.invoke(args.function, event, source="stream-local invoke")
    finally:
        runtime.stop()
    print(json.dumps(result.response if result.ok else result.error, indent=2, default=str))
    return 0 if result.ok else 1


def _running_invoke_api(moto_endpoint: str) -> str | None:
    """The Invoke API of the ``up`` serving ``moto_endpoint``, if it is running."""
    root = find_root()
    try:
        if (root / ENDPOINT_FILE).read_text().strip() != moto_endpoint:
            return None
        return (root / LAMBDA_ENDPOINT_FILE).read_text().strip() or None
    except OSError:
        return None


def _invoke_through(url: str, function: str, event: Any) -> int | None:
    """Invoke ``function`` through the Invoke API at ``url`` and print the response; the exit
    code, or ``None`` if nothing answers there (an ``up`` that did not clean up)."""
    import urllib.error
    import urllib.parse
    import urllib.request

    name = urllib.parse.quote(function, safe="")
    request = urllib.request.Request(
        f"{url}/2015-03-31/functions/{name}/invocations", data=json.dumps(event).encode()
    )
    try:
        with urllib.request.urlopen(request, timeout=960) as response:
            failed = response.headers.get("X-Amz-Function-Error")
            body = json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:  # not found, bad request ...
        print(err.read().decode("utf-8", "replace"), file=sys.stderr)
        return 1
    except urllib.error.URLError as err:
        if isinstance(err.reason, ConnectionRefusedError):
            return None  # nothing listens: the function did not run
        print(f"the Invoke API at {url} failed: {err.reason}", file=sys.stderr)
        return 1
    print(json.dumps(body, indent=2, default=str))
    return 1 if failed else 0


def cmd_demo(args: argparse.Namespace) -> int:
    scenario = Path(args.scenario) if args.scenario else find_root() / "services" / "demo.py"
    if not scenario.exists():
        print(
            f"no demo scenario yet ({scenario} does not exist). A scenario is a Python file\n"
            "with `def run(local): ...` receiving a started stream_local.LocalSystem; the\n"
            "services issue adds the reference one."
        )
        return 0
    namespace: dict[str, Any] = {"__name__": "stream_local_demo", "__file__": str(scenario)}
    exec(compile(scenario.read_text(), str(scenario), "exec"), namespace)
    with LocalSystem(_services(args), stage=args.stage, options=_options(args)) as local:
        return int(namespace["run"](local) or 0)


# ---- parser -----------------------------------------------------------------------------


def _chaos(text: str) -> Chaos:
    try:
        return Chaos.parse(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(
        prog="stream-local", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    commands = main_parser.add_subparsers(dest="command", required=True)

    def command(name: str, handler: Any, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--endpoint", help="a running moto server (default: the one of `up`)")
        sub.set_defaults(handler=handler)
        return sub

    def runtime_flags(sub: argparse.ArgumentParser, lambda_port: int) -> None:
        sub.add_argument("services", nargs="*", help="service folders (default: services/*)")
        sub.add_argument("--stage", default="local")
        sub.add_argument("--rest-port", type=int, default=3000, help="REST API port (3000)")
        sub.add_argument(
            "--concurrency",
            type=int,
            default=4,
            metavar="N",
            help="concurrent invocations (worker processes) per function, unless it has "
            "reservedConcurrency (4)",
        )
        sub.add_argument(
            "--lambda-port",
            type=int,
            default=lambda_port,
            help="Lambda Invoke API port (AWS_ENDPOINT_URL_LAMBDA; 0: any free; %(default)s)",
        )
        sub.add_argument(
            "--interactive",
            action="append",
            metavar="FUNCTION",
            help="this function's worker keeps the terminal (breakpoint())",
        )
        sub.add_argument(
            "--inline",
            action="append",
            metavar="FUNCTION",
            help="run this function inside the runtime process (IDE debugger)",
        )
        sub.add_argument(
            "--firehose-interval",
            type=float,
            metavar="SECONDS",
            help="cap Firehose buffering intervals (AWS default 300 s)",
        )
        sub.add_argument(
            "--chaos",
            type=_chaos,
            metavar="SPEC",
            help="inject failures: 0.05 (handler errors, throttling, duplicates at 5%%) or "
            "handler=0.05,throttle=0.02,duplicate=0.05,burst=0.001,partial=0.1,seed=7 "
            "(stream_local/chaos.py)",
        )

    up = command("up", cmd_up, "moto + every service + the runtime, until Ctrl-C")
    runtime_flags(up, lambda_port=3001)
    up.add_argument("--clock", type=parse_duration, help="start with the clock moved (+2h)")
    up.add_argument("--repackage", action="store_true", help="run serverless even if unchanged")

    deploy = command("deploy", cmd_deploy, "package and deploy services into the running system")
    deploy.add_argument("services", nargs="+")
    deploy.add_argument("--stage", default="local")
    deploy.add_argument("--repackage", action="store_true")

    send = command("send", cmd_send, "put domain events (JSON object or list) on the bus")
    send.add_argument("event", help="JSON text, @file.json or - (stdin)")
    send.add_argument("--bus", help="bus name (default: the hub's)")
    send.add_argument("--source", help="EventBridge source (default: tags.source or stream-local)")

    tail = command("tail", cmd_tail, "follow the bus (faults in red)")
    tail.add_argument("--bus")
    tail.add_argument("--pattern", default='{"source": [{"prefix": ""}]}', help="event pattern")
    tail.add_argument("--raw", action="store_true", help="whole EventBridge envelopes")

    command("ls", cmd_ls, "what is deployed: functions, mappings, rules, tables, APIs")

    clock = command("clock", cmd_clock, "show or move the running system's clock")
    clock.add_argument("offset", nargs="?", type=parse_duration, help="+2h, -30m, 1d ...")
    clock.add_argument("--absolute", action="store_true", help="set the offset, not add to it")

    invoke = command(
        "invoke",
        cmd_invoke,
        "invoke one function once and print its response (through up's warm workers when up runs)",
    )
    invoke.add_argument("function")
    invoke.add_argument("event", nargs="?", help="JSON text, @file.json or -")
    invoke.add_argument("--interactive", action="store_true", help="keep the terminal attached")
    invoke.add_argument("--inline", action="store_true", help="run in this process")

    demo = command("demo", cmd_demo, "play the reference scenario and print what happened")
    runtime_flags(demo, lambda_port=0)  # the scenario reads the url from its runtime
    demo.add_argument("--scenario", help="a scenario file (default: services/demo.py)")

    from .newservice import add_parser as add_new

    add_new(commands)
    return main_parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except BrokenPipeError:  # `stream-local ls | head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
