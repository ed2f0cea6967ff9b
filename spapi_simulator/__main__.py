"""Serve the SP-API simulator until interrupted: ``python -m spapi_simulator``."""
import argparse
import logging
import signal
import sys
import threading

from . import generate_scenario
from .server import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, Simulator


def say(text, stream=None):
    """A line on stdout (the URL is the command's output: scripts read it), flushed at once."""
    stream = stream or sys.stdout
    stream.write(text + "\n")
    stream.flush()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default="demo", help="scenario JSON file, or 'demo' (default)")
    parser.add_argument("--generate", type=int, metavar="N_ORDERS",
                        help="serve a generated scenario with this many orders instead")
    parser.add_argument("--port", type=int, default=8070)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--speed", type=float, default=1.0, help="multiplies Amazon's usage-plan rates")
    parser.add_argument("--no-validate", action="store_true", help="do not check traffic against Amazon's models")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    scenario = generate_scenario(n_orders=args.generate, n_listings=max(10, args.generate // 10)) \
        if args.generate else args.scenario
    sim = Simulator(scenario, speed=args.speed, port=args.port, validate=not args.no_validate, host=args.host)
    sim.start()
    say(f"SP-API simulator on {sim.url} (LWA token URL {sim.token_url})")
    say(f"  seller {sim.seller_id}, marketplace {sim.marketplace_id}; client id {CLIENT_ID}, "
        f"secret {CLIENT_SECRET}, refresh token {REFRESH_TOKEN}")
    say(f"  validation against Amazon's models: {'on' if sim.validating else 'off'}")
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while not done.wait(1):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
        if sim.contract_violations:
            say(f"{len(sim.contract_violations)} contract violation(s):", sys.stderr)
            for text in sim.contract_violations[:50]:
                say("  " + text, sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
